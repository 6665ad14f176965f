package io.dts.worker.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.dts.model.ItemResult;
import io.dts.model.TaskEvent;
import io.dts.model.TaskShard;
import io.dts.model.TaskStatus;
import io.dts.model.WorkerHeartbeat;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskHash;
import io.dts.redis.TaskLifecycle;
import io.dts.redis.TaskRedis;
import io.dts.testsupport.RedisConnections;
import io.dts.worker.WorkerInstance;
import io.dts.worker.config.TestWorkerProperties;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.item.ItemLauncher;
import io.dts.worker.item.TestItemLaunchers;
import io.dts.worker.kafka.AssignedPartitions;
import io.dts.worker.kafka.HeartbeatPublisher;
import io.dts.worker.redis.ItemChunks;
import io.dts.worker.redis.OtherWorkers;
import io.dts.worker.redis.PatientRedis;
import io.dts.worker.redis.RunningItemLeases;
import io.dts.worker.redis.RedisShardProgress;
import io.dts.worker.redis.ShardProgress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * The poison-shard defence of a worker, with real bash processes and a real Redis, without Kafka: a
 * shard is quarantined for the workers that died running it, never for how often it was delivered to
 * live ones; a suspect runs alone; a stale or finished shard is not run; the drain records no killed item.
 */
class ShardExecutorTest {

    /** {@code worker.max-shard-deliveries} in these tests. */
    private static final int MAX_DEATHS = 2;
    private static final Duration WITHIN = Duration.ofSeconds(30);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static LettuceConnectionFactory connections;
    private static TaskRedis taskRedis;
    private static StringRedisTemplate redis;
    private static RedisShardProgress progress;

    @TempDir
    Path workDir;

    private final List<TaskEvent> events = new CopyOnWriteArrayList<>();
    private final List<Runnable> cleanups = new ArrayList<>();

    @BeforeAll
    static void connect() {
        connections = RedisConnections.toServer();
        redis = new StringRedisTemplate(connections);
        taskRedis = new TaskRedis(connections, redis);
        progress = new RedisShardProgress(taskRedis, new TaskLifecycle(taskRedis, redis, Clock.systemUTC()), redis, JSON, Clock.systemUTC());
    }

    @AfterAll
    static void disconnect() {
        taskRedis.destroy();
        connections.destroy();
    }

    @AfterEach
    void stopWorkers() {
        cleanups.forEach(Runnable::run);
    }

    private ShardExecutor aWorker(String id, Path workDir, Duration drainTimeout) {
        return aWorker(id, workDir, drainTimeout, progress);
    }

    /** A worker whose process is alive: its heartbeat, instance key included, is written as the real one writes it. */
    private ShardExecutor aWorker(String id, Path workDir, Duration drainTimeout, ShardProgress progress) {
        WorkerProperties properties = TestWorkerProperties.aWorker(workDir).id(id).heartbeatTtl(Duration.ofSeconds(30))
                .resultFlushInterval(Duration.ofMillis(50)).drainTimeout(drainTimeout).maxShardDeliveries(MAX_DEATHS).build();
        ItemLauncher runner = TestItemLaunchers.aLauncher(properties);
        TaskEvents publisher = events::add;
        WorkerInstance instance = new WorkerInstance();
        Clock clock = Clock.systemUTC();
        PatientRedis patientRedis = new PatientRedis(properties);
        RunningWork running = new RunningWork();
        ItemChunks chunks = new ItemChunks(progress, patientRedis);
        Slots shards = new Slots(properties, chunks, new ItemAttempts(properties, runner, running, clock), running, progress,
                patientRedis, new HaltWatch(progress, patientRedis, runner), new RunningItemLeases(taskRedis, redis, patientRedis, properties, instance),
                new OtherWorkers(redis, JSON, properties), clock);
        Quarantine quarantine = new Quarantine(properties, progress, patientRedis, chunks, instance, clock);
        ShardExecutor executor = new ShardExecutor(properties, progress, patientRedis, running, shards, quarantine, runner, publisher,
                clock);
        new HeartbeatPublisher(redis, JSON, properties, instance, new AssignedPartitions(), running, Clock.systemUTC()).beat();
        cleanups.add(() -> {
            shards.shutdown();
            runner.closeShells();
            redis.delete(List.of(RedisKeys.worker(id), RedisKeys.workerInstance(instance.id())));
            redis.opsForZSet().remove(RedisKeys.WORKERS, id);
        });
        return executor;
    }

    private ShardExecutor aWorker(Path workDir, Duration drainTimeout) {
        return aWorker("test-worker-" + UUID.randomUUID(), workDir, drainTimeout);
    }

    private ShardExecutor aWorker() {
        return aWorker(workDir, Duration.ofSeconds(5));
    }

    /** A running task of {@code shards} shards of one item each, in round {@code round}. */
    private static String aTask(int shards, int round) {
        String id = UUID.randomUUID().toString();
        redis.opsForHash().putAll(RedisKeys.task(id), Map.of(
                TaskHash.ID.name(), id, TaskHash.STATUS.name(), TaskStatus.INPROGRESS.name(),
                TaskHash.CHUNKS_TO_EXECUTE.name(), String.valueOf(shards), TaskHash.ITEMS_TOTAL.name(), String.valueOf(shards),
                TaskHash.ROUND.name(), String.valueOf(round), TaskHash.RETENTION.name(), "3600"));
        for (int i = 0; i < shards; i++) {
            redis.opsForList().rightPush(RedisKeys.items(id), "item-" + i);
        }
        return id;
    }

    private static TaskShard aShard(String taskId, int shardIndex, int shardCount, String command, int round) {
        return new TaskShard(taskId, shardIndex, shardCount, shardIndex, shardIndex + 1L, command, false, null, 0, round, null);
    }

    /** What a worker that died running the shard leaves behind: its run, registered by a process no longer alive. */
    private static void aWorkerDiedRunning(TaskShard shard) {
        redis.opsForHash().put(RedisKeys.deliveries(shard.taskId()), shard.round() + "/" + shard.shardIndex() + "/dead-" + UUID.randomUUID()
                + "/1", String.valueOf(System.currentTimeMillis() + 60_000));
    }

    private static ItemResult resultOf(String taskId, long index) {
        Object result = redis.opsForHash().get(RedisKeys.results(taskId), String.valueOf(index));
        return result == null ? null : JSON.readValue((String) result, ItemResult.class);
    }

    private static Map<Object, Object> runsOf(String taskId) {
        return redis.opsForHash().entries(RedisKeys.deliveries(taskId));
    }

    @Test
    void a_shard_that_fails_again_and_again_on_a_live_worker_is_never_quarantined() throws Exception {
        String task = aTask(1, 1);
        TaskShard shard = aShard(task, 0, 1, "echo {{item}}", 1);
        ShardExecutor broken = aWorker(workDir, Duration.ofSeconds(5));
        TestItemLaunchers.breakWorkDirectories(workDir);

        // As spring-kafka's error handler retries it: many more times than the limit, on a live worker.
        for (int delivery = 1; delivery <= MAX_DEATHS * 3; delivery++) {
            assertThat(broken.execute(shard)).failsWithin(WITHIN).withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(UncheckedIOException.class);
        }

        assertThat(runsOf(task)).as("no run left behind").isEmpty();
        assertThat(resultOf(task, 0)).as("nothing quarantined").isNull();
        assertThat(aWorker().execute(shard)).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        assertThat(resultOf(task, 0).stdout()).isEqualTo("item-0\n");
        assertThat(progress.status(task)).contains(TaskStatus.COMPLETED);
    }

    @Test
    void a_shard_delivered_again_once_done_is_skipped() {
        String task = aTask(2, 1);
        TaskShard shard = aShard(task, 0, 2, "echo {{item}}", 1);
        ShardExecutor worker = aWorker();

        for (int delivery = 1; delivery <= MAX_DEATHS * 3; delivery++) {
            assertThat(worker.execute(shard)).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        }

        assertThat(events).extracting(TaskEvent::type).containsExactly(TaskEvent.Type.SHARD_DONE);
        assertThat(runsOf(task)).isEmpty();
        assertThat(resultOf(task, 0).exitCode()).isZero();
        assertThat(progress.status(task)).contains(TaskStatus.INPROGRESS);
    }

    @Test
    void a_shard_that_the_limit_of_workers_died_running_is_quarantined_without_running() {
        String task = aTask(1, 1);
        Path ran = TestItemLaunchers.itemWritable(workDir).resolve("ran");
        TaskShard shard = aShard(task, 0, 1, "touch " + ran, 1);
        for (int death = 1; death <= MAX_DEATHS; death++) {
            aWorkerDiedRunning(shard);
        }

        CompletableFuture<ShardFate> run = aWorker().execute(shard);

        assertThat(run).succeedsWithin(WITHIN).isEqualTo(ShardFate.QUARANTINED);
        assertThat(ran).doesNotExist();
        ItemResult result = resultOf(task, 0);
        assertThat(result.exitCode()).isEqualTo(ItemResult.NOT_STARTED_EXIT_CODE);
        assertThat(result.stderr()).contains(MAX_DEATHS + " workers died running shard 0", "worker.max-shard-deliveries = " + MAX_DEATHS);
        assertThat(progress.status(task)).contains(TaskStatus.FAILED);
    }

    @Test
    void a_shard_a_worker_died_running_runs_alone_once_the_running_shards_end() {
        ShardExecutor worker = aWorker();
        String running = aTask(1, 1);
        String suspect = aTask(1, 1);
        TaskShard suspectShard = aShard(suspect, 0, 1, "date +%s%N", 1);
        aWorkerDiedRunning(suspectShard);

        CompletableFuture<ShardFate> first = worker.execute(aShard(running, 0, 1, "sleep 1; date +%s%N", 1));
        await().atMost(WITHIN).until(() -> worker.busyThreads() == 1);
        CompletableFuture<ShardFate> second = worker.execute(suspectShard);

        assertThat(first).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        assertThat(second).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        long runningEnded = Long.parseLong(resultOf(running, 0).stdout().trim());
        long suspectStarted = Long.parseLong(resultOf(suspect, 0).stdout().trim());
        assertThat(suspectStarted).as("the suspect started after the running shard ended").isGreaterThanOrEqualTo(runningEnded);
        assertThat(progress.status(suspect)).contains(TaskStatus.COMPLETED);
        assertThat(runsOf(suspect)).as("only the dead worker's run is left").hasSize(1);
    }

    @Test
    void a_shard_of_an_earlier_round_is_skipped_and_writes_nothing_into_the_current_one() {
        String task = aTask(1, 2);
        TaskShard stale = aShard(task, 0, 1, "echo {{item}}", 1);
        for (int death = 1; death <= MAX_DEATHS; death++) {
            aWorkerDiedRunning(stale);
        }

        assertThat(aWorker().execute(stale)).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);

        assertThat(resultOf(task, 0)).isNull();
        assertThat(redis.hasKey(RedisKeys.shardsDone(task))).isFalse();
        assertThat(events).isEmpty();
        assertThat(progress.status(task)).contains(TaskStatus.INPROGRESS);
    }

    @Test
    void a_worker_restarted_under_its_id_turns_the_runs_its_previous_process_left_into_deaths_at_once() {
        String task = aTask(1, 1);
        String id = "test-worker-" + UUID.randomUUID();
        String previous = UUID.randomUUID().toString();
        // The previous process under this id was killed running the shard; its keys have not expired yet.
        redis.opsForValue().set(RedisKeys.worker(id), JSON.writeValueAsString(new WorkerHeartbeat(id, previous, "host", 1, 2, 1, 0, 0,
                List.of(0), List.of(task), Map.of(task, 1), List.of())), Duration.ofMinutes(1));
        redis.opsForValue().set(RedisKeys.workerInstance(previous), id, Duration.ofMinutes(1));
        progress.hold(task, 0, 1, previous, Duration.ofMinutes(1)).orElseThrow();
        assertThat(progress.state(task, 0, 1).orElseThrow().deadHolders()).isZero();

        aWorker(id, workDir, Duration.ofSeconds(5));

        assertThat(progress.state(task, 0, 1).orElseThrow().deadHolders()).isEqualTo(1);
    }

    @Test
    void a_shard_given_to_a_second_worker_while_the_first_runs_it_runs_no_item_twice() throws Exception {
        // What a rebalance does: the partition moves, and the uncommitted record goes to the new owner.
        givenAgainWhileItRuns(aWorker(), aWorker());
    }

    @Test
    void a_shard_given_again_to_the_worker_running_it_waits_for_that_run() throws Exception {
        // The partition went away and came back in one rebalance: the record is delivered again.
        ShardExecutor worker = aWorker();
        givenAgainWhileItRuns(worker, worker);
    }

    /** Gives a one-item shard to {@code first}, and to {@code again} while its item runs: the item must run once. */
    private void givenAgainWhileItRuns(ShardExecutor first, ShardExecutor again) throws Exception {
        String task = aTask(1, 1);
        Path runs = TestItemLaunchers.itemWritable(workDir).resolve("runs");
        TaskShard shard = aShard(task, 0, 1, "echo ran >> " + runs + "; sleep 1", 1);
        CompletableFuture<ShardFate> firstRun = first.execute(shard);
        await().atMost(WITHIN).until(() -> first.busyThreads() == 1);

        CompletableFuture<ShardFate> secondRun = again.execute(shard);

        assertThat(firstRun).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        assertThat(secondRun).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        assertThat(Files.readAllLines(runs)).as("the item ran once").containsExactly("ran");
        assertThat(events).extracting(TaskEvent::type).containsExactly(TaskEvent.Type.SHARD_DONE, TaskEvent.Type.TASK_DONE);
        assertThat(runsOf(task)).isEmpty();
        assertThat(progress.status(task)).contains(TaskStatus.COMPLETED);
    }

    @Test
    void two_deliveries_of_a_shard_that_both_find_no_run_going_at_the_same_instant_run_it_once() throws Exception {
        String task = aTask(1, 1);
        Path runs = TestItemLaunchers.itemWritable(workDir).resolve("runs");
        TaskShard shard = aShard(task, 0, 1, "echo \"$$ start\" >> " + runs + "; sleep 1; echo \"$$ end\" >> " + runs, 1);
        // Both deliveries read the shard's state, and find no run going, before either registers its own.
        ShardProgress bothReadFirst = bothReadTheStateFirst(new CyclicBarrier(2));
        ShardExecutor first = aWorker("test-worker-" + UUID.randomUUID(), workDir, Duration.ofSeconds(5), bothReadFirst);
        ShardExecutor second = aWorker("test-worker-" + UUID.randomUUID(), workDir, Duration.ofSeconds(5), bothReadFirst);

        CompletableFuture<ShardFate> firstRun = first.execute(shard);
        CompletableFuture<ShardFate> secondRun = second.execute(shard);

        assertThat(firstRun).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        assertThat(secondRun).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        assertThat(Files.readAllLines(runs)).as("the item ran once").hasSize(2);
        assertThat(progress.status(task)).contains(TaskStatus.COMPLETED);
        assertThat(runsOf(task)).isEmpty();
    }

    /** The shared progress, whose first two state reads each wait for the other before they return. */
    private static ShardProgress bothReadTheStateFirst(CyclicBarrier barrier) {
        AtomicInteger reads = new AtomicInteger();
        return (ShardProgress) Proxy.newProxyInstance(ShardProgress.class.getClassLoader(), new Class<?>[] {ShardProgress.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(progress, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("state") && reads.incrementAndGet() <= 2) {
                        barrier.await(10, TimeUnit.SECONDS);
                    }
                    return result;
                });
    }

    @Test
    void a_shard_waiting_for_another_run_is_handed_back_when_the_worker_stops() throws Exception {
        String task = aTask(1, 1);
        Path runs = TestItemLaunchers.itemWritable(workDir).resolve("runs");
        TaskShard shard = aShard(task, 0, 1, "echo ran >> " + runs + "; sleep 2", 1);
        ShardExecutor first = aWorker();
        ShardExecutor stopping = aWorker(workDir, Duration.ofMillis(200));
        CompletableFuture<ShardFate> firstRun = first.execute(shard);
        await().atMost(WITHIN).until(() -> first.busyThreads() == 1);
        CompletableFuture<ShardFate> waiting = stopping.execute(shard);
        await().atMost(WITHIN).until(() -> stopping.runningTasks().contains(task));
        await("it waits, it does not run the item").during(Duration.ofMillis(500)).atMost(WITHIN)
                .until(() -> stopping.busyThreads() == 0);

        stopping.drain();

        assertThat(waiting).succeedsWithin(WITHIN).isEqualTo(ShardFate.HANDED_BACK);
        assertThat(firstRun).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        assertThat(Files.readAllLines(runs)).as("the item ran once").containsExactly("ran");
        assertThat(progress.status(task)).contains(TaskStatus.COMPLETED);
    }

    @Test
    void items_the_drain_kills_are_not_recorded_and_the_shard_is_handed_back() throws Exception {
        String task = aTask(1, 1);
        ShardExecutor worker = aWorker(workDir, Duration.ofMillis(200));
        CompletableFuture<ShardFate> run = worker.execute(aShard(task, 0, 1, "sleep 30", 1));
        await().atMost(WITHIN).until(() -> worker.busyThreads() == 1);

        worker.drain();

        assertThat(run).succeedsWithin(WITHIN).isEqualTo(ShardFate.HANDED_BACK);
        assertThat(resultOf(task, 0)).as("the killed item runs again on the next worker").isNull();
        assertThat(runsOf(task)).isEmpty();
    }
}
