package io.dts.worker.execution;

import java.util.concurrent.ThreadFactory;
import java.util.function.Supplier;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import io.dts.model.ItemPlaceholder;
import io.dts.model.ItemResult;
import io.dts.model.TaskEvent;
import io.dts.model.TaskShard;
import io.dts.model.TaskStatus;
import io.dts.model.Utf8;
import io.dts.worker.WorkerInstance;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.execution.ShardProgress.ShardState;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.retry.RetryPolicy;
import org.springframework.core.retry.RetryTemplate;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.data.redis.connection.RedisPipelineException;
import org.springframework.stereotype.Component;

/**
 * Runs a shard on this node's cores: one slice per thread of a fixed pool, each slice taking the
 * shard's next item until none is left, and a {@link CountDownLatch} that waits for all slices. Items
 * already recorded (a redelivered shard) are skipped. Only when every item's result is in Redis is
 * the shard marked done, and only then does the returned future complete, so the Kafka offset is
 * committed after the work is recorded. Each run is registered in Redis while it goes, so a shard that
 * workers keep dying on is found and quarantined instead of killing the next worker too.
 */
@Component
public class ShardExecutor {

    private static final Logger log = LoggerFactory.getLogger(ShardExecutor.class);
    /** Items read from Redis per round trip. */
    private static final int ITEM_CHUNK = 512;
    private static final Item END = new Item(-1, null);
    /** Passes over a shard before it is given up to Kafka redelivery. */
    private static final int MAX_PASSES = 3;

    private final WorkerProperties properties;
    private final ShardProgress progress;
    private final CommandRunner runner;
    private final TaskEventPublisher events;
    private final Clock clock;
    private final WorkerInstance instance;
    private final ExecutorService slices;
    private final ExecutorService coordinators;
    private final AtomicInteger busyThreads = new AtomicInteger();
    private final RetryTemplate untilRedisAnswers;
    /** Shards running per task, and the tasks found cancelled while they run. */
    private final Map<String, AtomicInteger> runningShards = new ConcurrentHashMap<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    /** Set when the worker stops: running items finish and are recorded, no new item starts. */
    private volatile boolean draining;
    /** Set when the drain kills the items still running: their outcomes are the kill's, not the items'. */
    private volatile boolean itemsKilled;
    /**
     * Shards run under the read lock; a suspect, a shard some worker already died running, runs under
     * the write lock: it waits until the shards running here end, and no other starts beside it. When
     * an item kills its worker, every shard that worker was running is left with a dead run, the
     * poison's and its bystanders' alike. Run alone, an innocent suspect just finishes, and a poison
     * shard that kills this worker too takes no bystander with it: only the poison shard keeps adding
     * deaths until it is quarantined. Fair, so new shards do not keep a waiting suspect out.
     */
    private final ReentrantReadWriteLock alone = new ReentrantReadWriteLock(true);

    public ShardExecutor(WorkerProperties properties, ShardProgress progress, CommandRunner runner,
                         TaskEventPublisher events, Clock clock, WorkerInstance instance) {
        this.properties = properties;
        this.progress = progress;
        this.runner = runner;
        this.events = events;
        this.clock = clock;
        this.instance = instance;
        this.slices = Executors.newFixedThreadPool(properties.threads(), named("slice"));
        this.coordinators = Executors.newFixedThreadPool(properties.maxShardsInFlight(), named("shard"));
        // While Redis is down a slice keeps its unwritten results and retries; meanwhile no slice
        // is free and the consumer takes no new shard. Past the tolerance the shard fails and Kafka redelivers it.
        this.untilRedisAnswers = new RetryTemplate(RetryPolicy.builder()
                .includes(DataAccessResourceFailureException.class, TransientDataAccessException.class, RedisSystemException.class,
                        RedisPipelineException.class)
                .maxRetries(Long.MAX_VALUE).delay(Duration.ofMillis(250)).multiplier(2).maxDelay(Duration.ofSeconds(5))
                .timeout(properties.redisOutageTolerance()).build());
    }

    /** Tasks with a shard running on this worker now. */
    public Set<String> runningTasks() {
        return Set.copyOf(runningShards.keySet());
    }

    /** Kills the task's running processes and starts none of its remaining items here. */
    public void cancel(String taskId) {
        if (runningShards.containsKey(taskId) && cancelled.add(taskId)) {
            log.info("Task {} cancelled: stopping its items on this worker", taskId);
            runner.killAll(taskId);
        }
    }

    /**
     * On a clean stop (SIGTERM), before the Kafka consumer closes: let running items finish and be
     * recorded, start no new one, and leave the unfinished shards uncommitted so Kafka hands them to
     * another worker, which runs only what is not recorded.
     */
    @EventListener(ContextClosedEvent.class)
    void drain() throws InterruptedException {
        draining = true;
        log.info("Worker {} stopping: finishing running items, handing back {} unfinished shards", properties.id(), runningShards.size());
        coordinators.shutdown();
        if (!coordinators.awaitTermination(properties.drainTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
            log.warn("Worker {}: items still running after {}; killing them", properties.id(), properties.drainTimeout());
            // Before the kill, so that no killed item's outcome is recorded: the shard is handed back and runs them again.
            itemsKilled = true;
            runningShards.keySet().forEach(runner::killAll);
        }
    }

    private boolean stopping(String taskId) {
        return draining || cancelled.contains(taskId);
    }

    private <T> T patiently(Supplier<T> redisCall) {
        return untilRedisAnswers.invoke(redisCall);
    }

    private record Item(long index, String value) {
    }

    /** The shard's command, measured once per shard: its size and placeholders give each item's command size. */
    private record Command(String text, long bytes, int placeholders) {

        static Command of(String text) {
            return new Command(text, Utf8.length(text), ItemPlaceholder.occurrences(text));
        }
    }

    /** Runs the shard in the background; the future completes once the shard is recorded as done. */
    public CompletableFuture<Void> execute(TaskShard shard) {
        return CompletableFuture.runAsync(() -> run(shard), coordinators);
    }

    public int busyThreads() {
        return busyThreads.get();
    }

    private void run(TaskShard shard) {
        runningShards.computeIfAbsent(shard.taskId(), id -> new AtomicInteger()).incrementAndGet();
        try {
            runShard(shard);
        } finally {
            runningShards.computeIfPresent(shard.taskId(), (id, count) -> {
                if (count.decrementAndGet() > 0) {
                    return count;
                }
                cancelled.remove(id);
                return null;
            });
        }
    }

    private void runShard(TaskShard shard) {
        String taskId = shard.taskId();
        Optional<ShardState> state = patiently(() -> progress.state(taskId, shard.shardIndex(), shard.round()));
        if (skipped(shard, state)) {
            return;
        }
        int deaths = state.get().deadHolders();
        if (deaths >= properties.maxShardDeliveries()) {
            quarantine(shard, deaths);
            throw new ShardQuarantined(shard, deaths);
        }
        Lock lock = deaths == 0 ? alone.readLock() : alone.writeLock();
        if (deaths > 0) {
            log.warn("Task {} shard {}: {} worker(s) died running it; running it alone on this worker", taskId, shard.shardIndex(), deaths);
        }
        lock.lock();
        try {
            // Registered only once the lock is held: a shard waiting here has not started, and is no bystander if this worker dies.
            String holder = patiently(() -> progress.hold(taskId, shard.shardIndex(), shard.round(), instance.id()));
            try {
                runHeld(shard);
            } finally {
                release(shard, holder);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * A shard not to run: its task is gone or finished, it belongs to an earlier round (its items are
     * the new round's now), or it is done already (a redelivery, or a republish while it ran elsewhere).
     */
    private static boolean skipped(TaskShard shard, Optional<ShardState> state) {
        if (state.isEmpty() || state.get().status().isTerminal()) {
            log.info("Task {} shard {} skipped: task is {}", shard.taskId(), shard.shardIndex(),
                    state.map(s -> s.status().name()).orElse("gone"));
            return true;
        }
        if (state.get().round() != shard.round()) {
            log.info("Task {} shard {} skipped: it is of round {}, the task is in round {}", shard.taskId(), shard.shardIndex(),
                    shard.round(), state.get().round());
            return true;
        }
        if (state.get().done()) {
            log.info("Task {} shard {} skipped: already done", shard.taskId(), shard.shardIndex());
            return true;
        }
        return false;
    }

    private void runHeld(TaskShard shard) {
        String taskId = shard.taskId();
        Command command = Command.of(shard.command());
        long started = clock.millis();
        int skipped = runPass(shard, command);
        // Redis acknowledged every result, but a Redis that was killed and restarted may have lost its
        // last second: run whatever is still unrecorded before calling the shard done.
        for (int pass = 2; !stopping(taskId) && !allRecorded(shard); pass++) {
            if (pass > MAX_PASSES) {
                throw new IllegalStateException("Task " + taskId + " shard " + shard.shardIndex() + ": results still missing after "
                        + MAX_PASSES + " passes");
            }
            log.warn("Task {} shard {}: results missing in Redis (restarted?); running those items again", taskId, shard.shardIndex());
            runPass(shard, command);
        }
        if (draining) {
            throw new ShardHandedBack(shard);
        }
        if (cancelled.contains(taskId)) {
            log.info("Task {} shard {} stopped: the task was cancelled", taskId, shard.shardIndex());
            return;
        }
        complete(shard);
        log.info("Task {} shard {}/{} done: {} items ({} already recorded) in {} ms", taskId, shard.shardIndex() + 1,
                shard.shardCount(), shard.size(), skipped, clock.millis() - started);
    }

    /** Takes back the run's registration however the run ended: this process lives on, so it is no death. */
    private void release(TaskShard shard, String holder) {
        try {
            patiently(() -> {
                progress.release(shard.taskId(), holder);
                return null;
            });
        } catch (RuntimeException e) {
            // Left behind, it counts as a death once this process is gone; nothing more can be done without Redis.
            log.warn("Task {} shard {}: its run {} stays registered in Redis: {}", shard.taskId(), shard.shardIndex(), holder,
                    e.getMessage());
        }
    }

    /** Marks the shard done and tells who listens; finishes the task when it was the last shard. */
    private void complete(TaskShard shard) {
        String taskId = shard.taskId();
        Optional<TaskStatus> finished = patiently(() -> progress.completeShard(taskId, shard.shardIndex(), shard.round()));
        events.publish(new TaskEvent(TaskEvent.Type.SHARD_DONE, taskId, shard.shardIndex(), null, properties.id(), clock.millis()));
        finished.ifPresent(terminal -> {
            log.info("Task {} finished: {}", taskId, terminal);
            events.publish(new TaskEvent(TaskEvent.Type.TASK_DONE, taskId, shard.shardIndex(), terminal, properties.id(), clock.millis()));
        });
    }

    /**
     * Records every unrecorded item of a shard that {@code worker.max-shard-deliveries} workers died
     * running as failed, without running it, and marks the shard done: the crash loop ends here and the
     * task can finish.
     */
    private void quarantine(TaskShard shard, int deaths) {
        log.error("Task {} shard {} quarantined: {} workers died running it (worker.max-shard-deliveries = {})",
                shard.taskId(), shard.shardIndex(), deaths, properties.maxShardDeliveries());
        String reason = "dts: not run: " + deaths + (deaths == 1 ? " worker" : " workers") + " died running shard "
                + shard.shardIndex() + " of this task (worker.max-shard-deliveries = " + properties.maxShardDeliveries()
                + "); its unfinished items are failed without running\n";
        for (long from = shard.startIndex(); from < shard.endIndex(); from += ITEM_CHUNK) {
            long first = from;
            long to = Math.min(shard.endIndex(), from + ITEM_CHUNK);
            BitSet recorded = patiently(() -> progress.recorded(shard.taskId(), first, to));
            List<String> items = shard.withoutItems() ? Collections.singletonList(null) : patiently(() -> progress.items(shard.taskId(), first, to));
            List<ItemResult> failed = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                if (!recorded.get(i)) {
                    failed.add(notRun(from + i, items.get(i), reason));
                }
            }
            record(shard.taskId(), failed);
        }
        complete(shard);
    }

    /** The result of an item that was never started; {@code reason} is its stderr. */
    private ItemResult notRun(long index, String item, String reason) {
        return new ItemResult(index, item, ItemResult.NOT_STARTED_EXIT_CODE, false, "", false, reason, false, 0, 0,
                properties.id(), clock.millis());
    }

    /** Runs every unrecorded item of the shard once, one slice per thread; returns how many were skipped. */
    private int runPass(TaskShard shard, Command command) {
        int threads = (int) Math.min(properties.threads(), shard.size());
        BlockingQueue<Item> queue = new ArrayBlockingQueue<>(ITEM_CHUNK * 2);
        CountDownLatch latch = new CountDownLatch(threads);
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        for (int i = 0; i < threads; i++) {
            slices.execute(() -> runSlice(shard, command, queue, latch, failure));
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

    private boolean allRecorded(TaskShard shard) {
        for (long from = shard.startIndex(); from < shard.endIndex(); from += ITEM_CHUNK * 64L) {
            long first = from;
            long to = Math.min(shard.endIndex(), from + ITEM_CHUNK * 64L);
            if (patiently(() -> progress.recorded(shard.taskId(), first, to)).cardinality() != to - first) {
                return false;
            }
        }
        return true;
    }

    /** Puts the shard's unrecorded items on the queue, reading them from Redis chunk by chunk. */
    private int feed(TaskShard shard, BlockingQueue<Item> queue, AtomicReference<RuntimeException> failure) {
        int skipped = 0;
        try {
            for (long from = shard.startIndex(); from < shard.endIndex() && failure.get() == null
                    && !stopping(shard.taskId()); from += ITEM_CHUNK) {
                long first = from;
                long to = Math.min(shard.endIndex(), from + ITEM_CHUNK);
                BitSet recorded = patiently(() -> progress.recorded(shard.taskId(), first, to));
                List<String> items = shard.withoutItems() ? Collections.singletonList(null)
                        : patiently(() -> progress.items(shard.taskId(), first, to));
                for (int i = 0; i < items.size(); i++) {
                    if (recorded.get(i)) {
                        skipped++;
                    } else {
                        put(queue, new Item(from + i, items.get(i)));
                    }
                }
            }
        } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
        }
        return skipped;
    }

    private void runSlice(TaskShard shard, Command command, BlockingQueue<Item> queue, CountDownLatch latch,
                          AtomicReference<RuntimeException> failure) {
        List<ItemResult> pending = new ArrayList<>(properties.resultBatch());
        long lastFlush = System.nanoTime();
        boolean ended = false;
        try {
            for (Item item = take(queue); item != END; item = take(queue)) {
                if (failure.get() != null || stopping(shard.taskId())) {
                    continue;
                }
                busyThreads.incrementAndGet();
                try {
                    ItemResult result = runItem(shard, command, item);
                    if (!cancelled.contains(shard.taskId()) && !itemsKilled) {
                        pending.add(result);
                    }
                } finally {
                    busyThreads.decrementAndGet();
                }
                if (pending.size() >= properties.resultBatch()
                        || System.nanoTime() - lastFlush >= properties.resultFlushInterval().toNanos()) {
                    record(shard.taskId(), pending);
                    lastFlush = System.nanoTime();
                }
            }
            ended = true;
            record(shard.taskId(), pending);
        } catch (RuntimeException e) {
            log.error("Task {} shard {}: a slice failed: {}", shard.taskId(), shard.shardIndex(), e.getMessage());
            failure.compareAndSet(null, e);
            if (!ended) {
                drain(queue);
            }
        } finally {
            latch.countDown();
        }
    }

    private void record(String taskId, List<ItemResult> results) {
        patiently(() -> {
            progress.record(taskId, results);
            return null;
        });
        results.clear();
    }

    /** Runs one item, again after a failure or timeout up to {@code maxRetries} times with exponential backoff. */
    private ItemResult runItem(TaskShard shard, Command command, Item item) {
        Duration timeout = shard.timeoutSeconds() > 0 ? Duration.ofSeconds(shard.timeoutSeconds()) : properties.defaultTimeout();
        long bytes = item.value() == null ? 0 : ItemPlaceholder.expandedBytes(command.bytes(), command.placeholders(), item.value());
        if (bytes > ItemPlaceholder.MAX_COMMAND_BYTES) {
            // The scheduler refuses such tasks; a shard from elsewhere must not make this worker build it.
            return notRun(item.index(), item.value(), "dts: not run: the command would be " + bytes
                    + " bytes with this item in {{item}}, over the " + ItemPlaceholder.MAX_COMMAND_BYTES + " bytes a command may have\n");
        }
        ItemRun run = new ItemRun(shard.taskId(), shard.shardIndex(), item.index(), ItemPlaceholder.expand(command.text(), item.value()),
                item.value(), timeout);
        CommandRunner.Outcome outcome = null;
        int attempts = 0;
        while (attempts <= shard.maxRetries()) {
            if (attempts > 0) {
                sleep(Duration.ofMillis(Math.min(30_000, 500L << Math.min(attempts - 1, 16))));
            }
            attempts++;
            outcome = runner.run(run);
            if ((outcome.exitCode() == 0 && !outcome.timedOut()) || cancelled.contains(shard.taskId()) || itemsKilled) {
                break;
            }
        }
        return new ItemResult(item.index(), item.value(), outcome.exitCode(), outcome.timedOut(),
                outcome.stdout().text(), outcome.stdout().truncated(), outcome.stderr().text(), outcome.stderr().truncated(),
                outcome.durationMs(), attempts, properties.id(), clock.millis());
    }

    private static void drain(BlockingQueue<Item> queue) {
        for (Item item = take(queue); item != END; item = take(queue)) {
            // discard: the shard failed and will be redelivered; its recorded items are kept
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

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @PreDestroy
    void shutdown() {
        slices.shutdownNow();
    }
}
