package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * Lose nothing, count nothing twice: workers and schedulers killed, Kafka and Redis stopped, cancel,
 * timeouts and retries, all against the real processes. Recovery times are printed for docs/operations.md.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FailureHandlingEndToEndTest {

    private final Cluster cluster = new Cluster(
            List.of("--scheduler.sweep-interval=500ms", "--scheduler.sweep-grace=8s", "--scheduler.stall-timeout=15s",
                    "--scheduler.retention=20s", "--pubsub.publish-backoff=500ms", "--pubsub.publish-max-backoff=2s",
                    // the lock of a killed scheduler frees itself within the test's patience
                    "--scheduler.shard-publish-timeout=3s", "--scheduler.sweep-lease=5s"),
            List.of("--spring.kafka.consumer.properties.max.poll.interval.ms=4000"));

    @TempDir
    Path dir;

    @BeforeAll
    void startCluster() {
        cluster.startScheduler();
        cluster.startWorkers(2);
    }

    @BeforeEach
    void letItemsWrite() {
        ItemFiles.writableByItems(dir);
    }

    /** Every test leaves the cluster whole for the next. */
    @AfterEach
    void restoreCluster() {
        cluster.kafka().start();
        cluster.redis().start();
        if (!cluster.scheduler().isAlive()) {
            cluster.startScheduler();
        }
        cluster.startWorkers(2);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        cluster.close();
    }

    private SchedulerClient client() {
        return cluster.client();
    }

    private static String items(int count) {
        return IntStream.range(0, count).mapToObj(i -> "\"" + i + "\"").collect(Collectors.joining(","));
    }

    /** How many times each item ran, from the lines the command appended to {@code runs}. */
    private Map<String, Long> runsPerItem(Path runs) throws IOException {
        return Files.exists(runs) ? Files.readAllLines(runs).stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()))
                : Map.of();
    }

    private static void assertEveryIndexRecordedOnce(JsonNode results, int count) {
        assertThat(results).hasSize(count);
        for (int i = 0; i < count; i++) {
            assertThat(results.get(i).get("index").asInt()).isEqualTo(i);
            assertThat(results.get(i).get("exitCode").asInt()).isZero();
        }
    }

    @ParameterizedTest(name = "worker killed once {0} items are recorded")
    @ValueSource(ints = {1, 16})
    void a_worker_killed_mid_shard_has_its_unrecorded_items_run_on_a_live_worker(int killAfterItems) throws Exception {
        Path runs = dir.resolve("runs-" + killAfterItems);
        String id = client().submit("""
                {"templateFunction":"sleep 0.4; echo $1 >> %s; echo done-$1","inputList":[%s]}
                """.formatted(runs, items(40)));
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> client().task(id).get("itemsSucceeded").asLong() >= killAfterItems);
        long killedAt = System.nanoTime();
        cluster.worker(2).kill();

        JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(60));
        double recoverySeconds = (System.nanoTime() - killedAt) / 1e9;
        System.out.printf("RECOVERY worker SIGKILL after %d items: task finished %.1f s after the kill%n", killAfterItems, recoverySeconds);

        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(40);
        assertThat(done.get("itemsFailed").asLong()).isZero();
        assertThat(done.get("chunksExecuted").asInt()).isEqualTo(2);
        JsonNode results = client().get("/api/tasks/" + id + "/results?limit=100").body();
        assertEveryIndexRecordedOnce(results, 40);
        assertThat(results.valueStream().map(r -> r.get("workerId").asString())).contains("worker-1");
        assertThat(runsPerItem(runs)).hasSize(40);
        assertThat(recoverySeconds).as("done within 15 s plus the remaining 4 s of work").isLessThan(19 + 6);
    }

    @Test
    void an_item_longer_than_the_max_poll_interval_runs_exactly_once() throws Exception {
        Path runs = dir.resolve("long-runs");
        String id = client().submit("""
                {"templateFunction":"sleep 6; echo $1 >> %s","inputList":["slow-a","slow-b"]}
                """.formatted(runs));

        JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(60));

        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(runsPerItem(runs)).containsOnly(Map.entry("slow-a", 1L), Map.entry("slow-b", 1L));
    }

    @Test
    void while_kafka_is_down_tasks_are_accepted_then_run_once_it_is_back() throws Exception {
        cluster.kafka().stop();
        List<String> ids = List.of(client().submit("{\"templateFunction\":\"echo $1\",\"inputList\":[\"k1\",\"k2\"]}"),
                client().submit("{\"templateFunction\":\"echo $1\",\"inputList\":[\"k3\"]}"));
        for (String id : ids) {
            assertThat(client().task(id).get("status").asString()).isIn("QUEUED", "RETRYING");
        }
        await("publishing is retried").atMost(Duration.ofSeconds(30))
                .until(() -> "RETRYING".equals(client().task(ids.get(0)).get("status").asString()));
        assertThat(client().task(ids.get(0)).get("lastError").asString()).contains("Kafka");

        long restartedAt = System.nanoTime();
        cluster.kafka().start();

        for (String id : ids) {
            assertThat(cluster.awaitTerminal(id, Duration.ofSeconds(90)).get("status").asString()).isEqualTo("COMPLETED");
        }
        System.out.printf("RECOVERY Kafka restart: queued tasks finished %.1f s after the broker was back%n",
                (System.nanoTime() - restartedAt) / 1e9);
        assertThat(client().task(ids.get(0)).get("itemsSucceeded").asLong()).isEqualTo(2);
    }

    @Test
    void a_task_whose_scheduler_died_before_publishing_is_finished_by_another_scheduler() throws Exception {
        cluster.kafka().stop();
        String id = client().submit("{\"templateFunction\":\"echo $1\",\"inputList\":[\"orphan\"]}");
        cluster.scheduler().kill();
        cluster.kafka().start();

        long restartedAt = System.nanoTime();
        cluster.startScheduler();

        JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(60));
        System.out.printf("RECOVERY scheduler killed before publish: task finished %.1f s after a new scheduler started%n",
                (System.nanoTime() - restartedAt) / 1e9);
        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(client().get("/api/tasks/" + id + "/results").body().get(0).get("stdout").asString()).isEqualTo("orphan\n");
    }

    @Test
    void while_redis_is_down_the_api_answers_503_and_after_a_kill_9_a_running_task_still_finishes_exactly() {
        String id = client().submit("""
                {"templateFunction":"sleep 0.3; echo $1","inputList":[%s]}
                """.formatted(items(20)));
        await().atMost(Duration.ofSeconds(10)).until(() -> client().task(id).get("itemsSucceeded").asLong() > 0);

        cluster.redis().kill();
        SchedulerClient.Response down = client().get("/api/tasks/" + id);
        assertThat(down.status()).isEqualTo(503);
        assertThat(down.contentType()).startsWith("application/problem+json");
        long restartedAt = System.nanoTime();
        cluster.redis().start();

        JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(60));
        System.out.printf("RECOVERY Redis kill -9: task finished %.1f s after Redis was back%n", (System.nanoTime() - restartedAt) / 1e9);
        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(20);
        assertEveryIndexRecordedOnce(client().get("/api/tasks/" + id + "/results").body(), 20);
    }

    @Test
    void cancel_kills_the_running_processes_and_starts_no_more_items() throws IOException {
        String marker = "29." + ThreadLocalRandom.current().nextInt(100_000, 999_999);
        Path runs = dir.resolve("cancel-runs");
        String id = client().submit("""
                {"templateFunction":"echo $1 >> %s; sleep %s","inputList":[%s]}
                """.formatted(runs, marker, items(20)));
        await("four items running").atMost(Duration.ofSeconds(20)).until(() -> linesOf(runs) >= 4);
        assertThat(processesWith(marker)).isNotEmpty();
        long startedBeforeCancel = linesOf(runs);

        SchedulerClient.Response cancel = client().post("/api/tasks/" + id + "/cancel", "application/json", "");
        long cancelledAt = System.nanoTime();

        assertThat(cancel.status()).isEqualTo(200);
        assertThat(cancel.body().get("status").asString()).isEqualTo("CANCELLED");
        await("no process of the task left").atMost(Duration.ofSeconds(3)).until(() -> processesWith(marker).isEmpty());
        System.out.printf("RECOVERY cancel: processes gone %.2f s after the cancel%n", (System.nanoTime() - cancelledAt) / 1e9);
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> linesOf(runs) == startedBeforeCancel);
        assertThat(client().task(id).get("status").asString()).isEqualTo("CANCELLED");
        SchedulerClient.Response again = client().post("/api/tasks/" + id + "/cancel", "application/json", "");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.contentType()).startsWith("application/problem+json");
    }

    private static List<ProcessHandle> processesWith(String marker) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(args -> Arrays.asList(args).contains(marker)).orElse(false)
                        || p.info().commandLine().orElse("").contains("sleep " + marker))
                .toList();
    }

    private static long linesOf(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file).size() : 0;
    }

    @Test
    void a_timed_out_item_is_killed_retried_and_reported_with_its_attempts() {
        String id = client().submit("""
                {"templateFunction":"sleep 30","inputList":["stuck"],"timeoutSeconds":1,"maxRetries":1}
                """);

        JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(30));

        assertThat(done.get("status").asString()).isEqualTo("FAILED");
        JsonNode result = client().get("/api/tasks/" + id + "/results").body().get(0);
        assertThat(result.get("timedOut").asBoolean()).isTrue();
        assertThat(result.get("exitCode").asInt()).isEqualTo(124);
        assertThat(result.get("attempts").asInt()).isEqualTo(2);
    }

    @Test
    void a_failing_item_is_retried_until_it_succeeds() {
        String id = client().submit("""
                {"templateFunction":"if [ -f %1$s/$1 ]; then echo second-try; else touch %1$s/$1; exit 1; fi",
                 "inputList":["flaky"],"maxRetries":2}
                """.formatted(dir));

        JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(30));

        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        JsonNode result = client().get("/api/tasks/" + id + "/results").body().get(0);
        assertThat(result.get("attempts").asInt()).isEqualTo(2);
        assertThat(result.get("stdout").asString()).isEqualTo("second-try\n");
    }

    @Test
    void retry_failed_runs_again_only_the_failed_items_of_the_same_task() throws Exception {
        Path runs = dir.resolve("retry-runs");
        Path inputs = Files.createDirectories(dir.resolve("inputs"));
        Files.writeString(inputs.resolve("a"), "present");
        String id = client().submit("""
                {"templateFunction":"echo $1 >> %s; cat %s/$1","inputList":["a","b","c"]}
                """.formatted(runs, inputs));
        JsonNode failed = cluster.awaitTerminal(id, Duration.ofSeconds(30));
        assertThat(failed.get("status").asString()).isEqualTo("FAILED");
        assertThat(failed.get("itemsFailed").asLong()).isEqualTo(2);

        Files.writeString(inputs.resolve("b"), "now");
        Files.writeString(inputs.resolve("c"), "here");
        SchedulerClient.Response retry = client().post("/api/tasks/" + id + "/retry-failed", "application/json", "");
        assertThat(retry.status()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(30)).until(() -> "COMPLETED".equals(client().task(id).get("status").asString()));
        JsonNode done = client().task(id);
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(3);
        assertThat(done.get("itemsFailed").asLong()).isZero();
        assertThat(runsPerItem(runs)).containsOnly(Map.entry("a", 1L), Map.entry("b", 2L), Map.entry("c", 2L));
        assertThat(client().get("/api/tasks/" + id + "/results").body().get(2).get("stdout").asString()).isEqualTo("here");
    }

    @Test
    void the_same_idempotency_key_returns_the_same_task_instead_of_running_it_twice() {
        String key = "key-" + ThreadLocalRandom.current().nextLong();
        SchedulerClient.Response first = client().post("/api/tasks", "application/json",
                "{\"templateFunction\":\"echo once\"}", Map.of("Idempotency-Key", key));
        SchedulerClient.Response second = client().post("/api/tasks", "application/json",
                "{\"templateFunction\":\"echo once\"}", Map.of("Idempotency-Key", key));
        SchedulerClient.Response other = client().post("/api/tasks", "application/json",
                "{\"templateFunction\":\"echo once\"}", Map.of("Idempotency-Key", key + "-other"));

        assertThat(second.body().get("id").asString()).isEqualTo(first.body().get("id").asString());
        assertThat(other.body().get("id").asString()).isNotEqualTo(first.body().get("id").asString());
    }

    @Test
    void a_finished_task_and_its_results_expire_after_the_retention() {
        String id = client().submit("{\"templateFunction\":\"echo bye\"}");
        cluster.awaitTerminal(id, Duration.ofSeconds(30));
        assertThat(client().get("/api/tasks/" + id + "/results").status()).isEqualTo(200);

        await("retention of 20 s").atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofSeconds(1))
                .until(() -> client().get("/api/tasks/" + id).status() == 404);
    }
}
