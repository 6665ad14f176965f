package io.dts.worker.shard;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import io.dts.model.ItemResult;
import io.dts.model.TaskShard;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.queue.ItemQueue;
import io.dts.worker.redis.ItemChunks;
import io.dts.worker.redis.OtherWorkers;
import io.dts.worker.redis.PatientRedis;
import io.dts.worker.redis.RunningItemLeases;
import io.dts.worker.redis.ShardProgress;
import io.dts.worker.redis.ShardProgress.Scheduling;
import io.dts.worker.shard.ItemAttempts.Command;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.stereotype.Component;

/**
 * This worker's slots (one thread per core, {@code worker.threads}) and how a shard's items reach them. A shard's
 * coordinator reads its unrecorded items from Redis into the worker's {@link ItemQueue}, where every held shard's
 * items wait together; each free slot takes the next one by priority and fair share, so a small task never waits
 * behind a large one, and the coordinator waits until every one of its items ran. Items already recorded (a
 * redelivered shard) are skipped.
 */
@Component
class Slots {

    private static final Logger log = LoggerFactory.getLogger(Slots.class);
    /** How long a task's items wait before they ask again for a place, once maxParallel of them run in the cluster. */
    private static final long PLACE_RETRY_MILLIS = 200;

    private final WorkerProperties properties;
    private final ItemChunks chunks;
    private final ItemAttempts attempts;
    private final RunningWork running;
    private final ShardProgress progress;
    private final PatientRedis redis;
    private final HaltWatch halts;
    private final RunningItemLeases places;
    private final Clock clock;
    private final ItemQueue queue;
    private final ExecutorService slots;

    Slots(WorkerProperties properties, ItemChunks chunks, ItemAttempts attempts, RunningWork running, ShardProgress progress,
          PatientRedis redis, HaltWatch halts, RunningItemLeases places, OtherWorkers others, Clock clock) {
        this.properties = properties;
        this.chunks = chunks;
        this.attempts = attempts;
        this.running = running;
        this.progress = progress;
        this.redis = redis;
        this.halts = halts;
        this.places = places;
        this.clock = clock;
        this.queue = new ItemQueue(clock, others::running);
        CustomizableThreadFactory threads = new CustomizableThreadFactory("slot-");
        threads.setDaemon(true);
        this.slots = Executors.newFixedThreadPool(properties.threads(), threads);
        for (int i = 0; i < properties.threads(); i++) {
            slots.execute(this::serve);
        }
    }

    /**
     * Runs every unrecorded item of the shard, unless its task is stopping here (cancelled, or the worker drains)
     * or the run loses its registration ({@code held} turns false): then no more of its items start.
     *
     * @return how many items were recorded before this run
     */
    int run(TaskShard shard, Scheduling scheduling, BooleanSupplier held) {
        halts.shardStarted(shard);
        try {
            return runPasses(shard, scheduling, held);
        } finally {
            halts.shardEnded(shard);
        }
    }

    /**
     * A slot: runs the items the queue gives it until the worker stops. An item of a task with a {@code maxParallel}
     * first takes one of the task's places in the cluster; when none is free it goes back to wait.
     */
    private void serve() {
        for (ItemQueue.Turn turn = queue.take(); turn != null; turn = queue.take()) {
            Optional<List<RunningItemLeases.Lease>> taken = places(turn);
            if (taken.isEmpty()) {
                queue.putBack(turn, PLACE_RETRY_MILLIS);
                continue;
            }
            try {
                turn.run();
            } finally {
                taken.get().forEach(places::release);
                queue.ended(turn);
            }
        }
    }

    /**
     * A place among the task's maxParallel and one among its owner's running items, in the cluster, for those it
     * has; empty when one is not free (or Redis cannot say), and then none is kept.
     */
    private Optional<List<RunningItemLeases.Lease>> places(ItemQueue.Turn turn) {
        Scheduling scheduling = turn.from().scheduling();
        String taskId = turn.from().shard().taskId();
        List<RunningItemLeases.Lease> taken = new ArrayList<>(2);
        try {
            if (scheduling.maxParallel() != null && !add(taken, places.forTask(taskId, scheduling.maxParallel()))) {
                return Optional.empty();
            }
            if (scheduling.ownerRunningLimit() != null && !add(taken, places.forOwner(scheduling.owner(), scheduling.ownerRunningLimit()))) {
                taken.forEach(places::release);
                return Optional.empty();
            }
            return Optional.of(taken);
        } catch (RuntimeException e) {
            log.warn("Task {}: could not take a place for an item in Redis: {}", taskId, e.getMessage());
            taken.forEach(places::release);
            return Optional.empty();
        }
    }

    private static boolean add(List<RunningItemLeases.Lease> taken, Optional<RunningItemLeases.Lease> place) {
        place.ifPresent(taken::add);
        return place.isPresent();
    }

    private int runPasses(TaskShard shard, Scheduling scheduling, BooleanSupplier held) {
        String taskId = shard.taskId();
        Command command = Command.of(shard.command());
        int skipped = runPass(shard, scheduling, command, held);
        // Redis acknowledged every result, but a Redis that was killed and restarted may have lost its
        // last second: run whatever is still unrecorded before calling the shard done.
        for (int pass = 2; !running.stopping(taskId) && held.getAsBoolean() && !chunks.allRecorded(shard); pass++) {
            if (pass > properties.maxPasses()) {
                throw new IllegalStateException("Task " + taskId + " shard " + shard.shardIndex() + ": results still missing after "
                        + properties.maxPasses() + " passes");
            }
            log.warn("Task {} shard {}: results missing in Redis (restarted?); running those items again", taskId, shard.shardIndex());
            runPass(shard, scheduling, command, held);
        }
        return skipped;
    }

    /** Runs every unrecorded item of the shard once on the worker's slots; returns how many were skipped. */
    private int runPass(TaskShard shard, Scheduling scheduling, Command command, BooleanSupplier held) {
        Pass pass = new Pass(shard, scheduling.owner(), command, held);
        ItemQueue.Waiting waiting = queue.open(shard, scheduling, pass::run);
        pass.waiting = waiting;
        int skipped = 0;
        try {
            skipped = feed(pass);
            queue.allOffered(waiting);
        } catch (RuntimeException e) {
            pass.fail(e);
        }
        queue.awaitDone(waiting);
        try {
            pass.results.flush();
        } catch (RuntimeException e) {
            pass.fail(e);
        }
        if (pass.failure.get() != null) {
            throw pass.failure.get();
        }
        return skipped;
    }

    /** Offers the shard's unrecorded items to the queue, reading them from Redis chunk by chunk as slots take them. */
    private int feed(Pass pass) {
        TaskShard shard = pass.shard;
        int skipped = 0;
        for (long from = shard.startIndex(); from < shard.endIndex() && !running.stopping(shard.taskId()); from += ItemChunks.SIZE) {
            ShardProgress.Chunk chunk = chunks.read(shard, from);
            for (int i = 0; i < chunk.items().size(); i++) {
                if (chunk.recorded().get(i)) {
                    skipped++;
                } else if (!queue.offer(pass.waiting, new ItemQueue.Item(from + i, chunk.items().get(i)))) {
                    return skipped;
                }
            }
        }
        return skipped;
    }

    /** One pass over a shard's items: what its slots share. */
    private final class Pass {
        private final TaskShard shard;
        private final String owner;
        private final Command command;
        private final BooleanSupplier held;
        private final ResultBuffer results;
        private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
        private ItemQueue.Waiting waiting;

        Pass(TaskShard shard, String owner, Command command, BooleanSupplier held) {
            this.shard = shard;
            this.owner = owner;
            this.command = command;
            this.held = held;
            this.results = new ResultBuffer(batch -> redis.run(() -> progress.record(shard.taskId(), batch)),
                    properties.resultBatch(), properties.resultFlushInterval(), clock);
        }

        /** Runs one item on the calling slot and records its result, unless the shard stops here. */
        void run(ItemQueue.Item item) {
            String taskId = shard.taskId();
            if (failure.get() != null || running.stopping(taskId) || !held.getAsBoolean()) {
                return;
            }
            try {
                if (halts.stopsBefore(shard)) {
                    results.add(ItemResult.skipped(item.index(), item.value(), properties.id(), clock.millis()));
                } else {
                    runStarted(item);
                }
                results.flushIfDue();
            } catch (RuntimeException e) {
                log.error("Task {} shard {}: an item failed to run or be recorded: {}", taskId, shard.shardIndex(), e.getMessage());
                fail(e);
            }
        }

        private void runStarted(ItemQueue.Item item) {
            String taskId = shard.taskId();
            running.itemStarted(taskId, owner, item.index(), clock.millis());
            try {
                ItemResult result = attempts.run(shard, command, item.index(), item.value());
                if (!result.succeeded() && halts.killedItems(shard)) {
                    // Killed by its task's halt rule (or failed just as it halted): it runs again on retry-failed.
                    results.add(ItemResult.skipped(item.index(), item.value(), properties.id(), clock.millis()));
                } else if (!running.killed(taskId)) {
                    results.add(result);
                    if (!result.succeeded()) {
                        halts.failed(shard, item.index());
                    }
                }
            } finally {
                running.itemEnded(taskId);
            }
        }

        /** The pass fails: none of its other items runs; the shard is redelivered, its recorded items kept. */
        void fail(RuntimeException e) {
            failure.compareAndSet(null, e);
            queue.drop(waiting);
        }
    }

    @PreDestroy
    void shutdown() {
        queue.close();
        slots.shutdownNow();
    }
}
