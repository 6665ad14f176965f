package io.dts.scheduler.worker;

import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import io.dts.model.WorkerHeartbeat;
import io.dts.redis.RedisKeys;
import io.dts.scheduler.config.SchedulerProperties;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.stereotype.Repository;
import tools.jackson.databind.json.JsonMapper;

/**
 * Live workers from their Redis heartbeats: the {@link RedisKeys#WORKERS} index gives the ids seen
 * recently, each worker's own key (which expires when it stops beating) gives its details.
 */
@Repository
public class RedisWorkerDirectory implements WorkerDirectory {

    private final StringRedisTemplate redis;
    private final JsonMapper json;
    private final SchedulerProperties properties;
    private final Clock clock;

    public RedisWorkerDirectory(StringRedisTemplate redis, JsonMapper json, SchedulerProperties properties, Clock clock) {
        this.redis = redis;
        this.json = json;
        this.properties = properties;
        this.clock = clock;
    }

    private volatile List<WorkerHeartbeat> cached = List.of();
    private volatile long cachedAt;

    @Override
    public List<WorkerHeartbeat> liveWorkers() {
        long now = clock.millis();
        if (now - cachedAt > properties.workerCache().toMillis()) {
            cached = readLiveWorkers(now);
            cachedAt = now;
        }
        return cached;
    }

    private List<WorkerHeartbeat> readLiveWorkers(long now) {
        long oldest = now - properties.workerLiveness().toMillis();
        redis.opsForZSet().removeRangeByScore(RedisKeys.WORKERS, 0, oldest - 1);
        Set<String> ids = redis.opsForZSet().rangeByScore(RedisKeys.WORKERS, oldest, Double.MAX_VALUE);
        if (ids == null || ids.isEmpty()) {
            return List.of();
        }
        List<String> beats = redis.opsForValue().multiGet(ids.stream().map(RedisKeys::worker).toList());
        return beats == null ? List.of() : beats.stream().filter(Objects::nonNull)
                .map(beat -> json.readValue(beat, WorkerHeartbeat.class))
                .filter(beat -> beat.lastHeartbeat() >= oldest)
                .sorted(Comparator.comparing(WorkerHeartbeat::id))
                .toList();
    }
}
