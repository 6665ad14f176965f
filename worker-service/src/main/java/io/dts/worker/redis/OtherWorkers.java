package io.dts.worker.redis;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.dts.model.WorkerHeartbeat;
import io.dts.redis.RedisKeys;
import io.dts.worker.config.WorkerProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the other live workers run, by owner, from their heartbeats: fair share between owners is over the whole
 * cluster, so an owner with many items running elsewhere waits here for one with fewer. Read once every
 * {@code worker.heartbeat-interval} and smoothed over the last few reads: each worker sees the others a beat late,
 * and acting on every late snapshot at once makes the workers swing together from one owner to the other.
 */
@Component
public class OtherWorkers {

    private static final Logger log = LoggerFactory.getLogger(OtherWorkers.class);
    /** The weight of the newest read in the smoothed counts. */
    private static final double NEWEST = 0.25;

    private final StringRedisTemplate redis;
    private final JsonMapper json;
    private final WorkerProperties properties;
    private volatile Map<String, Double> runningByOwner = Map.of();

    public OtherWorkers(StringRedisTemplate redis, JsonMapper json, WorkerProperties properties) {
        this.redis = redis;
        this.json = json;
        this.properties = properties;
    }

    /** Items of the owner running on the other live workers, smoothed over their last heartbeats. */
    public double running(String owner) {
        return runningByOwner.getOrDefault(owner, 0.0);
    }

    @Scheduled(fixedDelayString = "${worker.heartbeat-interval}")
    void refresh() {
        try {
            Set<String> ids = redis.opsForZSet().range(RedisKeys.WORKERS, 0, -1);
            List<String> others = ids == null ? List.of() : ids.stream().filter(id -> !id.equals(properties.id())).map(RedisKeys::worker).toList();
            List<String> beats = others.isEmpty() ? List.of() : redis.opsForValue().multiGet(others);
            Map<String, Integer> counts = new HashMap<>();
            // A dead worker's heartbeat key is gone with its TTL: only live ones answer.
            beats.stream().filter(Objects::nonNull).map(beat -> json.readValue(beat, WorkerHeartbeat.class))
                    .filter(beat -> beat.slots() != null)
                    .forEach(beat -> beat.slots().forEach(slot -> counts.merge(slot.owner(), 1, Integer::sum)));
            Map<String, Double> smoothed = new HashMap<>();
            runningByOwner.forEach((owner, before) -> smoothed.put(owner, before * (1 - NEWEST)));
            counts.forEach((owner, now) -> smoothed.merge(owner, now * NEWEST, Double::sum));
            // An owner that stopped running elsewhere fades out instead of being kept forever.
            smoothed.values().removeIf(running -> running < 0.01);
            runningByOwner = Map.copyOf(smoothed);
        } catch (RuntimeException e) {
            log.warn("Could not read the other workers' heartbeats: {}", e.getMessage());
        }
    }
}
