package io.dts.worker.redis;

import static io.dts.worker.config.TestWorkerProperties.aWorker;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.dts.model.WorkerHeartbeat;
import io.dts.model.WorkerHeartbeat.Slot;
import io.dts.redis.RedisKeys;
import io.dts.testsupport.RedisConnections;
import io.dts.worker.config.WorkerProperties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.json.JsonMapper;

/** Fair share is cluster-wide: what the other live workers run, by owner, from their heartbeats in a real Redis. */
class OtherWorkersTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static LettuceConnectionFactory connections;
    private static StringRedisTemplate redis;

    private final String self = "self-" + UUID.randomUUID();
    private final String other = "other-" + UUID.randomUUID();
    private final String dead = "dead-" + UUID.randomUUID();

    @BeforeAll
    static void connect() {
        connections = RedisConnections.toServer();
        redis = new StringRedisTemplate(connections);
    }

    @AfterAll
    static void disconnect() {
        connections.destroy();
    }

    @AfterEach
    void forget() {
        redis.opsForZSet().remove(RedisKeys.WORKERS, self, other, dead);
        redis.delete(List.of(RedisKeys.worker(self), RedisKeys.worker(other)));
    }

    private void beat(String id, Slot... slots) {
        WorkerHeartbeat beat = new WorkerHeartbeat(id, id, "host", 1, 4, slots.length, 0, 0, List.of(), List.of(), Map.of(), List.of(slots));
        redis.opsForValue().set(RedisKeys.worker(id), JSON.writeValueAsString(beat), Duration.ofMinutes(1));
        redis.opsForZSet().add(RedisKeys.WORKERS, id, 0);
    }

    @Test
    void counts_the_items_each_owner_runs_on_the_other_live_workers_not_on_this_one() {
        WorkerProperties properties = aWorker(Path.of(System.getProperty("java.io.tmpdir"))).id(self).build();
        beat(self, new Slot("t1", "ann", 0, 0), new Slot("t1", "ann", 1, 0));
        beat(other, new Slot("t1", "ann", 2, 0), new Slot("t2", "bob", 0, 0), new Slot("t3", "bob", 0, 0));
        // Listed, but its heartbeat expired: a dead worker runs nothing.
        redis.opsForZSet().add(RedisKeys.WORKERS, dead, 0);
        OtherWorkers others = new OtherWorkers(redis, JSON, properties);

        for (int read = 0; read < 40; read++) {
            others.refresh();
        }

        assertThat(others.running("ann")).isCloseTo(1, org.assertj.core.data.Offset.offset(0.01));
        assertThat(others.running("bob")).isCloseTo(2, org.assertj.core.data.Offset.offset(0.01));
        assertThat(others.running("carol")).isZero();
    }

    @Test
    void a_snapshot_moves_the_counts_a_quarter_of_the_way_so_the_workers_do_not_swing_together_on_late_news() {
        WorkerProperties properties = aWorker(Path.of(System.getProperty("java.io.tmpdir"))).id(self).build();
        OtherWorkers others = new OtherWorkers(redis, JSON, properties);
        beat(other, new Slot("t1", "ann", 0, 0), new Slot("t1", "ann", 1, 0), new Slot("t1", "ann", 2, 0), new Slot("t1", "ann", 3, 0));

        others.refresh();
        assertThat(others.running("ann")).isEqualTo(1.0);

        beat(other);
        others.refresh();
        assertThat(others.running("ann")).isEqualTo(0.75);
    }
}
