package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.dts.model.ItemResult;
import io.dts.redis.RedisKeys;
import io.dts.testsupport.RedisConnections;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Watching and driving a fan-out from outside: the events stream, the results export, and the
 * {@code scripts/dts} command line client, run as a user would run it, against a real scheduler (with a
 * 64 MB heap, so that streaming is proven, not assumed) and two workers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WatchAndExportEndToEndTest {

    private static final Duration TASK_TIMEOUT = Duration.ofSeconds(60);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Path DTS = Path.of("..", "scripts", "dts").toAbsolutePath().normalize();

    private final Cluster cluster = new Cluster(List.of("--scheduler.max-items=200000"), List.of());
    private ServiceProcess scheduler;
    private SchedulerClient client;

    @BeforeAll
    void startCluster() {
        scheduler = cluster.startScheduler("64m");
        client = cluster.client();
        cluster.startWorkers(2);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        cluster.close();
    }

    @Test
    void the_events_stream_sends_a_snapshot_then_progress_at_most_once_a_second_then_the_final_status_and_ends() throws Exception {
        String id = client.submit(SchedulerClient.taskJson("sleep 0.3; echo $1", SchedulerClient.numbers(24)));

        List<Event> events = new ArrayList<>();
        HttpRequest request = HttpRequest.newBuilder(URI.create(scheduler.baseUrl() + "/api/tasks/" + id + "/events"))
                .header("Authorization", "Bearer " + SharedKeys.operatorToken()).header("Accept", "text/event-stream").build();
        HttpResponse<InputStream> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String name = null;
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("event:")) {
                    name = line.substring("event:".length()).strip();
                } else if (line.startsWith("data:")) {
                    events.add(new Event(name, System.nanoTime(), JSON.readTree(line.substring("data:".length()).strip())));
                }
            }
        }

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        assertThat(events.get(0).name()).isEqualTo("snapshot");
        assertThat(events.get(events.size() - 1).name()).isEqualTo("status");
        assertThat(events.get(events.size() - 1).task().get("status").asString()).isEqualTo("COMPLETED");
        assertThat(events.get(events.size() - 1).task().get("itemsSucceeded").asLong()).isEqualTo(24);
        List<Event> progress = events.stream().filter(event -> event.name().equals("progress")).toList();
        assertThat(progress).as("the task ran for seconds").isNotEmpty();
        assertThat(progress).anySatisfy(event -> assertThat(event.task().get("itemsRunning").asLong()).isPositive());
        for (int i = 1; i < progress.size(); i++) {
            assertThat(progress.get(i).at() - progress.get(i - 1).at()).as("coalesced").isGreaterThan(TimeUnit.MILLISECONDS.toNanos(900));
        }
        assertThat(events.get(events.size() - 1).task().get("command")).isNotNull();
    }

    @Test
    void the_results_of_100000_items_stream_as_csv_and_jsonl_from_a_scheduler_with_64_mb_of_heap() throws Exception {
        // 100,000 results of 1 KB each (100 MB, more than the scheduler's heap), written straight into Redis:
        // running 100,000 items would take the suite a minute and prove nothing more about the export.
        int count = 100_000;
        String id = client.submit(SchedulerClient.taskJson("sleep 60", SchedulerClient.numbers(count)));
        client.post("/api/tasks/" + id + "/cancel", "application/json", "");
        cluster.awaitTerminal(id, TASK_TIMEOUT);
        LettuceConnectionFactory connections = RedisConnections.toServer();
        try {
            StringRedisTemplate redis = new StringRedisTemplate(connections);
            String output = "x".repeat(1000);
            Map<String, String> batch = new HashMap<>();
            for (int i = 0; i < count; i++) {
                batch.put(String.valueOf(i), JSON.writeValueAsString(
                        ItemResult.ran(i, String.valueOf(i), i % 1000 == 0 ? 3 : 0, false, output, false, "", false, 1, 1, "w", 0)));
                if (batch.size() == 2_000) {
                    redis.opsForHash().putAll(RedisKeys.results(id), batch);
                    batch.clear();
                }
            }
        } finally {
            connections.destroy();
        }

        List<String> csv = lines(client.getText("/api/tasks/" + id + "/results?format=csv"));
        List<String> failedJsonl = lines(client.getText("/api/tasks/" + id + "/results?format=jsonl&failed=true"));

        assertThat(csv).hasSize(count + 1);
        assertThat(csv.get(0)).isEqualTo("index,item,exitCode,timedOut,skipped,durationMs,attempts,workerId,stdout,stderr");
        assertThat(csv.get(1)).startsWith("0,0,3,false,false,1,1,w,xxx");
        assertThat(failedJsonl).hasSize(count / 1000);
        assertThat(JSON.readTree(failedJsonl.get(1)).get("index").asLong()).isEqualTo(1000);
        assertThat(scheduler.isAlive()).isTrue();
    }

    @Test
    void the_command_line_client_submits_waits_and_exits_with_the_number_of_failed_items() throws Exception {
        Run submit = dts("a\nb\nc\nd\n", "submit", "-v", "word=hello", "--items-from", "-", "--retries", "0", "--wait",
                "[ \"$1\" = b ] || [ \"$1\" = d ] && exit 1; echo {{word}}-$1");
        String id = submit.stdout().strip();

        Run results = dts("", "results", id);
        Run failedCsv = dts("", "results", "--failed", "--format", "csv", id);
        Run status = dts("", "status", id);
        Run list = dts("", "list", "--limit", "5");
        Run workers = dts("", "workers");

        assertThat(submit.exitCode()).as(submit.stderr()).isEqualTo(2);
        assertThat(id).matches("[0-9a-f-]{36}");
        assertThat(results.exitCode()).isZero();
        assertThat(results.stdout().lines().toList()).hasSize(5)
                .first().asString().startsWith("index\titem\texitCode");
        assertThat(results.stdout()).contains("0\ta\t0\tfalse\tfalse").contains("hello-a\\n");
        assertThat(failedCsv.stdout().lines().skip(1).map(line -> line.split(",")[1]).toList()).containsExactly("b", "d");
        assertThat(JSON.readTree(status.stdout()).get("status").asString()).isEqualTo("FAILED");
        assertThat(list.stdout()).contains(id);
        assertThat(workers.stdout().lines().count()).isEqualTo(3);
    }

    @Test
    void watch_prints_progress_lines_when_not_on_a_terminal_and_cancel_and_retry_drive_the_task() throws Exception {
        String slow = dts("x\n", "submit", "--items-from", "-", "sleep 30 # {{item}}").stdout().strip();
        Run cancel = dts("", "cancel", slow);
        Run watchCancelled = dts("", "watch", slow);

        String once = dts("x\n", "submit", "--items-from", "-", "--wait", "exit 4").stdout().strip();
        Run retry = dts("", "retry", once);
        Run waitAgain = dts("", "wait", once);
        Run watch = dts("", "watch", once);

        assertThat(cancel.stdout()).isEqualTo(slow + " CANCELLED\n");
        assertThat(watchCancelled.exitCode()).isEqualTo(255);
        assertThat(retry.stdout()).startsWith(once + " ");
        assertThat(waitAgain.exitCode()).isEqualTo(1);
        assertThat(watch.stderr()).contains("status 100% 1/1 done, 1 failed");
        assertThat(watch.exitCode()).isEqualTo(1);
    }

    @Test
    void every_subcommand_has_help_and_a_bad_call_exits_255_with_one_line() throws Exception {
        for (String command : List.of("submit", "status", "watch", "wait", "results", "cancel", "retry", "list", "workers")) {
            Run help = dts("", command, "--help");
            assertThat(help.exitCode()).as(command).isZero();
            assertThat(help.stdout()).as(command).startsWith("usage: dts " + command);
        }
        Run unknown = dts("", "status", "00000000-0000-0000-0000-000000000000");
        Run badHalt = dts("", "submit", "--halt", "sometimes", "true");

        assertThat(unknown.exitCode()).isEqualTo(255);
        assertThat(unknown.stderr().lines().count()).isEqualTo(1);
        assertThat(unknown.stderr()).contains("HTTP 404");
        assertThat(badHalt.exitCode()).isEqualTo(255);
    }

    private Run dts(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(DTS.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("DTS_URL", scheduler.baseUrl());
        builder.environment().put("DTS_TOKEN", SharedKeys.operatorToken());
        Process process = builder.start();
        process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(TASK_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("dts " + String.join(" ", args) + " did not end");
        }
        return new Run(process.exitValue(), stdout, stderr);
    }

    private static List<String> lines(String text) {
        return text.lines().toList();
    }

    private record Run(int exitCode, String stdout, String stderr) {
    }

    private record Event(String name, long at, JsonNode task) {
    }
}
