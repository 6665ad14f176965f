package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import io.dts.testsupport.RedisConnections;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Requests built to take a service down, against the real processes: a scheduler with a 64 MB heap
 * and a worker. Each gets a fast 4xx problem+json, writes nothing, and the service stays healthy;
 * a task whose items kill their worker ends quarantined, and the next worker runs new work.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputEndToEndTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration TASK_TIMEOUT = Duration.ofSeconds(90);

    /** At most 200,000 items: a list of that many tiny items fits the 64 MB heap, one of the default million might not. */
    private final Cluster cluster = new Cluster(List.of("--scheduler.sweep-interval=500ms", "--scheduler.sweep-grace=1s",
            "--scheduler.max-items=200000"),
            List.of("--worker.max-shard-deliveries=2"));
    private final LettuceConnectionFactory connections = RedisConnections.toServer();
    private final StringRedisTemplate redis = new StringRedisTemplate(connections);
    private ServiceProcess scheduler;
    private SchedulerClient client;

    @BeforeAll
    void startCluster() {
        redis.afterPropertiesSet();
        scheduler = cluster.startScheduler("64m");
        client = cluster.client();
        cluster.startWorkers(1);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        cluster.close();
        connections.destroy();
    }

    private long tasksInRedis() {
        return redis.opsForZSet().zCard("tasks:recent");
    }

    /** Posts the body and checks the answer: the status, problem+json, fast, nothing written, still healthy. */
    private SchedulerClient.Response refused(int status, String path, String contentType, String body, Map<String, String> headers) {
        long before = tasksInRedis();
        long started = System.nanoTime();
        SchedulerClient.Response response = client.post(path, contentType, body, headers);
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertThat(response.status()).as("%s", response.body()).isEqualTo(status);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(millis).as("answered fast").isLessThan(5_000);
        assertThat(tasksInRedis()).as("nothing written").isEqualTo(before);
        assertThat(client.get("/actuator/health/readiness").status()).as("the scheduler is still ready").isEqualTo(200);
        return response;
    }

    private SchedulerClient.Response refused(int status, String body) {
        return refused(status, "/api/tasks", "application/json", body, Map.of());
    }

    private static ObjectNode task(String template) {
        return JSON.createObjectNode().put("templateFunction", template);
    }

    @Test
    void an_item_placeholder_that_would_multiply_a_large_item_is_a_413_before_any_worker_sees_it() {
        ObjectNode bomb = task("echo " + "{{item}}".repeat(3_000));
        bomb.putArray("inputList").add("x".repeat(60_000));

        SchedulerClient.Response response = refused(413, bomb.toString());

        assertThat(response.body().get("detail").asString()).contains("inputList[0]", "3000 times", "scheduler.max-command-size");
        assertThat(cluster.worker(1).isAlive()).isTrue();
    }

    @Test
    void a_variable_referenced_ten_thousand_times_is_a_413_while_rendering() {
        ObjectNode bomb = task("{{v}}".repeat(10_000));
        bomb.putObject("variableJson").put("v", "v".repeat(1_000_000));

        assertThat(refused(413, bomb.toString()).body().get("detail").asString()).contains("scheduler.max-command-size");
    }

    @Test
    void five_million_tiny_items_are_refused_at_the_first_one_over_the_limit_without_building_them() throws Exception {
        String body = "{\"templateFunction\":\"true\",\"inputList\":[" + "{},".repeat(5_000_000) + "{}]}";
        String seedBody = "{\"id\":\"" + java.util.UUID.randomUUID() + "\",\"templateFunction\":\"true\",\"inputList\":["
                + "1,".repeat(5_000_000) + "1]}";

        long before = tasksInRedis();

        assertThat(postWhileReading("/api/tasks", body)).startsWith("HTTP/1.1 413").contains("more than 200000 items", "scheduler.max-items");
        assertThat(postWhileReading("/schedule/create", seedBody)).startsWith("HTTP/1.1 413").contains("scheduler.max-items");
        assertThat(tasksInRedis()).isEqualTo(before);
        assertThat(client.get("/actuator/health/readiness").status()).isEqualTo(200);
    }

    /**
     * Posts a large JSON body on a raw connection and returns the raw answer. The scheduler answers
     * before the body is all sent and then stops reading it, so the answer is read while the body is
     * still being written (as curl does), not after.
     */
    private String postWhileReading(String path, String body) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        URI target = URI.create(scheduler.baseUrl());
        try (Socket socket = new Socket(target.getHost(), target.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                try {
                    out.write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
                            + "Authorization: Bearer " + SharedKeys.operatorToken() + "\r\n"
                            + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(bytes);
                    out.flush();
                } catch (IOException refusedMidway) {
                    // the scheduler closed the connection after its answer: expected
                }
            });
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            writing.exceptionally(e -> null).join();
            return answer;
        }
    }

    @Test
    void oversized_template_and_variables_are_413s_naming_their_limit() {
        assertThat(refused(413, task("#".repeat(70_000)).toString()).body().get("detail").asString())
                .contains("scheduler.max-template-size");
        ObjectNode variables = task("true");
        variables.putObject("variableJson").put("big", "b".repeat(1_100_000));
        assertThat(refused(413, variables.toString()).body().get("detail").asString()).contains("scheduler.max-variables-size");
    }

    @Test
    void limits_out_of_range_wrong_types_nul_bytes_duplicate_keys_and_deep_nesting_are_400s_naming_the_field() {
        record Case(String body, String field) {
        }
        String deep = "[".repeat(100) + "]".repeat(100);
        List<Case> cases = List.of(
                new Case("{\"templateFunction\":\"true\",\"timeoutSeconds\":9223372036854775807}", "timeoutSeconds"),
                new Case("{\"templateFunction\":\"true\",\"timeoutSeconds\":604801}", "timeoutSeconds"),
                new Case("{\"templateFunction\":\"true\",\"maxRetries\":101}", "maxRetries"),
                new Case("{\"templateFunction\":\"true\",\"timeoutSeconds\":\"60\"}", "timeoutSeconds"),
                new Case("{\"templateFunction\":\"true\",\"maxRetries\":1.5}", "maxRetries"),
                new Case("{\"templateFunction\":\"true\\u0000\"}", "templateFunction"),
                new Case("{\"templateFunction\":\"echo {{v}}\",\"variableJson\":{\"v\":\"a\\u0000b\"}}", "variableJson"),
                new Case("{\"templateFunction\":\"echo\",\"inputList\":[\"ok\",\"a\\u0000b\"]}", "inputList[1]"),
                new Case("{\"templateFunction\":\"echo\",\"inputList\":[" + deep + "]}", "inputList[0]"),
                new Case("{\"templateFunction\":\"true\",\"variableJson\":{\"x\":" + deep + "}}", "variableJson"),
                new Case("{\"templateFunction\":\"true\",\"variableJson\":" + JSON.writeValueAsString("{\"x\":" + deep + "}") + "}",
                        "variableJson"));
        for (Case hostile : cases) {
            SchedulerClient.Response response = refused(400, hostile.body());

            assertThat(response.body().get("errors").findValuesAsString("field")).as(hostile.body()).contains(hostile.field());
        }
        SchedulerClient.Response duplicate = refused(400, "{\"templateFunction\":\"true\",\"templateFunction\":\"rm -rf /tmp/x\"}");
        assertThat(duplicate.body().get("detail").asString()).contains("templateFunction");
    }

    @Test
    void the_form_path_has_the_same_bounds_and_a_form_over_its_parameter_limit_is_a_413() {
        String form = "application/x-www-form-urlencoded";
        refused(400, "/schedule/create", form, "templateFunction=true&maxRetries=99999999999", Map.of());
        refused(400, "/schedule/create", form, "templateFunction=true&timeoutSeconds=604801", Map.of());
        refused(400, "/schedule/create", form, "templateFunction=true%00", Map.of());
        String manyItems = "templateFunction=true" + "&inputList=x".repeat(20_000);

        assertThat(refused(413, "/schedule/create", form, manyItems, Map.of()).body().get("detail").asString()).contains("JSON");
    }

    @Test
    void a_body_that_lies_about_its_length_gets_a_fast_413_and_holds_no_thread() throws IOException {
        long started = System.nanoTime();
        String answer;
        URI target = URI.create(scheduler.baseUrl());
        try (Socket socket = new Socket(target.getHost(), target.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n"
                    + "Authorization: Bearer " + SharedKeys.operatorToken() + "\r\n\r\n{\"templ")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            answer = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
        }

        assertThat(answer).isEqualTo("HTTP/1.1 413");
        assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(5_000);
        assertThat(client.get("/actuator/health/readiness").status()).isEqualTo(200);
    }

    @Test
    void task_ids_and_idempotency_keys_that_are_not_ours_never_reach_redis_or_the_answer() {
        for (String id : List.of("%7Bx%7D", "task:%7Bx%7D:results", "..%2F..", "a%0D%0AFORGED")) {
            SchedulerClient.Response response = client.get("/api/tasks/" + id);

            assertThat(response.status()).as(id).isIn(400, 404);
            assertThat(response.contentType()).startsWith("application/problem+json");
            assertThat(response.body().get("detail").asString()).as(id).doesNotContain("FORGED").doesNotContain("{x}");
        }
        refused(400, "/api/tasks", "application/json", task("true").toString(), Map.of("Idempotency-Key", "k".repeat(256)));
    }

    @Test
    void an_idempotency_key_is_tied_to_its_body_and_concurrent_identical_requests_make_one_task() {
        String key = "concurrent-" + System.nanoTime();
        String body = task("echo same").toString();
        List<CompletableFuture<SchedulerClient.Response>> posts = IntStream.range(0, 8)
                .mapToObj(i -> CompletableFuture.supplyAsync(() -> client.post("/api/tasks", "application/json", body,
                        Map.of("Idempotency-Key", key)))).toList();
        Set<String> ids = new java.util.HashSet<>();
        for (CompletableFuture<SchedulerClient.Response> post : posts) {
            SchedulerClient.Response response = post.join();
            assertThat(response.status()).as("%s", response.body()).isIn(202, 409);
            if (response.status() == 202) {
                ids.add(response.body().get("id").asString());
            }
        }

        assertThat(ids).hasSize(1);
        refused(422, "/api/tasks", "application/json", task("echo other").toString(), Map.of("Idempotency-Key", key));
    }

    @Test
    void a_listing_and_a_results_page_of_large_tasks_fit_a_64_mb_scheduler() {
        // 300 tasks of ~120 KB each (template and command): ~36 MB that a listing must not load.
        ObjectNode large = task("true # " + "t".repeat(60_000));
        for (int i = 0; i < 300; i++) {
            client.submit(large.toString());
        }
        // 300 results of 128 KB each (both outputs at the worker's 64 KB limit): ~38 MB.
        ObjectNode loud = task("head -c 65536 /dev/zero | tr '\\\\0' o; head -c 65536 /dev/zero | tr '\\\\0' e >&2");
        ArrayNode items = loud.putArray("inputList");
        IntStream.range(0, 300).forEach(i -> items.add(String.valueOf(i)));
        String loudTask = client.submit(loud.toString());
        assertThat(cluster.awaitTerminal(loudTask, TASK_TIMEOUT).get("itemsSucceeded").asLong()).isEqualTo(300);

        SchedulerClient.Response listing = client.get("/api/tasks?limit=1000");
        SchedulerClient.Response byStatus = client.get("/api/tasks?status=QUEUED&limit=1000");
        SchedulerClient.Response results = client.get("/api/tasks/" + loudTask + "/results?limit=1000");
        String next = results.header("Link");

        assertThat(listing.status()).isEqualTo(200);
        assertThat(listing.body().size()).isGreaterThanOrEqualTo(300);
        assertThat(listing.body().get(0).has("command")).as("summaries only").isFalse();
        assertThat(byStatus.status()).isEqualTo(200);
        assertThat(results.status()).isEqualTo(200);
        assertThat(results.body().size()).as("capped by bytes").isBetween(1, 299);
        assertThat(next).isEqualTo("</api/tasks/" + loudTask + "/results?offset=" + results.body().size() + "&limit=1000>; rel=\"next\"");
        assertThat(scheduler.isAlive()).isTrue();
    }

    @Test
    void a_task_whose_item_kills_its_worker_is_quarantined_and_the_next_worker_runs_new_tasks() throws InterruptedException {
        // An item cannot kill its worker any more (another user, another PID namespace): the test does it for
        // the item, as the kernel's OOM killer would, whenever the item runs.
        // Short enough that, should this test fail, the shard it leaves on the topic does not hold a worker for long.
        String marker = "60." + java.util.concurrent.ThreadLocalRandom.current().nextInt(100_000, 999_999);
        String poison = client.submit(SchedulerClient.taskJson("sleep " + marker, List.of("boom")));
        List<Long> deaths = new ArrayList<>();
        // max-shard-deliveries=2: two workers die running it, the third quarantines it.
        for (int death = 1; death <= 2; death++) {
            org.awaitility.Awaitility.await("the item runs, delivery " + death).atMost(TASK_TIMEOUT).until(() -> ProcessHandle.allProcesses()
                    .anyMatch(p -> p.info().commandLine().orElse("").contains("sleep " + marker)));
            cluster.worker(1).kill();
            deaths.add(System.nanoTime());
            org.awaitility.Awaitility.await("the dead worker's item is gone with it").atMost(Duration.ofSeconds(5))
                    .until(() -> ProcessHandle.allProcesses().noneMatch(p -> p.info().commandLine().orElse("").contains("sleep " + marker)));
            cluster.startWorker(1);
        }

        JsonNode done = cluster.awaitTerminal(poison, TASK_TIMEOUT);
        JsonNode result = client.get("/api/tasks/" + poison + "/results").body().get(0);

        assertThat(deaths).hasSize(2);
        assertThat(done.get("status").asString()).isEqualTo("FAILED");
        assertThat(result.get("exitCode").asInt()).isEqualTo(126);
        assertThat(result.get("stderr").asString()).contains("2 workers died running shard 0", "worker.max-shard-deliveries");
        assertThat(cluster.worker(1).isAlive()).isTrue();
        String healthy = client.submit(SchedulerClient.taskJson("echo fine-$1", List.of("a", "b")));
        assertThat(cluster.awaitTerminal(healthy, TASK_TIMEOUT).get("status").asString()).isEqualTo("COMPLETED");
    }
}
