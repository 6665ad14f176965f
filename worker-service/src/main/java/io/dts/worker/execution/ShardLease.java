package io.dts.worker.execution;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import io.dts.model.TaskShard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's registration of a run of a shard in Redis ({@link ShardProgress#hold}): a lease renewed with
 * the heartbeat, and checked before each item. A lease that ran out (this process was stopped, paused or cut
 * off from Redis for longer than the lease) may be another run's now: the run registers again if it can, and
 * otherwise starts no more item, so two runs of a shard never start items side by side.
 */
final class ShardLease {

    private static final Logger log = LoggerFactory.getLogger(ShardLease.class);

    private final ShardProgress progress;
    private final TaskShard shard;
    private final String instanceId;
    private final Duration lease;
    private final Clock clock;
    private String holder;
    /** Until when, by this process's clock, the lease is known to run: half of it after the last renewal asked. */
    private long validUntil;
    private boolean lost;

    private ShardLease(ShardProgress progress, TaskShard shard, String instanceId, Duration lease, Clock clock, String holder,
                       long askedAt) {
        this.progress = progress;
        this.shard = shard;
        this.instanceId = instanceId;
        this.lease = lease;
        this.clock = clock;
        this.holder = holder;
        this.validUntil = askedAt + lease.toMillis() / 2;
    }

    /** Registers a run of the shard, unless a live run holds it. */
    static Optional<ShardLease> take(ShardProgress progress, TaskShard shard, String instanceId, Duration lease, Clock clock) {
        long askedAt = clock.millis();
        return progress.hold(shard.taskId(), shard.shardIndex(), shard.round(), instanceId, lease)
                .map(holder -> new ShardLease(progress, shard, instanceId, lease, clock, holder, askedAt));
    }

    /**
     * Whether the run may start another item: the lease is known to run, or renewing it (or registering again,
     * when it ran out and no other run took the shard) just worked. Once false, always false.
     */
    synchronized boolean held() {
        if (!lost && clock.millis() >= validUntil && !renew() && !lost) {
            // Redis did not answer in time: the lease may have run out, and the shard be another run's.
            lose("its lease could not be renewed in time");
        }
        return !lost;
    }

    /**
     * Extends the lease; when it ran out, registers the run again unless another run holds the shard.
     *
     * @return false when the shard is another run's now, or Redis did not answer
     */
    synchronized boolean renew() {
        if (lost) {
            return false;
        }
        long askedAt = clock.millis();
        try {
            if (!progress.renew(shard.taskId(), holder, lease)) {
                Optional<String> again = progress.hold(shard.taskId(), shard.shardIndex(), shard.round(), instanceId, lease);
                if (again.isEmpty()) {
                    lose("its lease ran out and another run holds the shard now");
                    return false;
                }
                holder = again.get();
            }
            validUntil = askedAt + lease.toMillis() / 2;
            return true;
        } catch (RuntimeException e) {
            log.debug("Task {} shard {}: cannot renew its lease now: {}", shard.taskId(), shard.shardIndex(), e.getMessage());
            return false;
        }
    }

    private void lose(String why) {
        lost = true;
        log.warn("Task {} shard {}: {}; no more of its items start here", shard.taskId(), shard.shardIndex(), why);
    }

    /** The registration now, for {@link ShardProgress#release}. */
    synchronized String holder() {
        return holder;
    }

    TaskShard shard() {
        return shard;
    }
}
