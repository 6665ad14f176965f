package io.dts.worker.shard;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

import io.dts.model.ItemResult;
import io.dts.model.TaskShard;
import io.dts.worker.WorkerInstance;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.redis.ItemChunks;
import io.dts.worker.redis.PatientRedis;
import io.dts.worker.redis.ShardProgress;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.stereotype.Component;

/**
 * Keeps a shard that kills its workers from killing more, and a shard from running twice at once: each run
 * of a shard is registered in Redis while it goes, unless a live run holds it already, so a worker that dies
 * running it leaves a death behind; a suspect (a shard some worker died running) runs alone; a shard
 * {@code worker.max-shard-deliveries} workers died running is not run at all, its unrecorded items are failed
 * with the reason. A registration is a lease of {@code worker.heartbeat-ttl}, renewed with each heartbeat
 * while the run goes: one this process failed to remove (Redis away too long) holds the shard no longer than that.
 */
@Component
class Quarantine {

    private static final Logger log = LoggerFactory.getLogger(Quarantine.class);

    private final WorkerProperties properties;
    private final ShardProgress progress;
    private final PatientRedis redis;
    private final ItemChunks chunks;
    private final WorkerInstance instance;
    private final Clock clock;
    /**
     * Shards run under the read lock; a suspect runs under the write lock: it waits until the shards
     * running here end, and no other starts beside it. When an item kills its worker, every shard that
     * worker was running is left with a dead run, the poison's and its bystanders' alike. Run alone, an
     * innocent suspect just finishes, and a poison shard that kills this worker too takes no bystander
     * with it: only the poison shard keeps adding deaths until it is quarantined. Fair, so new shards do
     * not keep a waiting suspect out.
     */
    private final ReentrantReadWriteLock alone = new ReentrantReadWriteLock(true);

    /** The runs this process holds now: their leases are renewed while they go. */
    private final Set<ShardLease> leases = ConcurrentHashMap.newKeySet();
    /** Registrations whose release failed (Redis away), with their task: tried again with each heartbeat. */
    private final Map<String, String> unreleased = new ConcurrentHashMap<>();
    private final ScheduledExecutorService renewals;

    Quarantine(WorkerProperties properties, ShardProgress progress, PatientRedis redis, ItemChunks chunks, WorkerInstance instance,
               Clock clock) {
        this.properties = properties;
        this.progress = progress;
        this.redis = redis;
        this.chunks = chunks;
        this.instance = instance;
        this.clock = clock;
        CustomizableThreadFactory threads = new CustomizableThreadFactory("leases-");
        threads.setDaemon(true);
        this.renewals = Executors.newSingleThreadScheduledExecutor(threads);
        long interval = properties.heartbeatInterval().toMillis();
        renewals.scheduleAtFixedRate(this::renewLeases, interval, interval, TimeUnit.MILLISECONDS);
    }

    /**
     * Whether a suspect runs alone here, or waits to: items taken from a busy worker now would wait behind it, their
     * run's lease not yet renewed, and go back to their owner when it ran out.
     */
    boolean suspectHere() {
        return alone.isWriteLocked() || alone.hasQueuedThreads();
    }

    /** Whether a shard that {@code deaths} workers died running is not to run again. */
    boolean isDue(int deaths) {
        return deaths >= properties.maxShardDeliveries();
    }

    /**
     * Runs the shard, alone on this worker if some worker died running it, registered in Redis while it runs
     * ({@link ShardLease}); {@code run} checks the lease before each item.
     *
     * @return what became of it, or empty, without running it, when a live run of the shard (another delivery) holds it
     */
    Optional<ShardFate> run(TaskShard shard, int deaths, Function<ShardLease, ShardFate> run) {
        Lock lock = deaths == 0 ? alone.readLock() : alone.writeLock();
        if (deaths > 0) {
            log.warn("Task {} shard {}: {} worker(s) died running it; running it alone on this worker", shard.taskId(), shard.shardIndex(),
                    deaths);
        }
        lock.lock();
        try {
            // Registered only once the lock is held: a shard waiting here has not started, and is no bystander if this worker dies.
            Optional<ShardLease> lease = redis.call(() -> {
                if (!instance.knownAliveAt(clock.millis())) {
                    // A run registered now would count as a dead process's: wait for the heartbeat as for Redis itself.
                    throw new TransientDataAccessResourceException("this process's heartbeat is not in Redis");
                }
                return ShardLease.take(progress, shard, instance.id(), properties.heartbeatTtl(), clock);
            });
            if (lease.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(holding(lease.get(), run));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs items taken from another worker's shard (work stealing) under their registration, renewed while they run
     * and released after. Only a shard no worker died running is split, so they run beside this worker's other shards.
     */
    <T> T runStolen(ShardLease lease, Function<ShardLease, T> run) {
        alone.readLock().lock();
        try {
            return holding(lease, run);
        } finally {
            alone.readLock().unlock();
        }
    }

    private <T> T holding(ShardLease lease, Function<ShardLease, T> run) {
        leases.add(lease);
        try {
            return run.apply(lease);
        } finally {
            leases.remove(lease);
            release(lease.taskId(), lease.holder());
        }
    }

    /**
     * The heartbeat of the runs this process holds, on a thread of its own (the scheduler's may be busy killing
     * processes), and another try at the releases that failed.
     */
    private void renewLeases() {
        leases.forEach(ShardLease::renew);
        unreleased.forEach((holder, taskId) -> {
            try {
                progress.release(taskId, holder);
                unreleased.remove(holder);
            } catch (RuntimeException e) {
                log.debug("Task {}: cannot release the run {} yet: {}", taskId, holder, e.getMessage());
            }
        });
    }

    /**
     * Takes back the run's registration however the run ended: this process lives on, so it is no death. One that
     * cannot be removed now is tried again with each heartbeat; meanwhile its lease runs out, so it holds the shard
     * no longer than {@code worker.heartbeat-ttl}.
     */
    private void release(String taskId, String holder) {
        try {
            redis.run(() -> progress.release(taskId, holder));
        } catch (RuntimeException e) {
            log.warn("Task {}: its run {} stays registered in Redis for now: {}", taskId, holder, e.getMessage());
            unreleased.put(holder, taskId);
        }
    }

    /** On a clean stop, a last try at the releases that failed, then no more renewals. */
    @PreDestroy
    void stop() {
        renewals.shutdownNow();
        renewLeases();
    }

    /**
     * Records every unrecorded item of a shard that {@code deaths} workers died running as failed, without
     * running it: the crash loop ends here. The caller then marks the shard done, so the task can finish.
     */
    void failUnrecorded(TaskShard shard, int deaths) {
        log.error("Task {} shard {} quarantined: {} workers died running it (worker.max-shard-deliveries = {})",
                shard.taskId(), shard.shardIndex(), deaths, properties.maxShardDeliveries());
        String reason = "dts: not run: " + deaths + (deaths == 1 ? " worker" : " workers") + " died running shard "
                + shard.shardIndex() + " of this task (worker.max-shard-deliveries = " + properties.maxShardDeliveries()
                + "); its unfinished items are failed without running\n";
        for (long from = shard.startIndex(); from < shard.endIndex(); from += ItemChunks.SIZE) {
            ShardProgress.Chunk chunk = chunks.read(shard, from);
            List<ItemResult> failed = new ArrayList<>();
            for (int i = 0; i < chunk.items().size(); i++) {
                if (!chunk.recorded().get(i)) {
                    failed.add(ItemAttempts.notRun(from + i, chunk.items().get(i), reason, properties.id(), clock));
                }
            }
            redis.run(() -> progress.record(shard.taskId(), failed));
        }
    }
}
