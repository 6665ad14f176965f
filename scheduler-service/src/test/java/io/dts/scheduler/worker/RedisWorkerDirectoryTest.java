package io.dts.scheduler.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.dts.model.WorkerHeartbeat;
import io.dts.redis.RedisKeys;
import io.dts.scheduler.config.SchedulerProperties;
import io.dts.scheduler.config.TestSchedulerProperties;
import io.dts.testsupport.RedisConnections;
import io.dts.testsupport.SettableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.json.JsonMapper;

/** The live workers as every scheduler reads them from the heartbeats in a real Redis. */
class RedisWorkerDirectoryTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final SettableClock clock = new SettableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private LettuceConnectionFactory connections;
    private StringRedisTemplate redis;
    private RedisWorkerDirectory directory;
    private final String prefix = "directory-test-" + UUID.randomUUID() + "-";

    @BeforeEach
    void connect() {
        connections = RedisConnections.toServer();
        redis = new StringRedisTemplate(connections);
        redis.delete(RedisKeys.WORKERS);
        SchedulerProperties properties = TestSchedulerProperties.with(Map.of("worker-cache", "1s"));
        directory = new RedisWorkerDirectory(redis, JSON, properties, clock);
    }

    @AfterEach
    void disconnect() {
        redis.delete(RedisKeys.WORKERS);
        connections.destroy();
    }

    private void beat(String id, Instant at) {
        String worker = prefix + id;
        WorkerHeartbeat beat = new WorkerHeartbeat(worker, "i-" + id, "host", 1, 2, 0, 0, at.toEpochMilli(), List.of(0), List.of(), Map.of(), List.of());
        redis.opsForValue().set(RedisKeys.worker(worker), JSON.writeValueAsString(beat), Duration.ofMinutes(1));
        redis.opsForZSet().add(RedisKeys.WORKERS, worker, at.toEpochMilli());
    }

    @Test
    void lists_the_workers_with_a_recent_heartbeat_by_id_and_forgets_the_others() {
        beat("b", clock.instant());
        beat("a", clock.instant().minusSeconds(9));
        beat("gone", clock.instant().minusSeconds(11));

        assertThat(directory.liveWorkers()).extracting(WorkerHeartbeat::id).containsExactly(prefix + "a", prefix + "b");
        assertThat(redis.opsForZSet().score(RedisKeys.WORKERS, prefix + "gone")).as("dropped from the index").isNull();
    }

    @Test
    void reads_redis_at_most_once_per_cache_period_however_often_it_is_asked() {
        beat("a", clock.instant());
        assertThat(directory.liveWorkers()).hasSize(1);

        beat("b", clock.instant());
        assertThat(directory.liveWorkers()).as("within the period: the cached answer").hasSize(1);

        clock.advance(Duration.ofMillis(1_001));
        assertThat(directory.liveWorkers()).as("after the period: read again").hasSize(2);
    }
}
