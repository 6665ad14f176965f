package io.dts.worker.shard;

import static io.dts.worker.config.TestWorkerProperties.aWorker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import io.dts.model.ItemResult;
import io.dts.model.ShardHalt;
import io.dts.model.ShardSignature;
import io.dts.model.TaskShard;
import io.dts.model.TaskStatus;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskHash;
import io.dts.redis.TaskLifecycle;
import io.dts.redis.TaskRedis;
import io.dts.testsupport.RedisConnections;
import io.dts.worker.config.TestWorkerProperties;
import io.dts.worker.WorkerInstance;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.item.ItemLauncher;
import io.dts.worker.item.ItemRun;
import io.dts.worker.item.TestItemLaunchers;
import io.dts.worker.redis.ItemChunks;
import io.dts.worker.redis.OtherWorkers;
import io.dts.worker.redis.PatientRedis;
import io.dts.worker.redis.RunningItemLeases;
import io.dts.worker.redis.RedisShardProgress;
import io.dts.worker.redis.ShardProgress;
import io.dts.worker.redis.ShardProgress.Scheduling;
import io.dts.worker.redis.ShardSplits;
import io.dts.worker.sandbox.ItemSandbox;
import io.dts.worker.sandbox.ProcessKiller;
import io.dts.worker.sandbox.RunningProcesses;
import io.dts.worker.sandbox.WorkDirectories;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * One shard run with real bash processes and a real Redis: every unrecorded item runs once, and runs
 * again in a further pass when Redis lost its result, up to {@code worker.max-passes}.
 */
class SlotsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static LettuceConnectionFactory connections;
    private static TaskRedis taskRedis;
    private static StringRedisTemplate redis;
    private static RedisShardProgress progress;
    private static ShardSplits splits;

    @TempDir
    Path workDir;

    /** A run that keeps its registration in Redis throughout. */
    private static final BooleanSupplier HELD = () -> true;

    private final RunningWork running = new RunningWork();
    private final List<Runnable> cleanups = new ArrayList<>();

    @BeforeAll
    static void connect() {
        connections = RedisConnections.toServer();
        redis = new StringRedisTemplate(connections);
        taskRedis = new TaskRedis(connections, redis);
        progress = new RedisShardProgress(taskRedis, new TaskLifecycle(taskRedis, redis, Clock.systemUTC()), redis, JSON,
                Clock.systemUTC());
        splits = new ShardSplits(taskRedis, redis, JSON, ShardSignature.of(new byte[ShardSignature.MIN_KEY_BYTES]), Clock.systemUTC(),
                new WorkerInstance());
    }

    @AfterAll
    static void disconnect() {
        taskRedis.destroy();
        connections.destroy();
    }

    @AfterEach
    void stop() {
        cleanups.forEach(Runnable::run);
    }

    private Slots someSlots(TestWorkerProperties settings, ShardProgress store) {
        WorkerProperties properties = settings.build();
        ItemLauncher launcher = TestItemLaunchers.aLauncher(properties);
        PatientRedis patientRedis = new PatientRedis(properties);
        Slots pool = new Slots(properties, new ItemChunks(store, patientRedis),
                new ItemAttempts(properties, launcher, running, Clock.systemUTC()), running, store, patientRedis,
                new HaltWatch(store, patientRedis, launcher), new RunningItemLeases(taskRedis, redis, patientRedis, properties, new WorkerInstance()),
                new OtherWorkers(redis, JSON, properties), splits, Clock.systemUTC());
        cleanups.add(() -> {
            pool.shutdown();
            launcher.closeShells();
        });
        return pool;
    }

    private Slots someSlots() {
        return someSlots(aWorker(workDir), progress);
    }

    /** A task's items {@code item-0 .. item-(n-1)}. */
    private static String aTaskOf(int items) {
        String id = UUID.randomUUID().toString();
        redis.opsForList().rightPushAll(RedisKeys.items(id), IntStream.range(0, items).mapToObj(i -> "item-" + i).toList());
        return id;
    }

    private static TaskShard aShard(String taskId, int items, String command) {
        return new TaskShard(taskId, 0, 1, 0, items, command, false, null, 0, 1, null);
    }

    private static ItemResult resultOf(String taskId, long index) {
        Object result = redis.opsForHash().get(RedisKeys.results(taskId), String.valueOf(index));
        return result == null ? null : JSON.readValue((String) result, ItemResult.class);
    }

    /** The items a command {@code echo {{item}} >> runs} ran, one line per run. */
    private static List<String> runs(Path file) throws Exception {
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    @Test
    void an_item_that_starts_in_the_instant_a_halt_now_kills_the_running_ones_is_killed_at_the_next_check_and_skipped()
            throws Exception {
        String task = UUID.randomUUID().toString();
        redis.opsForList().rightPushAll(RedisKeys.items(task), List.of("fail", "late"));
        redis.opsForHash().putAll(RedisKeys.task(task), Map.of(TaskHash.STATUS.name(), "INPROGRESS", TaskHash.ROUND.name(), "1", TaskHash.ITEMS_TOTAL.name(), "2"));
        WorkerProperties properties = aWorker(workDir).threads(2).build();
        ItemSandbox sandbox = new ItemSandbox(properties);
        CountDownLatch firstKill = new CountDownLatch(1);
        // "late" passed the halt check, then starts only once the halt's kill has looked for running items.
        ItemLauncher launcher = new ItemLauncher(properties, new RunningProcesses(), new ProcessKiller(properties), sandbox,
                new WorkDirectories(properties, sandbox)) {
            @Override
            public Outcome run(ItemRun run) {
                if ("late".equals(run.item())) {
                    try {
                        assertThat(firstKill.await(10, TimeUnit.SECONDS)).isTrue();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return super.run(run);
            }

            @Override
            public void killAll(String taskId) {
                super.killAll(taskId);
                firstKill.countDown();
            }
        };
        PatientRedis patientRedis = new PatientRedis(properties);
        HaltWatch halts = new HaltWatch(progress, patientRedis, launcher);
        Slots pool = new Slots(properties, new ItemChunks(progress, patientRedis),
                new ItemAttempts(properties, launcher, running, Clock.systemUTC()), running, progress, patientRedis, halts,
                new RunningItemLeases(taskRedis, redis, patientRedis, properties, new WorkerInstance()),
                new OtherWorkers(redis, JSON, properties), splits, Clock.systemUTC());
        ScheduledExecutorService checks = Executors.newSingleThreadScheduledExecutor();
        cleanups.add(() -> {
            checks.shutdownNow();
            pool.shutdown();
            launcher.closeShells();
        });
        // What @Scheduled does in the worker, every worker.cancel-check-interval.
        checks.scheduleWithFixedDelay(halts::killHaltedItems, 100, 100, TimeUnit.MILLISECONDS);
        TaskShard shard = new TaskShard(task, 0, 1, 0, 2, "if [ \"$1\" = fail ]; then exit 1; fi; sleep 30", false, null, 0, 1,
                new ShardHalt("halt now,fail=1", 1, true));

        long started = System.nanoTime();
        pool.run(shard, Scheduling.DEFAULT, HELD);

        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the late sleep was killed").isLessThan(Duration.ofSeconds(10));
        assertThat(resultOf(task, 0).exitCode()).isEqualTo(1);
        assertThat(resultOf(task, 1).skipped()).as("killed by the halt: skipped, to run again on retry-failed").isTrue();
    }

    @Test
    void every_unrecorded_item_runs_once_and_the_recorded_ones_are_skipped() throws Exception {
        String task = aTaskOf(10);
        progress.record(task, List.of(ItemResult.ran(4, "item-4", 0, false, "before\n", false, "", false, 1, 1, "w", 0)));
        Path ran = TestItemLaunchers.itemWritable(workDir).resolve("runs");

        int skipped = someSlots().run(aShard(task, 10, "echo {{item}} >> " + ran + "; echo {{item}}"), Scheduling.DEFAULT, HELD);

        assertThat(skipped).isEqualTo(1);
        assertThat(runs(ran)).hasSize(9).doesNotContain("item-4");
        assertThat(resultOf(task, 4).stdout()).isEqualTo("before\n");
        IntStream.of(0, 3, 5, 9).forEach(i -> assertThat(resultOf(task, i).stdout()).isEqualTo("item-" + i + "\n"));
    }

    @Test
    void items_whose_results_redis_lost_run_again_in_a_further_pass() throws Exception {
        String task = aTaskOf(5);
        Path ran = TestItemLaunchers.itemWritable(workDir).resolve("runs");
        LosingProgress losingTheFirstWrite = new LosingProgress(1);

        someSlots(aWorker(workDir).threads(1), losingTheFirstWrite).run(aShard(task, 5, "echo {{item}} >> " + ran), Scheduling.DEFAULT, HELD);

        assertThat(IntStream.range(0, 5).mapToObj(i -> resultOf(task, i))).doesNotContainNull();
        assertThat(losingTheFirstWrite.lost).hasPositiveValue();
        assertThat(runs(ran)).hasSize(5 + losingTheFirstWrite.lost.get());
    }

    @Test
    void a_shard_whose_results_redis_keeps_losing_fails_after_max_passes() throws Exception {
        String task = aTaskOf(1);
        Path ran = TestItemLaunchers.itemWritable(workDir).resolve("runs");

        assertThatThrownBy(() -> someSlots(aWorker(workDir).maxPasses(2), new LosingProgress(Integer.MAX_VALUE))
                .run(aShard(task, 1, "echo {{item}} >> " + ran), Scheduling.DEFAULT, HELD))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("results still missing after 2 passes");
        assertThat(runs(ran)).containsExactly("item-0", "item-0");
    }

    @Test
    void no_item_of_a_stopping_task_starts() throws Exception {
        String task = aTaskOf(3);
        Path ran = TestItemLaunchers.itemWritable(workDir).resolve("runs");
        running.shardStarted(task);
        running.cancel(task);

        someSlots().run(aShard(task, 3, "echo {{item}} >> " + ran), Scheduling.DEFAULT, HELD);

        assertThat(runs(ran)).isEmpty();
        assertThat(resultOf(task, 0)).isNull();
    }

    @Test
    void a_fault_of_this_worker_fails_the_run() throws Exception {
        String task = aTaskOf(3);
        Slots pool = someSlots(aWorker(workDir), progress);
        TestItemLaunchers.breakWorkDirectories(workDir);

        assertThatThrownBy(() -> pool.run(aShard(task, 3, "echo {{item}}"), Scheduling.DEFAULT, HELD))
                .isInstanceOf(UncheckedIOException.class);
        assertThat(resultOf(task, 0)).isNull();
    }

    @Test
    void a_one_item_task_runs_at_the_next_free_slot_not_after_a_long_task_that_came_first() throws Exception {
        String longTask = aTaskOf(20);
        String smallTask = aTaskOf(1);
        Slots pool = someSlots(aWorker(workDir).threads(2), progress);
        CompletableFuture<Integer> longRun = CompletableFuture.supplyAsync(
                () -> pool.run(aShard(longTask, 20, "sleep 0.25"), new Scheduling("ann", 0, null, null), HELD));
        Thread.sleep(300);

        long started = System.nanoTime();
        pool.run(aShard(smallTask, 1, "true"), new Scheduling("bob", 0, null, null), HELD);
        Duration small = Duration.ofNanos(System.nanoTime() - started);

        assertThat(longRun).as("the long task still runs").isNotDone();
        assertThat(small).as("one item's time of the long task, not its 2.5 s").isLessThan(Duration.ofMillis(1_000));
        longRun.get(30, TimeUnit.SECONDS);
    }

    @Test
    void a_task_with_max_parallel_runs_at_most_that_many_items_at_once_over_two_workers() throws Exception {
        String task = aTaskOf(12);
        Scheduling twoAtOnce = new Scheduling("ann", 0, 2, null);
        String command = "echo $(date +%s%N); sleep 0.2; echo $(date +%s%N)";
        Slots worker1 = someSlots(aWorker(workDir).threads(3), progress);
        Slots worker2 = someSlots(aWorker(workDir).threads(3), progress);

        CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> worker1.run(
                new TaskShard(task, 0, 2, 0, 6, command, false, null, 0, 1, null), twoAtOnce, HELD));
        worker2.run(new TaskShard(task, 1, 2, 6, 12, command, false, null, 0, 1, null), twoAtOnce, HELD);
        first.get(30, TimeUnit.SECONDS);

        List<long[]> spans = IntStream.range(0, 12).mapToObj(i -> resultOf(task, i).stdout().trim().split("\n"))
                .map(lines -> new long[] {Long.parseLong(lines[0]), Long.parseLong(lines[1])}).toList();
        assertThat(mostAtOnce(spans)).isEqualTo(2);
    }

    /** The most spans that overlap at any instant, from their own start and end times. */
    private static int mostAtOnce(List<long[]> spans) {
        return (int) spans.stream().mapToLong(span -> spans.stream().filter(other -> other[0] <= span[0] && span[0] < other[1]).count())
                .max().orElse(0);
    }

    /** The real store, except that it acknowledges its first result writes without making them: a Redis that restarted. */
    private static final class LosingProgress implements ShardProgress {

        private final AtomicInteger writesLeftToLose;
        final AtomicInteger lost = new AtomicInteger();

        LosingProgress(int writesToLose) {
            this.writesLeftToLose = new AtomicInteger(writesToLose);
        }

        @Override
        public void record(String taskId, List<ItemResult> results) {
            if (writesLeftToLose.getAndDecrement() > 0) {
                lost.addAndGet(results.size());
            } else {
                progress.record(taskId, results);
            }
        }

        @Override
        public Optional<TaskStatus> status(String taskId) {
            return progress.status(taskId);
        }

        @Override
        public Optional<ShardState> state(String taskId, int shardIndex, int round) {
            return progress.state(taskId, shardIndex, round);
        }

        @Override
        public Optional<String> hold(String taskId, int shardIndex, int round, String instanceId, Duration lease) {
            return progress.hold(taskId, shardIndex, round, instanceId, lease);
        }

        @Override
        public boolean renew(String taskId, String holder, Duration lease) {
            return progress.renew(taskId, holder, lease);
        }

        @Override
        public void release(String taskId, String holder) {
            progress.release(taskId, holder);
        }

        @Override
        public Chunk chunk(String taskId, long from, long to, boolean withItems) {
            return progress.chunk(taskId, from, to, withItems);
        }

        @Override
        public BitSet recorded(String taskId, long from, long to) {
            return progress.recorded(taskId, from, to);
        }

        @Override
        public Optional<TaskStatus> completeShard(String taskId, int shardIndex, int round) {
            return progress.completeShard(taskId, shardIndex, round);
        }

        @Override
        public boolean countHaltFailure(String taskId, long itemIndex, ShardHalt halt) {
            return progress.countHaltFailure(taskId, itemIndex, halt);
        }

        @Override
        public boolean halted(String taskId) {
            return progress.halted(taskId);
        }
    }
}
