package io.dts.worker.shard;

import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.dts.worker.WorkerInstance;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.redis.ShardSplits;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.stereotype.Component;

/**
 * Work stealing, the thief's side: every {@code worker.steal-interval}, a worker with a free slot and nothing to run
 * takes its share of the items another worker's shard has not started yet ({@link ShardSplits}), highest priority first, so
 * a task's tail does not wait on one busy worker while others idle. Only while this process's instance key is known to
 * stay in Redis for another heartbeat interval (not before its first heartbeat, nor when heartbeats fall behind): a run
 * registered by a process without one counts as a dead process's, and its items would run again. Nor while a suspect
 * runs alone here ({@link Quarantine}): what it took would wait behind it.
 */
@Component
class Stealer {

    private static final Logger log = LoggerFactory.getLogger(Stealer.class);
    /** Open splits looked at per try; those found gone leave the set, so the next try sees others. */
    private static final int CANDIDATES = 16;

    private final WorkerProperties properties;
    private final ShardSplits splits;
    private final Slots slots;
    private final ShardExecutor executor;
    private final RunningWork running;
    private final WorkerInstance instance;
    private final Quarantine quarantine;
    private final Clock clock;
    private final ScheduledExecutorService ticks;

    Stealer(WorkerProperties properties, ShardSplits splits, Slots slots, ShardExecutor executor, RunningWork running,
            WorkerInstance instance, Quarantine quarantine, Clock clock) {
        this.properties = properties;
        this.splits = splits;
        this.slots = slots;
        this.executor = executor;
        this.running = running;
        this.instance = instance;
        this.quarantine = quarantine;
        this.clock = clock;
        CustomizableThreadFactory threads = new CustomizableThreadFactory("stealer-");
        threads.setDaemon(true);
        this.ticks = Executors.newSingleThreadScheduledExecutor(threads);
        if (properties.stealing()) {
            long interval = properties.stealInterval().toMillis();
            ticks.scheduleWithFixedDelay(this::stealWhenIdle, interval, interval, TimeUnit.MILLISECONDS);
        }
    }

    void stealWhenIdle() {
        try {
            int idle = slots.idleSlots();
            boolean knownAlive = instance.knownAliveAt(clock.millis() + properties.heartbeatInterval().toMillis());
            if (!knownAlive || running.draining() || idle == 0 || quarantine.suspectHere()) {
                return;
            }
            for (ShardSplits.OpenSplit split : splits.open(CANDIDATES)) {
                long askedAt = clock.millis();
                Optional<ShardSplits.Stolen> stolen = splits.steal(split, idle, properties.heartbeatTtl());
                if (stolen.isPresent()) {
                    ShardSplits.Stolen taken = stolen.get();
                    log.info("Task {} shard {}: took items {} to {} from a busy worker", taken.part().taskId(), taken.part().shardIndex(),
                            taken.part().startIndex(), taken.part().endIndex() - 1);
                    executor.executeStolen(taken, askedAt);
                    return;
                }
            }
        } catch (RuntimeException e) {
            // Redis away: the next tick tries again.
            log.debug("Could not look for items to take from busy workers: {}", e.getMessage());
        }
    }

    @PreDestroy
    void stop() {
        ticks.shutdownNow();
    }
}
