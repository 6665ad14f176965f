package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import io.dts.redis.RedisKeys;
import io.dts.testsupport.LocalRedisCluster;
import io.dts.testsupport.TestInfrastructure;
import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The whole pipeline on a real Redis Cluster (3 masters, a replica each): tasks spread over the
 * masters finish with exact counts, retry-failed works, and a task whose master is killed mid-run
 * moves to the promoted replica and still finishes with every item recorded once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisClusterEndToEndTest {

    private final LocalRedisCluster redisCluster = TestInfrastructure.redisCluster();
    private final Cluster cluster = Cluster.onRedisCluster(
            List.of("--scheduler.sweep-interval=500ms", "--scheduler.sweep-grace=3s", "--scheduler.stall-timeout=10s"), List.of());

    @BeforeAll
    void startCluster() {
        cluster.startScheduler();
        cluster.startWorkers(2);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        cluster.close();
    }

    private int masterOf(String taskId) {
        return redisCluster.masterOfSlot(SlotHash.getSlot(RedisKeys.task(taskId)));
    }

    /** Every item has exactly one result, in index order, with its own output. */
    private void assertEveryItemRecordedOnce(String id, int items) {
        JsonNode results = cluster.client().get("/api/tasks/" + id + "/results?limit=1000").body();
        assertThat(results).hasSize(items);
        for (int i = 0; i < items; i++) {
            assertThat(results.get(i).get("index").asInt()).isEqualTo(i);
            assertThat(results.get(i).get("stdout").asString().strip()).isEqualTo(String.valueOf(i));
        }
    }

    @Test
    @Order(1)
    void tasks_on_every_master_finish_with_exact_counts() {
        List<String> ids = new ArrayList<>();
        Set<Integer> masters = new HashSet<>();
        for (int i = 0; i < 12; i++) {
            String id = cluster.client().submit(SchedulerClient.taskJson("echo $1", SchedulerClient.numbers(20)));
            ids.add(id);
            masters.add(masterOf(id));
        }
        assertThat(masters).as("the tasks' slots spread over the masters").hasSizeGreaterThan(1);

        for (String id : ids) {
            JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(60));
            assertThat(done.get("status").asString()).as(id).isEqualTo("COMPLETED");
            assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(20);
            assertThat(done.get("chunksExecuted").asInt()).isEqualTo(2);
            assertEveryItemRecordedOnce(id, 20);
        }
        assertThat(cluster.client().get("/api/tasks?limit=12").body()).hasSize(12);
    }

    @Test
    @Order(2)
    void a_failed_task_is_retried_on_the_cluster_and_only_its_failed_item_runs_again(@TempDir Path dir) throws Exception {
        Path runs = ItemFiles.writableByItems(dir).resolve("runs");
        Path failedOnce = dir.resolve("failed-once");
        String id = cluster.client().submit(SchedulerClient.taskJson("echo $1 >> " + runs
                + "; if [ $1 = 7 ] && [ ! -e " + failedOnce + " ]; then touch " + failedOnce + "; exit 3; fi; echo $1",
                SchedulerClient.numbers(10)));
        JsonNode failed = cluster.awaitTerminal(id, Duration.ofSeconds(60));
        assertThat(failed.get("status").asString()).isEqualTo("FAILED");
        assertThat(failed.get("itemsFailed").asLong()).isEqualTo(1);

        assertThat(cluster.client().post("/api/tasks/" + id + "/retry-failed", "application/json", "").status()).isEqualTo(202);

        JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(60));
        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(10);
        assertEveryItemRecordedOnce(id, 10);
        Map<String, Long> runsPerItem = Files.readAllLines(runs).stream().collect(Collectors.groupingBy(line -> line, Collectors.counting()));
        assertThat(runsPerItem).hasSize(10).containsEntry("7", 2L);
        assertThat(runsPerItem.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(11);
    }

    @Test
    @Order(3)
    void a_task_whose_redis_master_is_killed_mid_run_finishes_on_the_promoted_replica() {
        String id = cluster.client().submit(SchedulerClient.taskJson("sleep 0.25; echo $1", SchedulerClient.numbers(60)));
        int master = masterOf(id);
        await().atMost(Duration.ofSeconds(30)).until(() -> cluster.client().task(id).get("itemsSucceeded").asLong() >= 6);

        JsonNode beforeKill = cluster.client().task(id);
        redisCluster.kill(master);
        long killedAt = System.nanoTime();
        assertThat(beforeKill.get("status").asString()).as("still running when its master was killed").isEqualTo("INPROGRESS");
        assertThat(beforeKill.get("itemsSucceeded").asLong()).isLessThan(60);

        JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(120));
        System.out.printf("RECOVERY Redis Cluster master kill -9: task finished %.1f s after the kill%n", (System.nanoTime() - killedAt) / 1e9);
        assertThat(masterOf(id)).isNotEqualTo(master);
        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(60);
        assertThat(done.get("itemsFailed").asLong()).isZero();
        assertEveryItemRecordedOnce(id, 60);
    }
}
