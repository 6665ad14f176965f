package io.dts.worker.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.dts.redis.LuaScripts;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskRedis;
import io.dts.worker.WorkerInstance;
import io.dts.worker.config.WorkerProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * A task's {@code maxParallel}, and an owner's {@code scheduler.owner-limits.running-items}, across the cluster: a
 * slot takes a lease on one of the task's (or the owner's) places in Redis before its item starts and gives it back
 * when the item ends ({@link RedisKeys#runningItems}, {@link RedisKeys#ownerRunningItems}). Leases last
 * {@code worker.heartbeat-ttl} and are renewed every {@code worker.heartbeat-interval} while their items run, so a
 * dead worker's places come back on their own; items without a cap pay nothing.
 */
@Component
public class RunningItemLeases {

    private static final Logger log = LoggerFactory.getLogger(RunningItemLeases.class);
    private static final RedisScript<Long> TAKE = LuaScripts.load("take-running-item.lua", Long.class);
    private static final RedisScript<Long> RENEW = LuaScripts.load("renew-running-item.lua", Long.class);

    private final TaskRedis tasks;
    private final StringRedisTemplate shared;
    private final PatientRedis redis;
    private final Duration lease;
    private final String instance;
    private final AtomicLong leases = new AtomicLong();
    /** The leases this process holds, by member. */
    private final Map<String, Lease> held = new ConcurrentHashMap<>();

    public RunningItemLeases(TaskRedis tasks, StringRedisTemplate shared, PatientRedis redis, WorkerProperties properties,
                             WorkerInstance instance) {
        this.tasks = tasks;
        this.shared = shared;
        this.redis = redis;
        this.lease = properties.heartbeatTtl();
        this.instance = instance.id();
    }

    /**
     * A place for one item, taken; it must be {@link #release}d.
     *
     * @param taskId the task whose key it is (its Redis Cluster slot), {@code null} for an owner's
     */
    public record Lease(String key, String taskId, String member) {
    }

    /** A place for one more running item of the task, unless {@code maxParallel} of them run in the cluster now. */
    public Optional<Lease> forTask(String taskId, int maxParallel) {
        return take(RedisKeys.runningItems(taskId), taskId, maxParallel);
    }

    /** A place for one more running item of the owner, unless {@code limit} of its items run in the cluster now. */
    public Optional<Lease> forOwner(String owner, int limit) {
        return take(RedisKeys.ownerRunningItems(owner), null, limit);
    }

    private Optional<Lease> take(String key, String taskId, int max) {
        Lease place = new Lease(key, taskId, instance + "/" + leases.incrementAndGet());
        Long taken = redis.call(() -> on(place).execute(TAKE, List.of(key), place.member(), String.valueOf(max),
                String.valueOf(lease.toMillis())));
        if (!Long.valueOf(1).equals(taken)) {
            return Optional.empty();
        }
        held.put(place.member(), place);
        return Optional.of(place);
    }

    /** The item ended: its place is free for another. */
    public void release(Lease taken) {
        held.remove(taken.member());
        redis.run(() -> on(taken).opsForZSet().remove(taken.key(), taken.member()));
    }

    private StringRedisTemplate on(Lease place) {
        return place.taskId() == null ? shared : tasks.forTask(place.taskId());
    }

    @Scheduled(fixedDelayString = "${worker.heartbeat-interval}")
    void renew() {
        Map<String, List<Lease>> byKey = new HashMap<>();
        held.values().forEach(place -> byKey.computeIfAbsent(place.key(), key -> new ArrayList<>()).add(place));
        byKey.forEach((key, places) -> {
            List<String> args = new ArrayList<>(places.size() + 1);
            args.add(String.valueOf(lease.toMillis()));
            places.forEach(place -> args.add(place.member()));
            try {
                on(places.get(0)).execute(RENEW, List.of(key), args.toArray());
            } catch (RuntimeException e) {
                // The next beat tries again; a lease that runs out meanwhile frees its place a little early.
                log.warn("Could not renew {} running item leases of {}: {}", places.size(), key, e.getMessage());
            }
        });
    }
}
