package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
 * Schedulers are stateless and workers come and go: two schedulers behind nginx, one killed while
 * tasks run; a worker that joins gets the next task's shard; a worker stopped cleanly hands back its
 * shard. The tests run in order because each one changes the cluster.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterEndToEndTest {

    private final Cluster cluster = new Cluster(
            List.of("--scheduler.sweep-interval=500ms", "--scheduler.sweep-grace=3s"), List.of());
    private SchedulerClient viaNginx;

    @BeforeAll
    void startCluster(@TempDir Path nginxPrefix) throws Exception {
        viaNginx = cluster.startSchedulersBehindNginx(2, nginxPrefix);
        cluster.startWorkers(2);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        cluster.close();
    }

    @Test
    @Order(1)
    void every_task_submitted_through_nginx_finishes_when_a_scheduler_is_killed() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(viaNginx.submit(SchedulerClient.taskJson("sleep 0.3; echo $1", SchedulerClient.numbers(6))));
        }
        cluster.schedulers().get(0).kill();
        for (int i = 0; i < 5; i++) {
            ids.add(viaNginx.submit(SchedulerClient.taskJson("echo $1", SchedulerClient.numbers(4))));
        }

        for (String id : ids) {
            JsonNode done = Cluster.awaitTerminal(viaNginx, id, Duration.ofSeconds(120));
            assertThat(done.get("status").asString()).as(id).isEqualTo("COMPLETED");
            assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(done.get("itemsTotal").asLong());
        }
        SchedulerClient survivor = new SchedulerClient(cluster.schedulers().get(1).baseUrl());
        JsonNode direct = survivor.task(ids.get(0));
        JsonNode proxied = viaNginx.task(ids.get(0));
        assertThat(proxied.get("status")).isEqualTo(direct.get("status"));
        assertThat(proxied.get("updatedAt")).isEqualTo(direct.get("updatedAt"));
    }

    @Test
    @Order(2)
    void a_worker_that_joins_is_counted_in_the_next_tasks_sharding_and_gets_a_shard() {
        cluster.startWorker(3);
        cluster.awaitLiveWorkers(3);

        String id = viaNginx.submit(SchedulerClient.taskJson("echo $1", SchedulerClient.numbers(30)));
        JsonNode done = Cluster.awaitTerminal(viaNginx, id, Duration.ofSeconds(120));

        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(done.get("chunksToExecute").asInt()).isEqualTo(3);
        Set<String> workers = new HashSet<>();
        viaNginx.get("/api/tasks/" + id + "/results?limit=100").body().forEach(r -> workers.add(r.get("workerId").asString()));
        assertThat(workers).containsExactlyInAnyOrder("worker-1", "worker-2", "worker-3");
    }

    @Test
    @Order(3)
    void a_worker_stopped_cleanly_hands_back_its_shard_and_no_item_is_lost() throws Exception {
        String id = viaNginx.submit(SchedulerClient.taskJson("sleep 0.4; echo $1", SchedulerClient.numbers(30)));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> viaNginx.task(id).get("itemsSucceeded").asLong() >= 4);

        cluster.worker(3).stop();

        JsonNode done = Cluster.awaitTerminal(viaNginx, id, Duration.ofSeconds(120));
        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(30);
        JsonNode results = viaNginx.get("/api/tasks/" + id + "/results?limit=100").body();
        assertThat(results).hasSize(30);
        for (int i = 0; i < 30; i++) {
            assertThat(results.get(i).get("index").asInt()).isEqualTo(i);
        }
    }
}
