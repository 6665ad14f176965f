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
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * A task's {@code maxParallel} across the cluster: a slot takes a lease on one of the task's places in Redis before
 * its item starts and gives it back when the item ends ({@link RedisKeys#runningItems}). Leases last
 * {@code worker.heartbeat-ttl} and are renewed every {@code worker.heartbeat-interval} while their items run, so a
 * dead worker's places come back on their own; items of tasks without a cap pay nothing.
 */
@Component
public class RunningItemLeases {

    private static final Logger log = LoggerFactory.getLogger(RunningItemLeases.class);
    private static final RedisScript<Long> TAKE = LuaScripts.load("take-running-item.lua", Long.class);
    private static final RedisScript<Long> RENEW = LuaScripts.load("renew-running-item.lua", Long.class);

    private final TaskRedis tasks;
    private final PatientRedis redis;
    private final Duration lease;
    private final String instance;
    private final AtomicLong leases = new AtomicLong();
    /** The leases this process holds, member to task. */
    private final Map<String, String> held = new ConcurrentHashMap<>();

    public RunningItemLeases(TaskRedis tasks, PatientRedis redis, WorkerProperties properties, WorkerInstance instance) {
        this.tasks = tasks;
        this.redis = redis;
        this.lease = properties.heartbeatTtl();
        this.instance = instance.id();
    }

    /** A place for one item of the task, taken; it must be {@link #release}d. */
    public record Lease(String taskId, String member) {
    }

    /** A place for one more running item of the task, unless {@code maxParallel} of them run in the cluster now. */
    public Optional<Lease> take(String taskId, int maxParallel) {
        String member = instance + "/" + leases.incrementAndGet();
        Long taken = redis.call(() -> tasks.forTask(taskId).execute(TAKE, List.of(RedisKeys.runningItems(taskId)), member,
                String.valueOf(maxParallel), String.valueOf(lease.toMillis())));
        if (!Long.valueOf(1).equals(taken)) {
            return Optional.empty();
        }
        held.put(member, taskId);
        return Optional.of(new Lease(taskId, member));
    }

    /** The item ended: its place is free for another. */
    public void release(Lease taken) {
        held.remove(taken.member());
        redis.run(() -> tasks.forTask(taken.taskId()).opsForZSet().remove(RedisKeys.runningItems(taken.taskId()), taken.member()));
    }

    @Scheduled(fixedDelayString = "${worker.heartbeat-interval}")
    void renew() {
        Map<String, List<String>> byTask = new HashMap<>();
        held.forEach((member, taskId) -> byTask.computeIfAbsent(taskId, id -> new ArrayList<>()).add(member));
        byTask.forEach((taskId, members) -> {
            List<String> args = new ArrayList<>(members.size() + 1);
            args.add(String.valueOf(lease.toMillis()));
            args.addAll(members);
            try {
                tasks.forTask(taskId).execute(RENEW, List.of(RedisKeys.runningItems(taskId)), args.toArray());
            } catch (RuntimeException e) {
                // The next beat tries again; a lease that runs out meanwhile frees its place a little early.
                log.warn("Task {}: could not renew {} running item leases: {}", taskId, members.size(), e.getMessage());
            }
        });
    }
}
