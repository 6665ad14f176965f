package io.dts.worker.shard;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import io.dts.model.TaskShard;
import io.dts.worker.redis.ShardProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's registration of a run of a shard in Redis ({@link ShardProgress#hold}): a lease renewed with
 * the heartbeat, and checked before each item. Once a lease ran out (this process was stopped, paused or cut off
 * from Redis for longer than the lease), another run may have taken the shard and run, even finished, the items
 * this one still has queued: the run starts no more item, and the shard is handed back, so that a fresh delivery
 * reads from Redis what is left. Two deliveries of a shard never run side by side: beside a run, only the runs of
 * workers that took some of its items ({@link io.dts.worker.redis.ShardSplits}) start items of the shard, each of
 * other items; no run starts an item another one ran.
 */
public final class ShardLease {

    private static final Logger log = LoggerFactory.getLogger(ShardLease.class);

    private final ShardProgress progress;
    private final TaskShard shard;
    private final Duration lease;
    private final Clock clock;
    private final String holder;
    /** Until when, by this process's clock, the lease is known to run: half of it after the last renewal asked. */
    private long validUntil;
    private boolean lost;

    private ShardLease(ShardProgress progress, TaskShard shard, Duration lease, Clock clock, String holder, long askedAt) {
        this.progress = progress;
        this.shard = shard;
        this.lease = lease;
        this.clock = clock;
        this.holder = holder;
        this.validUntil = askedAt + lease.toMillis() / 2;
    }

    /** Registers a run of the shard, unless a live run holds it. */
    public static Optional<ShardLease> take(ShardProgress progress, TaskShard shard, String instanceId, Duration lease, Clock clock) {
        long askedAt = clock.millis();
        return progress.hold(shard.taskId(), shard.shardIndex(), shard.round(), instanceId, lease)
                .map(holder -> new ShardLease(progress, shard, lease, clock, holder, askedAt));
    }

    /** The lease of a run registered already, by a steal of items ({@link io.dts.worker.redis.ShardSplits#steal}) asked at {@code askedAt}. */
    static ShardLease stolen(ShardProgress progress, TaskShard part, String holder, Duration lease, Clock clock, long askedAt) {
        return new ShardLease(progress, part, lease, clock, holder, askedAt);
    }

    /** Whether the run may start another item: the lease is known to run, or renewing it just worked. Once false, always false. */
    public synchronized boolean held() {
        if (!lost && clock.millis() >= validUntil && !renew() && !lost) {
            // Redis did not answer in time: the lease may have run out, and the shard be another run's.
            lose("its lease could not be renewed in time");
        }
        return !lost;
    }

    /**
     * Extends the lease.
     *
     * @return false when it ran out (the run is lost then), or Redis did not answer
     */
    synchronized boolean renew() {
        if (lost) {
            return false;
        }
        long askedAt = clock.millis();
        try {
            if (!progress.renew(shard.taskId(), holder, lease)) {
                lose("its lease ran out, so another run may have taken the shard");
                return false;
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

    String taskId() {
        return shard.taskId();
    }

    /** The registration, for {@link ShardProgress#release}. */
    String holder() {
        return holder;
    }
}
