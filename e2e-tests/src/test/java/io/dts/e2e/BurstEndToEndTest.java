package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.dts.testsupport.RedisConnections;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.JsonNode;

/**
 * The task lifecycle under fire, against the real processes: a burst of submits while schedulers and
 * Redis are killed with {@code kill -9}; every task that was answered 202 finishes exactly once, and
 * no finished task stays listed as running or pending.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BurstEndToEndTest {

    /** A short sweep lease, so the lock of a killed scheduler frees itself within the test's patience. */
    private final Cluster cluster = new Cluster(
            List.of("--scheduler.sweep-interval=500ms", "--scheduler.sweep-grace=8s", "--scheduler.stall-timeout=15s",
                    "--scheduler.shard-publish-timeout=3s", "--scheduler.sweep-lease=5s"),
            List.of());

    @BeforeAll
    void startCluster() {
        cluster.startScheduler();
        cluster.startWorkers(2);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        cluster.close();
    }

    @Test
    void a_burst_of_submits_through_scheduler_and_redis_kills_finishes_every_accepted_task_exactly_and_lists_none_as_running()
            throws InterruptedException {
        List<String> accepted = new CopyOnWriteArrayList<>();
        AtomicBoolean submitting = new AtomicBoolean(true);
        String task = SchedulerClient.taskJson("echo $1", List.of("a", "b", "c"));
        ExecutorService submitters = Executors.newFixedThreadPool(3);
        for (int i = 0; i < 3; i++) {
            submitters.execute(() -> {
                while (submitting.get()) {
                    try {
                        SchedulerClient.Response response = cluster.client().post("/api/tasks", "application/json", task);
                        if (response.status() == 202) {
                            accepted.add(response.body().get("id").asString());
                        }
                    } catch (RuntimeException schedulerDown) {
                        // a client tries again; what was not answered 202 was not promised
                    }
                }
            });
        }
        try {
            for (int kill = 1; kill <= 2; kill++) {
                int before = accepted.size();
                await("20 more accepted").atMost(Duration.ofSeconds(60)).until(() -> accepted.size() >= before + 20);
                cluster.scheduler().kill();
                cluster.startScheduler();
            }
            int before = accepted.size();
            await("20 more accepted").atMost(Duration.ofSeconds(60)).until(() -> accepted.size() >= before + 20);
        } finally {
            submitting.set(false);
            submitters.shutdown();
            assertThat(submitters.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
        // kill -9 Redis while those tasks run. Its append-only file is synced every second (as the stack
        // runs it): what it acknowledged more than a second ago survives, so wait that second out.
        await().pollDelay(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(2)).until(() -> true);
        cluster.redis().kill();
        cluster.redis().start();

        for (String id : accepted) {
            JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(120));
            assertThat(done.get("status").asString()).as(id).isEqualTo("COMPLETED");
            assertThat(done.get("itemsSucceeded").asLong()).as(id).isEqualTo(3);
            assertThat(cluster.client().get("/api/tasks/" + id + "/results").body()).extracting(r -> r.get("index").asInt()).containsExactly(0, 1, 2);
        }
        LettuceConnectionFactory connections = RedisConnections.toServer();
        try {
            StringRedisTemplate redis = new StringRedisTemplate(connections);
            await("no finished task listed as running or pending").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                for (String id : accepted) {
                    assertThat(redis.opsForZSet().score("tasks:running", id)).as("%s running", id).isNull();
                    assertThat(redis.opsForZSet().score("tasks:pending", id)).as("%s pending", id).isNull();
                }
            });
        } finally {
            connections.destroy();
        }
        System.out.printf("BURST %d tasks accepted through 2 scheduler kills and a Redis kill -9, all COMPLETED%n", accepted.size());
    }
}
