package io.dts.worker.shard;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import io.dts.model.ItemResult;
import io.dts.model.TaskShard;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.queue.ItemQueue;
import io.dts.worker.queue.ResultBuffer;
import io.dts.worker.redis.ItemChunks;
import io.dts.worker.redis.OtherWorkers;
import io.dts.worker.redis.PatientRedis;
import io.dts.worker.redis.RunningItemLeases;
import io.dts.worker.redis.ShardProgress;
import io.dts.worker.redis.ShardProgress.Scheduling;
import io.dts.worker.redis.ShardSplits;
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
    private final ShardSplits splits;
    private final ItemQueue queue;
    private final ExecutorService slots;

    Slots(WorkerProperties properties, ItemChunks chunks, ItemAttempts attempts, RunningWork running, ShardProgress progress,
          PatientRedis redis, HaltWatch halts, RunningItemLeases places, OtherWorkers others, ShardSplits splits, Clock clock) {
        this.properties = properties;
        this.chunks = chunks;
        this.attempts = attempts;
        this.running = running;
        this.progress = progress;
        this.redis = redis;
        this.halts = halts;
        this.places = places;
        this.splits = splits;
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
        return run(shard, scheduling, held, null);
    }

    /**
     * As {@link #run(TaskShard, Scheduling, BooleanSupplier)}, letting idle workers take items of the shard this
     * worker has not started yet (work stealing) when {@code holder}, the run's registration, is given: then the items
     * are claimed a block at a time as the slots need them, and the run returns once the items taken elsewhere are
     * recorded too (or, when a worker that took some died, run here).
     */
    int run(TaskShard shard, Scheduling scheduling, BooleanSupplier held, String holder) {
        halts.shardStarted(shard);
        try {
            return runPasses(shard, scheduling, held, holder);
        } finally {
            halts.shardEnded(shard);
        }
    }

    /** Slots free with nothing to run: how many items this worker may take from a busy one. */
    int idleSlots() {
        int free = properties.threads() - running.busyThreads();
        return free > 0 && !queue.hasTakeable() ? free : 0;
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

    private int runPasses(TaskShard shard, Scheduling scheduling, BooleanSupplier held, String holder) {
        String taskId = shard.taskId();
        Command command = Command.of(shard.command());
        int skipped = runPass(shard, scheduling, command, held, holder);
        // Redis acknowledged every result, but a Redis that was killed and restarted may have lost its
        // last second: run whatever is still unrecorded before calling the shard done. A later pass is not split: it
        // repairs. Items another worker took get here only when its run ended without them (its lease ran out, it
        // stopped, or the split it read was not signed); one that died fails the pass instead (see Split.close).
        for (int pass = 2; !running.stopping(taskId) && held.getAsBoolean() && !chunks.allRecorded(shard); pass++) {
            if (pass > properties.maxPasses()) {
                throw new IllegalStateException("Task " + taskId + " shard " + shard.shardIndex() + ": results still missing after "
                        + properties.maxPasses() + " passes");
            }
            log.warn("Task {} shard {}: results missing in Redis (it restarted, or a worker that took some of the items ended"
                    + " without running them); running those items again", taskId, shard.shardIndex());
            runPass(shard, scheduling, command, held, null);
        }
        return skipped;
    }

    /**
     * Runs every unrecorded item of the shard once on the worker's slots, or those idle workers do not take when
     * {@code holder} splits it; returns how many were skipped.
     */
    private int runPass(TaskShard shard, Scheduling scheduling, Command command, BooleanSupplier held, String holder) {
        Claims claims = holder == null || shard.size() < 2 ? new AllItems(shard) : new Split(shard, holder, scheduling.priority());
        Pass pass = new Pass(shard, scheduling.owner(), command, held, claims);
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
        try {
            // After the flush: this worker's results are in Redis while it waits for the items others took.
            claims.close(held);
        } catch (RuntimeException e) {
            pass.fail(e);
        }
        if (pass.failure.get() != null) {
            throw pass.failure.get();
        }
        return skipped;
    }

    /**
     * Offers the shard's unrecorded items to the queue, reading them from Redis chunk by chunk as slots take them, up
     * to where idle workers took the rest.
     */
    private int feed(Pass pass) {
        TaskShard shard = pass.shard;
        int skipped = 0;
        for (long from = shard.startIndex(); from < pass.claims.end() && !running.stopping(shard.taskId()); from += ItemChunks.SIZE) {
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

    /** Which of its shard's items a pass runs: all of them, or those it claims before idle workers take them ({@link Split}). */
    private interface Claims {

        /** Whether the pass runs the item: a slot asks before it starts one. */
        boolean owns(long index, Pass pass);

        /** Where the pass's items end, as far as it knows: none beyond is read. */
        long end();

        /** No more claims; returns once no item taken from the shard elsewhere runs (or the run is no longer held). */
        void close(BooleanSupplier held);
    }

    /** A shard no idle worker takes from: every item is the pass's. */
    private record AllItems(TaskShard shard) implements Claims {

        @Override
        public boolean owns(long index, Pass pass) {
            return true;
        }

        @Override
        public long end() {
            return shard.endIndex();
        }

        @Override
        public void close(BooleanSupplier held) {
        }
    }

    /**
     * A shard an idle worker may take half of what is not claimed yet from ({@link ShardSplits}). Its items wait in
     * the queue as any shard's, but a slot claims them in Redis as it takes them, about a second of this worker's work
     * at a time, and leaves those beyond the claim to the worker that took them. The pass ends only once those
     * workers' runs end: their items are recorded by then, or, when such a worker died, still unrecorded and run in
     * the next pass here.
     */
    private final class Split implements Claims {
        private final TaskShard shard;
        private final String holder;
        private final ShardSplits.OpenSplit listed;
        /** The end of the items claimed, and of those that may still be: guarded by this. */
        private long claimed;
        private volatile long end;

        Split(TaskShard shard, String holder, int priority) {
            this.shard = shard;
            this.holder = holder;
            this.claimed = shard.startIndex();
            this.end = shard.endIndex();
            this.listed = redis.call(() -> splits.open(shard, holder, priority, properties.threads()));
        }

        @Override
        public synchronized boolean owns(long index, Pass pass) {
            if (index < claimed) {
                return true;
            }
            if (index >= end) {
                return false;
            }
            long upTo = Math.min(shard.endIndex(), index + Math.max(properties.threads(),
                    Math.min(ItemChunks.SIZE, pass.itemsPerSecond() * properties.threads())));
            long owned = redis.call(() -> splits.claim(shard, holder, upTo));
            if (owned < upTo) {
                // Idle workers took the rest, or (-1) the split is no longer this run's: no item beyond runs here.
                end = Math.max(owned, claimed);
            }
            claimed = Math.max(claimed, owned);
            return index < claimed;
        }

        @Override
        public long end() {
            return end;
        }

        /**
         * {@inheritDoc} A split is opened only for a shard no worker died running: a death now is a worker that took some
         * of its items, maybe killed by one of them. Then the pass fails and the shard is delivered again, to run, like
         * any shard a worker died running, alone on its worker and unsplit, or quarantined at the limit.
         */
        @Override
        public void close(BooleanSupplier held) {
            redis.run(() -> splits.close(shard, holder, listed));
            // Every other live run of the shard is one that took some of its items.
            Optional<ShardProgress.ShardState> state = state();
            boolean toldWaiting = false;
            while (!running.stopping(shard.taskId()) && held.getAsBoolean() && state.map(s -> s.liveHolders() > 1).orElse(false)) {
                if (!toldWaiting) {
                    log.info("Task {} shard {}: waiting for the workers that took some of its items", shard.taskId(), shard.shardIndex());
                    toldWaiting = true;
                }
                try {
                    Thread.sleep(properties.cancelCheckInterval().toMillis());
                } catch (InterruptedException e) {
                    // Not a clean end: a thief may still run its items, so no later pass may run them here.
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Task " + shard.taskId() + " shard " + shard.shardIndex()
                            + ": interrupted while waiting for the workers that took some of its items", e);
                }
                state = state();
            }
            int deaths = state.map(ShardProgress.ShardState::deadHolders).orElse(0);
            if (deaths > 0) {
                throw new IllegalStateException("Task " + shard.taskId() + " shard " + shard.shardIndex() + ": " + deaths
                        + " worker(s) that took some of its items died; the shard runs again, alone");
            }
        }

        private Optional<ShardProgress.ShardState> state() {
            return redis.call(() -> progress.state(shard.taskId(), shard.shardIndex(), shard.round()));
        }
    }

    /** One pass over a shard's items: what its slots share. */
    private final class Pass {
        private final TaskShard shard;
        private final String owner;
        private final Command command;
        private final BooleanSupplier held;
        private final Claims claims;
        private final ResultBuffer results;
        private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
        private final AtomicLong itemsRun = new AtomicLong();
        private final AtomicLong itemMillis = new AtomicLong();
        private ItemQueue.Waiting waiting;

        Pass(TaskShard shard, String owner, Command command, BooleanSupplier held, Claims claims) {
            this.shard = shard;
            this.owner = owner;
            this.command = command;
            this.held = held;
            this.claims = claims;
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
                if (!claims.owns(item.index(), this)) {
                    return;
                }
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

        /** Items one slot runs per second, by the items of this pass so far; 1 before any ended. */
        long itemsPerSecond() {
            long ran = itemsRun.get();
            return ran == 0 ? 1 : Math.max(1, ran * 1000 / Math.max(1, itemMillis.get()));
        }

        private void runStarted(ItemQueue.Item item) {
            String taskId = shard.taskId();
            long started = clock.millis();
            running.itemStarted(taskId, owner, item.index(), started);
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
                itemMillis.addAndGet(clock.millis() - started);
                itemsRun.incrementAndGet();
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
