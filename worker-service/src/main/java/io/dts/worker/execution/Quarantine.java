package io.dts.worker.execution;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import io.dts.model.ItemResult;
import io.dts.model.TaskShard;
import io.dts.worker.WorkerInstance;
import io.dts.worker.config.WorkerProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
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

    Quarantine(WorkerProperties properties, ShardProgress progress, PatientRedis redis, ItemChunks chunks, WorkerInstance instance,
               Clock clock) {
        this.properties = properties;
        this.progress = progress;
        this.redis = redis;
        this.chunks = chunks;
        this.instance = instance;
        this.clock = clock;
    }

    /** Whether a shard that {@code deaths} workers died running is not to run again. */
    boolean isDue(int deaths) {
        return deaths >= properties.maxShardDeliveries();
    }

    /** The runs this process holds, by registration, with their task: their leases are renewed while they go. */
    private final Map<String, String> held = new ConcurrentHashMap<>();

    /**
     * Runs the shard, alone on this worker if some worker died running it, registered in Redis while it runs.
     *
     * @return false, without running it, when a live run of the shard (another delivery) holds it
     */
    boolean run(TaskShard shard, int deaths, Runnable run) {
        Lock lock = deaths == 0 ? alone.readLock() : alone.writeLock();
        if (deaths > 0) {
            log.warn("Task {} shard {}: {} worker(s) died running it; running it alone on this worker", shard.taskId(), shard.shardIndex(),
                    deaths);
        }
        lock.lock();
        try {
            // Registered only once the lock is held: a shard waiting here has not started, and is no bystander if this worker dies.
            Optional<String> holder = redis.call(() -> progress.hold(shard.taskId(), shard.shardIndex(), shard.round(), instance.id(),
                    leaseEnd()));
            if (holder.isEmpty()) {
                return false;
            }
            held.put(holder.get(), shard.taskId());
            try {
                run.run();
            } finally {
                held.remove(holder.get());
                release(shard, holder.get());
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The heartbeat of the runs this process holds. A renewal that fails is tried again at the next one. */
    @Scheduled(fixedRateString = "${worker.heartbeat-interval}")
    void renewLeases() {
        held.forEach((holder, taskId) -> {
            try {
                if (!progress.renew(taskId, holder, leaseEnd())) {
                    log.warn("Task {}: the run {} was not registered any more when its lease was renewed", taskId, holder);
                }
            } catch (RuntimeException e) {
                log.debug("Task {}: cannot renew the lease of run {} now: {}", taskId, holder, e.getMessage());
            }
        });
    }

    private long leaseEnd() {
        return clock.millis() + properties.heartbeatTtl().toMillis();
    }

    /** Takes back the run's registration however the run ended: this process lives on, so it is no death. */
    private void release(TaskShard shard, String holder) {
        try {
            redis.run(() -> progress.release(shard.taskId(), holder));
        } catch (RuntimeException e) {
            // Left behind, it holds the shard until its lease runs out, then it is dropped as no death: no longer renewed.
            log.warn("Task {} shard {}: its run {} stays registered in Redis: {}", shard.taskId(), shard.shardIndex(), holder,
                    e.getMessage());
        }
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
