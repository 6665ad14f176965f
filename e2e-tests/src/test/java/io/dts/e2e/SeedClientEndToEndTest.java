package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.dts.testsupport.FreePorts;
import io.dts.testsupport.RedisServer;
import io.dts.testsupport.TestInfrastructure;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * The original client and configuration, unchanged: services told where Redis is only by the seed's
 * names ({@code --spring.redis.host/port}, env {@code SPRING_REDIS_HOST/PORT}), and the seed's
 * serialized MasterTask (its own UUID id, a status, chunk counts) posted to {@code /schedule/create}
 * and polled by that id.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SeedClientEndToEndTest {

    private static final Duration TASK_TIMEOUT = Duration.ofSeconds(60);

    private final RedisServer redis = TestInfrastructure.redis();
    private ServiceProcess scheduler;
    private ServiceProcess worker;
    private SchedulerClient client;

    @BeforeAll
    void startServicesWithTheSeedsRedisNames() throws IOException {
        assertThat(redis.port()).as("the test Redis must not be on the default port, or ignored names would go unnoticed")
                .isNotEqualTo(6379);
        String kafka = "--pubsub.namespace=" + TestInfrastructure.kafka().bootstrapServers();
        // Ready means Redis answers (readiness includes it): the scheduler found Redis by the seed's names.
        scheduler = new ServiceProcess("seed-scheduler", "scheduler-service", FreePorts.next(),
                List.of(kafka, "--spring.redis.host=" + redis.host(), "--spring.redis.port=" + redis.port())).start();
        worker = new ServiceProcess("seed-worker", "worker-service", FreePorts.next(),
                List.of(kafka, "--worker.id=seed-worker", "--worker.threads=2", "--worker.heartbeat-interval=1s"),
                Map.of("SPRING_REDIS_HOST", redis.host(), "SPRING_REDIS_PORT", String.valueOf(redis.port()))).start();
        client = new SchedulerClient(scheduler.baseUrl());
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (worker != null) {
            worker.stop();
        }
        if (scheduler != null) {
            scheduler.stop();
        }
    }

    /** The original client's MasterTask as it serializes it: its own id, status QUEUED, one chunk to execute. */
    private static String seedTask(String id, String command, List<String> items) {
        return """
                {"id":"%s","templateFunction":"%s","variableJson":"{\\"greeting\\":\\"hello\\"}","inputList":[%s],
                 "status":"QUEUED","chunksToExecute":1,"chunksExecuted":0}"""
                .formatted(id, command, String.join(",", items.stream().map(i -> "\"" + i + "\"").toList()));
    }

    private JsonNode awaitStatus(String id) {
        org.awaitility.Awaitility.await("task " + id + " finished").atMost(TASK_TIMEOUT).pollInterval(Duration.ofMillis(100))
                .until(() -> Cluster.TERMINAL.contains(client.get("/schedule/status?taskId=" + id).body().get("status").asString()));
        return client.get("/schedule/status?taskId=" + id).body();
    }

    @Test
    void a_seed_master_task_runs_under_the_id_its_client_generated() {
        String id = UUID.randomUUID().toString();

        SchedulerClient.Response created = client.post("/schedule/create", "application/json", seedTask(id, "echo {{greeting}}-$1", List.of("a", "b")));

        assertThat(created.status()).as("%s", created.body()).isEqualTo(202);
        assertThat(created.body().get("id").asString()).isEqualTo(id);
        assertThat(created.location()).isEqualTo("/api/tasks/" + id);
        JsonNode done = awaitStatus(id);
        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(2);
        assertThat(client.get("/api/tasks/" + id + "/results").body().findValuesAsString("stdout"))
                .containsExactly("hello-a\n", "hello-b\n");
    }

    @Test
    void the_same_seed_task_sent_again_returns_that_task_and_another_body_with_its_id_is_a_409() {
        String id = UUID.randomUUID().toString();
        String body = seedTask(id, "echo once-$1", List.of("x"));
        assertThat(client.post("/schedule/create", "application/json", body).status()).isEqualTo(202);
        awaitStatus(id);

        SchedulerClient.Response again = client.post("/schedule/create", "application/json", body);
        SchedulerClient.Response other = client.post("/schedule/create", "application/json", seedTask(id, "echo other-$1", List.of("x")));

        assertThat(again.status()).isEqualTo(202);
        assertThat(again.body().get("id").asString()).isEqualTo(id);
        assertThat(again.body().get("status").asString()).as("the finished task, not a new one").isEqualTo("COMPLETED");
        assertThat(client.get("/api/tasks/" + id + "/results").body()).as("ran once").hasSize(1);
        assertThat(other.status()).isEqualTo(409);
        assertThat(other.contentType()).startsWith("application/problem+json");
        assertThat(other.body().get("detail").asString()).contains(id);
    }

    @Test
    void a_form_encoded_seed_task_keeps_its_id_too() {
        String id = UUID.randomUUID().toString();
        String form = "id=" + id + "&templateFunction=" + URLEncoder.encode("echo form-$1", StandardCharsets.UTF_8)
                + "&inputList=one&inputList=two&status=QUEUED&chunksToExecute=1&chunksExecuted=0";

        SchedulerClient.Response created = client.post("/schedule/create", "application/x-www-form-urlencoded", form);

        assertThat(created.status()).as("%s", created.body()).isEqualTo(202);
        assertThat(awaitStatus(id).get("itemsSucceeded").asLong()).isEqualTo(2);
    }

    @Test
    void a_client_id_that_is_not_a_uuid_or_names_a_task_of_the_api_is_refused() {
        SchedulerClient.Response notUuid = client.post("/schedule/create", "application/json", seedTask("task:{x}", "true", List.of()));
        String apiTask = client.submit(SchedulerClient.taskJson("true", List.of()));
        SchedulerClient.Response taken = client.post("/schedule/create", "application/json", seedTask(apiTask, "true", List.of()));

        assertThat(notUuid.status()).isEqualTo(400);
        assertThat(notUuid.body().get("errors").get(0).get("field").asString()).isEqualTo("id");
        assertThat(taken.status()).as("a task the client did not create is not its to reuse").isEqualTo(409);
        assertThat(client.get("/api/tasks/" + apiTask).body().get("templateFunction").asString()).isEqualTo("true");
    }

    @Test
    void api_tasks_stays_strict_about_the_seed_fields() {
        SchedulerClient.Response response = client.post("/api/tasks", "application/json", seedTask(UUID.randomUUID().toString(), "true", List.of()));

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.body().get("detail").asString()).contains("Unknown field");
    }
}
