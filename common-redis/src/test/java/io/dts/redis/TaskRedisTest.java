package io.dts.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.dts.testsupport.LocalRedisCluster;
import io.dts.testsupport.RedisConnections;
import io.dts.testsupport.TestInfrastructure;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

/** Where a task's keys are read and written, on one Redis server and on a real Redis Cluster. */
class TaskRedisTest {

    private LettuceConnectionFactory connections;
    private TaskRedis taskRedis;

    /** The application's template on {@code factory} (started), and a {@link TaskRedis} on it. */
    private StringRedisTemplate connect(LettuceConnectionFactory factory) {
        connections = factory;
        StringRedisTemplate shared = new StringRedisTemplate(connections);
        taskRedis = new TaskRedis(connections, shared);
        return shared;
    }

    @AfterEach
    void disconnect() {
        taskRedis.destroy();
        connections.destroy();
    }

    private static int portOf(StringRedisTemplate template) {
        Properties server = template.execute((RedisCallback<Properties>) c -> c.serverCommands().info("server"));
        return Integer.parseInt(server.getProperty("tcp_port"));
    }

    private static int slotOf(String taskId) {
        return SlotHash.getSlot(RedisKeys.task(taskId));
    }

    /** Writes the task's hash and shard set in one WATCH/MULTI/EXEC, as the services do. */
    private static void startTask(StringRedisTemplate template, String taskId) {
        Optional<String> committed = RedisTransactions.watchAndUpdate(template,
                List.of(RedisKeys.task(taskId), RedisKeys.shardsDone(taskId)), ops -> {
                    ops.multi();
                    ops.opsForHash().put(RedisKeys.task(taskId), TaskHash.STATUS.name(), "INPROGRESS");
                    ops.opsForSet().add(RedisKeys.shardsDone(taskId), "0");
                    return Optional.of("started");
                });
        assertThat(committed).contains("started");
    }

    @Test
    void on_one_server_every_task_uses_the_application_template() {
        StringRedisTemplate shared = connect(RedisConnections.toServer());
        String taskId = UUID.randomUUID().toString();

        assertThat(taskRedis.forTask(taskId)).isSameAs(shared);
        startTask(taskRedis.forTask(taskId), taskId);
        assertThat(shared.opsForSet().members(RedisKeys.shardsDone(taskId))).containsExactly("0");
    }

    @Test
    void on_a_cluster_each_task_reaches_the_master_of_its_slot_and_its_transactions_run_there() {
        LocalRedisCluster cluster = TestInfrastructure.redisCluster();
        StringRedisTemplate shared = connect(RedisConnections.toCluster());
        Set<Integer> mastersUsed = new HashSet<>();

        for (int i = 0; i < 30; i++) {
            String taskId = UUID.randomUUID().toString();
            StringRedisTemplate template = taskRedis.forTask(taskId);
            int port = portOf(template);
            assertThat(port).as("task %s, slot %d", taskId, slotOf(taskId)).isEqualTo(cluster.masterOfSlot(slotOf(taskId)));
            mastersUsed.add(port);

            startTask(template, taskId);
            // Read back through the cluster-aware template, which routes by key on its own.
            assertThat(shared.opsForHash().get(RedisKeys.task(taskId), TaskHash.STATUS.name())).isEqualTo("INPROGRESS");
        }
        assertThat(mastersUsed).as("tasks spread over the masters").hasSizeGreaterThan(1);
    }

    @Test
    void when_a_master_dies_its_tasks_move_to_the_promoted_replica_with_their_data() {
        LocalRedisCluster cluster = TestInfrastructure.redisCluster();
        StringRedisTemplate shared = connect(RedisConnections.toCluster());
        // The services use the cluster connection all the time (heartbeats, indexes); its topology refresh runs meanwhile.
        assertThat(shared.opsForZSet().size(RedisKeys.RUNNING_TASKS)).isNotNull();
        String taskId = UUID.randomUUID().toString();
        StringRedisTemplate before = taskRedis.forTask(taskId);
        startTask(before, taskId);
        // WAIT: the write has reached the replica, so the failover keeps it (Redis replicates asynchronously;
        // right after the cluster is created the replica may still be syncing).
        long replicas = 0;
        for (int attempt = 0; attempt < 20 && replicas < 1; attempt++) {
            replicas = before.execute((RedisCallback<Long>) c -> LettuceFutures.awaitOrCancel(
                    ((RedisClusterAsyncCommands<?, ?>) c.getNativeConnection()).waitForReplication(1, 1_000), 5, TimeUnit.SECONDS));
        }
        assertThat(replicas).isEqualTo(1L);
        int deadMaster = portOf(before);

        cluster.kill(deadMaster);
        long killedAt = System.nanoTime();
        AtomicInteger newMaster = new AtomicInteger(deadMaster);
        AtomicReference<Map<Object, Object>> task = new AtomicReference<>(Map.of());
        // Until the replica is promoted and the slot map refreshed, reads fail or reach the dead node.
        await("the task's keys on the promoted replica").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .ignoreExceptions().until(() -> {
                    StringRedisTemplate after = taskRedis.forTask(taskId);
                    newMaster.set(portOf(after));
                    task.set(after.opsForHash().entries(RedisKeys.task(taskId)));
                    return !task.get().isEmpty();
                });
        System.out.printf("REDIS FAILOVER: task readable on the new master %.1f s after its master was killed%n",
                (System.nanoTime() - killedAt) / 1e9);

        assertThat(newMaster.get()).isNotEqualTo(deadMaster).isEqualTo(cluster.masterOfSlot(slotOf(taskId)));
        assertThat(task.get()).containsEntry(TaskHash.STATUS.name(), "INPROGRESS");
        assertThat(taskRedis.connectedMasters()).as("the dead master's connections are closed")
                .contains("127.0.0.1:" + newMaster.get()).doesNotContain("127.0.0.1:" + deadMaster);
        startTask(taskRedis.forTask(taskId), taskId);
    }
}
