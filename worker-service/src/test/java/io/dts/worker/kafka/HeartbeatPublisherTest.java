package io.dts.worker.kafka;

import static io.dts.worker.config.TestWorkerProperties.aWorker;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.dts.model.WorkerHeartbeat;
import io.dts.redis.RedisKeys;
import io.dts.testsupport.RedisConnections;
import io.dts.testsupport.SettableClock;
import io.dts.worker.WorkerInstance;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.shard.WorkerLoad;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.json.JsonMapper;

/** What a worker's heartbeat tells the schedulers, as written to a real Redis: its load, read through {@link WorkerLoad}. */
class HeartbeatPublisherTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static LettuceConnectionFactory connections;
    private static StringRedisTemplate redis;

    private final WorkerProperties properties = aWorker(Path.of(System.getProperty("java.io.tmpdir"))).build();
    private final WorkerInstance instance = new WorkerInstance();
    private final SettableClock clock = new SettableClock();

    @BeforeAll
    static void connect() {
        connections = RedisConnections.toServer();
        redis = new StringRedisTemplate(connections);
    }

    @AfterEach
    void leave() {
        redis.delete(List.of(RedisKeys.worker(properties.id()), RedisKeys.workerInstance(instance.id())));
        redis.opsForZSet().remove(RedisKeys.WORKERS, properties.id());
    }

    @AfterAll
    static void disconnect() {
        connections.destroy();
    }

    private static WorkerLoad aLoad(int busyThreads, Set<String> runningTasks) {
        return new WorkerLoad() {
            @Override
            public int busyThreads() {
                return busyThreads;
            }

            @Override
            public Set<String> runningTasks() {
                return runningTasks;
            }

            @Override
            public Map<String, Integer> runningItems() {
                return Map.of("task-a", busyThreads);
            }

            @Override
            public List<WorkerHeartbeat.Slot> slots() {
                return List.of(new WorkerHeartbeat.Slot("task-a", "ann", 7, 1_000));
            }
        };
    }

    @Test
    void the_heartbeat_carries_the_load_and_keeps_this_process_alive() {
        HeartbeatPublisher publisher = new HeartbeatPublisher(redis, JSON, properties, instance, new AssignedPartitions(),
                aLoad(1, Set.of("task-a")), clock);
        assertThat(instance.knownAliveAt(clock.millis())).as("known to other workers before the first beat").isFalse();

        clock.advance(Duration.ofSeconds(3));
        publisher.beat();

        WorkerHeartbeat heartbeat = JSON.readValue(redis.opsForValue().get(RedisKeys.worker(properties.id())), WorkerHeartbeat.class);
        assertThat(heartbeat.busyThreads()).isEqualTo(1);
        assertThat(heartbeat.runningTasks()).containsExactly("task-a");
        assertThat(heartbeat.runningItems()).isEqualTo(Map.of("task-a", 1));
        assertThat(heartbeat.slots()).containsExactly(new WorkerHeartbeat.Slot("task-a", "ann", 7, 1_000));
        assertThat(heartbeat.threads()).isEqualTo(properties.threads());
        assertThat(heartbeat.instanceId()).isEqualTo(instance.id());
        assertThat(redis.opsForZSet().score(RedisKeys.WORKERS, properties.id())).isEqualTo((double) clock.millis());
        assertThat(redis.opsForValue().get(RedisKeys.workerInstance(instance.id()))).isEqualTo(properties.id());
        assertThat(instance.knownAliveAt(clock.millis() + properties.heartbeatTtl().toMillis() - 1)).isTrue();
        assertThat(instance.knownAliveAt(clock.millis() + properties.heartbeatTtl().toMillis())).as("once its key expired").isFalse();
    }

    @Test
    void each_assignment_revocation_or_loss_of_partitions_is_in_a_heartbeat_at_once_not_at_the_next_beat() {
        AssignedPartitions partitions = new AssignedPartitions();
        new HeartbeatPublisher(redis, JSON, properties, instance, partitions, aLoad(0, Set.of()), clock);

        partitions.onPartitionsAssigned(null, List.of(new TopicPartition("shards", 1), new TopicPartition("shards", 4)));
        assertThat(reportedPartitions()).as("assigned").containsExactly(1, 4);
        partitions.onPartitionsRevokedAfterCommit(null, List.of(new TopicPartition("shards", 1)));
        assertThat(reportedPartitions()).as("revoked").containsExactly(4);
        partitions.onPartitionsLost(null, List.of(new TopicPartition("shards", 4)));
        assertThat(reportedPartitions()).as("lost").isEmpty();
    }

    private List<Integer> reportedPartitions() {
        return JSON.readValue(redis.opsForValue().get(RedisKeys.worker(properties.id())), WorkerHeartbeat.class).partitions();
    }
}
