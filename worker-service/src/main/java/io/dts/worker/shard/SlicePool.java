package io.dts.worker.shard;

import java.time.Clock;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import io.dts.model.ItemResult;
import io.dts.model.TaskShard;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.redis.ItemChunks;
import io.dts.worker.redis.PatientRedis;
import io.dts.worker.redis.ShardProgress;
import io.dts.worker.shard.ItemAttempts.Command;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.stereotype.Component;

/**
 * Runs a shard's items on this node's cores: its unrecorded items stream from Redis into a queue, one
 * slice per thread of a fixed pool takes the next item until none is left, and a {@link CountDownLatch}
 * waits for every slice. Items already recorded (a redelivered shard) are skipped.
 */
@Component
class SlicePool {

    private static final Logger log = LoggerFactory.getLogger(SlicePool.class);
    private static final Item END = new Item(-1, null);

    private final WorkerProperties properties;
    private final ItemChunks chunks;
    private final ItemAttempts attempts;
    private final RunningWork running;
    private final ShardProgress progress;
    private final PatientRedis redis;
    private final HaltWatch halts;
    private final Clock clock;
    private final ExecutorService slices;

    SlicePool(WorkerProperties properties, ItemChunks chunks, ItemAttempts attempts, RunningWork running, ShardProgress progress,
                PatientRedis redis, HaltWatch halts, Clock clock) {
        this.properties = properties;
        this.chunks = chunks;
        this.attempts = attempts;
        this.running = running;
        this.progress = progress;
        this.redis = redis;
        this.halts = halts;
        this.clock = clock;
        CustomizableThreadFactory threads = new CustomizableThreadFactory("slice-");
        threads.setDaemon(true);
        this.slices = Executors.newFixedThreadPool(properties.threads(), threads);
    }

    private record Item(long index, String value) {
    }

    /**
     * Runs every unrecorded item of the shard, unless its task is stopping here (cancelled, or the worker drains)
     * or the run loses its registration ({@code held} turns false): then no more of its items start.
     *
     * @return how many items were recorded before this run
     */
    int run(TaskShard shard, BooleanSupplier held) {
        halts.shardStarted(shard);
        try {
            return runPasses(shard, held);
        } finally {
            halts.shardEnded(shard);
        }
    }

    private int runPasses(TaskShard shard, BooleanSupplier held) {
        String taskId = shard.taskId();
        Command command = Command.of(shard.command());
        int skipped = runPass(shard, command, held);
        // Redis acknowledged every result, but a Redis that was killed and restarted may have lost its
        // last second: run whatever is still unrecorded before calling the shard done.
        for (int pass = 2; !running.stopping(taskId) && held.getAsBoolean() && !chunks.allRecorded(shard); pass++) {
            if (pass > properties.maxPasses()) {
                throw new IllegalStateException("Task " + taskId + " shard " + shard.shardIndex() + ": results still missing after "
                        + properties.maxPasses() + " passes");
            }
            log.warn("Task {} shard {}: results missing in Redis (restarted?); running those items again", taskId, shard.shardIndex());
            runPass(shard, command, held);
        }
        return skipped;
    }

    /** Runs every unrecorded item of the shard once, one slice per thread; returns how many were skipped. */
    private int runPass(TaskShard shard, Command command, BooleanSupplier held) {
        int threads = (int) Math.min(properties.threads(), shard.size());
        BlockingQueue<Item> queue = new ArrayBlockingQueue<>(ItemChunks.SIZE * 2);
        CountDownLatch latch = new CountDownLatch(threads);
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        for (int i = 0; i < threads; i++) {
            slices.execute(() -> runSlice(shard, command, held, queue, latch, failure));
        }
        int skipped = feed(shard, queue, failure);
        for (int i = 0; i < threads; i++) {
            put(queue, END);
        }
        await(latch);
        if (failure.get() != null) {
            throw failure.get();
        }
        return skipped;
    }

    /** Puts the shard's unrecorded items on the queue, reading them from Redis chunk by chunk. */
    private int feed(TaskShard shard, BlockingQueue<Item> queue, AtomicReference<RuntimeException> failure) {
        int skipped = 0;
        try {
            for (long from = shard.startIndex(); from < shard.endIndex() && failure.get() == null
                    && !running.stopping(shard.taskId()); from += ItemChunks.SIZE) {
                ShardProgress.Chunk chunk = chunks.read(shard, from);
                for (int i = 0; i < chunk.items().size(); i++) {
                    if (chunk.recorded().get(i)) {
                        skipped++;
                    } else {
                        put(queue, new Item(from + i, chunk.items().get(i)));
                    }
                }
            }
        } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
        }
        return skipped;
    }

    private void runSlice(TaskShard shard, Command command, BooleanSupplier held, BlockingQueue<Item> queue, CountDownLatch latch,
                          AtomicReference<RuntimeException> failure) {
        String taskId = shard.taskId();
        ResultBuffer results = new ResultBuffer(batch -> redis.run(() -> progress.record(taskId, batch)),
                properties.resultBatch(), properties.resultFlushInterval(), clock);
        boolean ended = false;
        try {
            for (Item item = take(queue); item != END; item = take(queue)) {
                if (failure.get() != null || running.stopping(taskId) || !held.getAsBoolean()) {
                    continue;
                }
                if (halts.stopsBefore(shard)) {
                    results.add(ItemResult.skipped(item.index(), item.value(), properties.id(), clock.millis()));
                    results.flushIfDue();
                    continue;
                }
                running.itemStarted(taskId);
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
                results.flushIfDue();
            }
            ended = true;
            results.flush();
        } catch (RuntimeException e) {
            log.error("Task {} shard {}: a slice failed: {}", taskId, shard.shardIndex(), e.getMessage());
            failure.compareAndSet(null, e);
            if (!ended) {
                discard(queue);
            }
        } finally {
            latch.countDown();
        }
    }

    /** Takes the rest of a failed pass off the queue so the feeder is not blocked; the shard is redelivered, its recorded items kept. */
    private static void discard(BlockingQueue<Item> queue) {
        for (Item item = take(queue); item != END; item = take(queue)) {
            // dropped
        }
    }

    private static Item take(BlockingQueue<Item> queue) {
        try {
            return queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void put(BlockingQueue<Item> queue, Item item) {
        try {
            queue.put(item);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @PreDestroy
    void shutdown() {
        slices.shutdownNow();
    }
}
