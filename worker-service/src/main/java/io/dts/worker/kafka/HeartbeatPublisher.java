package io.dts.worker.kafka;

import java.time.Clock;
import java.util.List;

import io.dts.model.WorkerHeartbeat;
import io.dts.redis.RedisKeys;
import io.dts.worker.WorkerInstance;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.shard.WorkerLoad;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tells every scheduler this worker is alive: its heartbeat key expires after {@code worker.heartbeat-ttl}
 * unless refreshed, and its id is scored by time in the workers index. On a clean stop it leaves at once.
 * It also keeps this process's instance key alive, which tells other workers that the shards this
 * process registered as running are not left behind by a dead worker.
 */
@Component
public class HeartbeatPublisher {

    private static final Logger log = LoggerFactory.getLogger(HeartbeatPublisher.class);

    private final StringRedisTemplate redis;
    private final JsonMapper json;
    private final WorkerProperties properties;
    private final WorkerInstance instance;
    private final AssignedPartitions partitions;
    private final WorkerLoad load;
    private final Clock clock;
    private final long startedAt;
    /** Set on a clean stop, so a late scheduled beat cannot bring a leaving worker back. */
    private volatile boolean left;
    /** Set once the previous process with this worker id, if any, is known to be gone. */
    private boolean previousRetired;

    public HeartbeatPublisher(StringRedisTemplate redis, JsonMapper json, WorkerProperties properties, WorkerInstance instance,
                              AssignedPartitions partitions, WorkerLoad load, Clock clock) {
        this.redis = redis;
        this.json = json;
        this.properties = properties;
        this.instance = instance;
        this.partitions = partitions;
        this.load = load;
        this.clock = clock;
        this.startedAt = clock.millis();
        partitions.onChange(this::beat);
    }

    /** Synchronized: called by the scheduler and, on a partition assignment, by the Kafka consumer before it takes a shard. */
    @Scheduled(fixedRateString = "${worker.heartbeat-interval}")
    public synchronized void beat() {
        try {
            // Still refreshed while leaving: the shards this process drains are held by a live process until it exits.
            long writtenAt = clock.millis();
            redis.opsForValue().set(RedisKeys.workerInstance(instance.id()), properties.id(), properties.heartbeatTtl());
            if (left) {
                return;
            }
            if (!previousRetired) {
                retirePrevious();
                previousRetired = true;
            }
            instance.announcedUntil(writtenAt + properties.heartbeatTtl().toMillis());
            long now = clock.millis();
            WorkerHeartbeat heartbeat = new WorkerHeartbeat(properties.id(), instance.id(), WorkerProperties.hostName(),
                    ProcessHandle.current().pid(), properties.threads(), load.busyThreads(), startedAt, now, partitions.current(),
                    List.copyOf(load.runningTasks()), load.runningItems(), load.slots());
            redis.opsForValue().set(RedisKeys.worker(properties.id()), json.writeValueAsString(heartbeat), properties.heartbeatTtl());
            redis.opsForZSet().add(RedisKeys.WORKERS, properties.id(), now);
        } catch (RuntimeException e) {
            log.warn("Worker {}: heartbeat not written: {}", properties.id(), e.getMessage());
        }
    }

    /**
     * A heartbeat under this worker id from another instance is that of the process this one replaces
     * (a restart reuses the id): it is gone, so its instance key goes now rather than when it expires,
     * and the shards it died running count as such before this process takes any of them.
     */
    private void retirePrevious() {
        String beat = redis.opsForValue().get(RedisKeys.worker(properties.id()));
        String previous = null;
        try {
            previous = beat == null ? null : json.readValue(beat, WorkerHeartbeat.class).instanceId();
        } catch (JacksonException unreadable) {
            log.debug("Worker {}: the previous heartbeat is not readable: {}", properties.id(), unreadable.getMessage());
        }
        if (previous != null && !previous.equals(instance.id())) {
            redis.delete(RedisKeys.workerInstance(previous));
            log.info("Worker {}: restarted; its previous process (instance {}) is gone", properties.id(), previous);
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
