package io.dts.worker.heartbeat;

import java.time.Clock;
import java.util.List;

import io.dts.model.RedisKeys;
import io.dts.model.WorkerHeartbeat;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.execution.ShardExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tells every scheduler this worker is alive: its heartbeat key expires after {@code worker.heartbeat-ttl}
 * unless refreshed, and its id is scored by time in the workers index. On a clean stop it leaves at once.
 */
@Component
public class HeartbeatPublisher {

    private static final Logger log = LoggerFactory.getLogger(HeartbeatPublisher.class);

    private final StringRedisTemplate redis;
    private final JsonMapper json;
    private final WorkerProperties properties;
    private final AssignedPartitions partitions;
    private final ShardExecutor executor;
    private final Clock clock;
    private final long startedAt;
    /** Set on a clean stop, so a late scheduled beat cannot bring a leaving worker back. */
    private volatile boolean left;

    public HeartbeatPublisher(StringRedisTemplate redis, JsonMapper json, WorkerProperties properties,
                              AssignedPartitions partitions, ShardExecutor executor, Clock clock) {
        this.redis = redis;
        this.json = json;
        this.properties = properties;
        this.partitions = partitions;
        this.executor = executor;
        this.clock = clock;
        this.startedAt = clock.millis();
        partitions.onChange(this::beat);
    }

    @Scheduled(fixedRateString = "${worker.heartbeat-interval}")
    public void beat() {
        if (left) {
            return;
        }
        long now = clock.millis();
        WorkerHeartbeat heartbeat = new WorkerHeartbeat(properties.id(), WorkerProperties.hostName(),
                ProcessHandle.current().pid(), properties.threads(), executor.busyThreads(), startedAt, now, partitions.current(),
                List.copyOf(executor.runningTasks()));
        try {
            redis.opsForValue().set(RedisKeys.worker(properties.id()), json.writeValueAsString(heartbeat), properties.heartbeatTtl());
            redis.opsForZSet().add(RedisKeys.WORKERS, properties.id(), now);
        } catch (RuntimeException e) {
            log.warn("Worker {}: heartbeat not written: {}", properties.id(), e.getMessage());
        }
    }

    /** On context close, before Redis connections are stopped. */
    @EventListener(ContextClosedEvent.class)
    void leave() {
        left = true;
        try {
            redis.delete(RedisKeys.worker(properties.id()));
            redis.opsForZSet().remove(RedisKeys.WORKERS, properties.id());
        } catch (RuntimeException e) {
            log.warn("Worker {}: could not remove its heartbeat: {}", properties.id(), e.getMessage());
        }
    }
}
