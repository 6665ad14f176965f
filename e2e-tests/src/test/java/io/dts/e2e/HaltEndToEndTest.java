package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Halting a fan-out early, across two workers of two threads each: after the rule's threshold no worker
 * starts another item of the task, the rest are recorded as skipped, and retry-failed runs them again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HaltEndToEndTest {

    private static final Duration TASK_TIMEOUT = Duration.ofSeconds(90);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Cluster cluster = new Cluster(List.of(), List.of());
    private SchedulerClient client;

    @BeforeAll
    void startCluster() {
        cluster.startScheduler();
        client = cluster.client();
        cluster.startWorkers(2);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        cluster.close();
    }

    @Test
    void soon_lets_running_items_finish_and_starts_no_item_anywhere_after_the_threshold() {
        String id = client.submit(JSON.writeValueAsString(Map.of("templateFunction", "sleep 0.3; exit 1",
                "inputList", SchedulerClient.numbers(40), "halt", Map.of("when", "soon", "failures", 3))));

        JsonNode task = cluster.awaitTerminal(id, TASK_TIMEOUT);
        List<JsonNode> results = results(id);
        List<JsonNode> ran = results.stream().filter(result -> !result.get("skipped").asBoolean()).toList();
        long thirdFailureAt = ran.stream().mapToLong(result -> result.get("finishedAt").asLong()).sorted().skip(2).findFirst().orElseThrow();

        assertThat(task.get("status").asString()).isEqualTo("FAILED");
        assertThat(task.get("halted").asBoolean()).isTrue();
        assertThat(task.get("haltReason").asString()).startsWith("halt soon,fail=3: ").endsWith(" of 40 items failed");
        assertThat(task.get("itemsFailed").asLong() + task.get("itemsSkipped").asLong()).isEqualTo(40);
        assertThat(task.get("itemsSkipped").asLong()).isEqualTo(results.size() - ran.size()).isPositive();
        assertThat(results).hasSize(40);
        assertThat(results).filteredOn(result -> result.get("skipped").asBoolean())
                .allSatisfy(skipped -> assertThat(skipped.has("exitCode")).as("no exit code").isFalse());
        // Four threads run at once: at most the three that failed, and three more started before the halt.
        assertThat(ran).hasSizeBetween(3, 6);
        assertThat(ran).allSatisfy(result -> assertThat(result.get("finishedAt").asLong() - result.get("durationMs").asLong())
                .as("started before the third failure").isLessThanOrEqualTo(thirdFailureAt + 50));
    }

    @Test
    void now_kills_the_running_items_and_retry_failed_runs_the_failed_and_skipped_ones_again(@TempDir Path dir) {
        Path once = ItemFiles.writableByItems(dir).resolve("failed-once");
        String command = "if [ \"$1\" = fail ]; then [ -e " + once + " ] && exit 0; touch " + once + "; exit 1; fi; sleep 4";
        String id = client.submit(JSON.writeValueAsString(Map.of("templateFunction", command,
                "inputList", List.of("a", "b", "c", "fail", "d", "e"), "halt", Map.of("when", "now", "failures", 1))));

        long started = System.nanoTime();
        JsonNode halted = cluster.awaitTerminal(id, TASK_TIMEOUT);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        SchedulerClient.Response retried = client.post("/api/tasks/" + id + "/retry-failed", "application/json", "");
        JsonNode again = cluster.awaitTerminal(id, TASK_TIMEOUT);

        assertThat(halted.get("status").asString()).isEqualTo("FAILED");
        assertThat(halted.get("haltReason").asString()).startsWith("halt now,fail=1: 1 of 6");
        assertThat(halted.get("itemsFailed").asLong()).isEqualTo(1);
        assertThat(halted.get("itemsSkipped").asLong()).isEqualTo(5);
        assertThat(took).as("the running sleeps were killed, not waited for").isLessThan(Duration.ofSeconds(4));
        assertThat(retried.status()).isEqualTo(202);
        assertThat(again.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(again.get("itemsSucceeded").asLong()).isEqualTo(6);
        assertThat(again.has("halted")).as("a new round starts unhalted").isFalse();
    }

    @Test
    void a_rule_that_makes_no_sense_is_a_400_naming_the_field() {
        SchedulerClient.Response when = client.post("/api/tasks", "application/json",
                "{\"templateFunction\":\"true\",\"inputList\":[\"a\"],\"halt\":{\"when\":\"later\",\"failures\":1}}");
        SchedulerClient.Response failures = client.post("/api/tasks", "application/json",
                "{\"templateFunction\":\"true\",\"inputList\":[\"a\"],\"halt\":{\"when\":\"soon\",\"failures\":\"150%\"}}");

        assertThat(when.status()).isEqualTo(400);
        assertThat(when.body().toString()).contains("halt.when");
        assertThat(failures.status()).isEqualTo(400);
        assertThat(failures.body().toString()).contains("halt.failures");
    }

    private List<JsonNode> results(String id) {
        JsonNode page = client.get("/api/tasks/" + id + "/results?limit=1000").body();
        return StreamSupport.stream(page.spliterator(), false).toList();
    }
}
