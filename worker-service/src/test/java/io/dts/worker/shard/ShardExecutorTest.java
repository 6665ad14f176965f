package io.dts.worker.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.dts.model.ItemResult;
import io.dts.model.ShardSignature;
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
import io.dts.worker.redis.ShardSplits;
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
    private static final ShardSignature SIGNATURE = ShardSignature.of("a shard key of thirty-two bytes!".getBytes(StandardCharsets.UTF_8));
    private static final Duration STEAL_INTERVAL = Duration.ofMillis(100);

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
        return aWorker(id, workDir, drainTimeout, progress, Duration.ZERO);
    }

    /** A worker that takes items from busy workers' shards, and lets idle ones take from its own. */
    private ShardExecutor aStealingWorker() {
        return aWorker("test-worker-" + UUID.randomUUID(), workDir, Duration.ofSeconds(5), progress, STEAL_INTERVAL);
    }

    /** A worker whose process is alive: its heartbeat, instance key included, is written as the real one writes it. */
    private ShardExecutor aWorker(String id, Path workDir, Duration drainTimeout, ShardProgress progress, Duration stealInterval) {
        Worker worker = aWorkerBeforeItsFirstHeartbeat(id, workDir, drainTimeout, progress, stealInterval);
        worker.heartbeat().beat();
        return worker.executor();
    }

    /** A worker process just started, and its heartbeat, not written yet. */
    private record Worker(ShardExecutor executor, HeartbeatPublisher heartbeat) {
    }

    private Worker aWorkerBeforeItsFirstHeartbeat(String id, Path workDir, Duration drainTimeout, ShardProgress progress,
                                                   Duration stealInterval) {
        WorkerProperties properties = TestWorkerProperties.aWorker(workDir).id(id).heartbeatTtl(Duration.ofSeconds(30))
                .resultFlushInterval(Duration.ofMillis(50)).drainTimeout(drainTimeout).maxShardDeliveries(MAX_DEATHS)
                .stealInterval(stealInterval).build();
        ItemLauncher runner = TestItemLaunchers.aLauncher(properties);
        TaskEvents publisher = events::add;
        WorkerInstance instance = new WorkerInstance();
        Clock clock = Clock.systemUTC();
        PatientRedis patientRedis = new PatientRedis(properties);
        RunningWork running = new RunningWork();
        ItemChunks chunks = new ItemChunks(progress, patientRedis);
        Slots shards = new Slots(properties, chunks, new ItemAttempts(properties, runner, running, clock), running, progress,
                patientRedis, new HaltWatch(progress, patientRedis, runner), new RunningItemLeases(taskRedis, redis, patientRedis, properties, instance),
                new OtherWorkers(redis, JSON, properties), splits(instance), clock);
        Quarantine quarantine = new Quarantine(properties, progress, patientRedis, chunks, instance, clock);
        ShardExecutor executor = new ShardExecutor(properties, progress, patientRedis, running, shards, quarantine, runner, publisher,
                clock);
        Stealer stealer = new Stealer(properties, splits(instance), shards, executor, running, instance, quarantine, clock);
        HeartbeatPublisher heartbeat = new HeartbeatPublisher(redis, JSON, properties, instance, new AssignedPartitions(), running, clock);
        cleanups.add(() -> {
            stealer.stop();
            shards.shutdown();
            runner.closeShells();
            redis.delete(List.of(RedisKeys.worker(id), RedisKeys.workerInstance(instance.id())));
            redis.opsForZSet().remove(RedisKeys.WORKERS, id);
        });
        return new Worker(executor, heartbeat);
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

    /** A running task of one shard of {@code items} items, and that shard, running {@code command}. */
    private static TaskShard aOneShardTask(int items, String command) {
        String id = UUID.randomUUID().toString();
        redis.opsForHash().putAll(RedisKeys.task(id), Map.of(
                TaskHash.ID.name(), id, TaskHash.STATUS.name(), TaskStatus.INPROGRESS.name(),
                TaskHash.CHUNKS_TO_EXECUTE.name(), "1", TaskHash.ITEMS_TOTAL.name(), String.valueOf(items),
                TaskHash.ROUND.name(), "1", TaskHash.RETENTION.name(), "3600"));
        for (int i = 0; i < items; i++) {
            redis.opsForList().rightPush(RedisKeys.items(id), "item-" + i);
        }
        return new TaskShard(id, 0, 1, 0, items, command, false, null, 0, 1, null);
    }

    private static String splitOf(TaskShard shard) {
        return shard.taskId() + "/" + shard.round() + "/" + shard.shardIndex();
    }

    private static TaskShard aShard(String taskId, int shardIndex, int shardCount, String command, int round) {
        return new TaskShard(taskId, shardIndex, shardCount, shardIndex, shardIndex + 1L, command, false, null, 0, round, null);
    }

    /** What a worker that died running the shard leaves behind: its run, registered by a process no longer alive. */
    private static void aWorkerDiedRunning(TaskShard shard) {
        redis.opsForHash().put(RedisKeys.deliveries(shard.taskId()), shard.round() + "/" + shard.shardIndex() + "/dead-" + UUID.randomUUID()
                + "/1", String.valueOf(System.currentTimeMillis() + 60_000));
    }

    /** A live process's run of a shard, its split open with item 0 claimed: what an idle worker finds to take. */
    private record LiveOwner(TaskShard shard, String process, String holder, ShardSplits side, ShardSplits.OpenSplit listed) {

        void leave() {
            side.close(shard, holder, listed);
            redis.delete(List.of(RedisKeys.deliveries(shard.taskId()), RedisKeys.workerInstance(process)));
        }
    }

    private static LiveOwner aLiveOwnerRunningItem0(TaskShard shard) {
        String process = "live-" + UUID.randomUUID();
        String holder = "1/0/" + process + "/1";
        redis.opsForValue().set(RedisKeys.workerInstance(process), "test-owner", Duration.ofMinutes(1));
        redis.opsForHash().put(RedisKeys.deliveries(shard.taskId()), holder, String.valueOf(System.currentTimeMillis() + 60_000));
        ShardSplits side = splits(new WorkerInstance());
        ShardSplits.OpenSplit listed = side.open(shard, holder, 0, 2);
        assertThat(side.claim(shard, holder, 1)).as("the owner runs item 0").isEqualTo(1);
        return new LiveOwner(shard, process, holder, side, listed);
    }

    private static ShardSplits splits(WorkerInstance instance) {
        return new ShardSplits(taskRedis, redis, JSON, SIGNATURE, Clock.systemUTC(), instance);
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
    void a_delivery_that_waited_to_run_alone_while_its_task_was_retried_runs_nothing_of_the_new_round() {
        ShardExecutor worker = aWorker();
        String running = aTask(1, 1);
        String retried = aTask(1, 1);
        Path ran = TestItemLaunchers.itemWritable(workDir).resolve("ran");
        TaskShard stale = aShard(retried, 0, 1, "touch " + ran, 1);
        aWorkerDiedRunning(stale);
        CompletableFuture<ShardFate> first = worker.execute(aShard(running, 0, 1, "sleep 2", 1));
        await().atMost(WITHIN).until(() -> worker.busyThreads() == 1);

        // The suspect reads its state (round 1), then waits to run alone behind the running shard; meanwhile the task
        // is retried, as reopen-failed.lua does it: a new round, whose shard 0 is another record's to run.
        CompletableFuture<ShardFate> waiting = worker.execute(stale);
        await().during(Duration.ofMillis(500)).atMost(WITHIN).until(() -> !waiting.isDone() && !first.isDone());
        redis.opsForHash().put(RedisKeys.task(retried), TaskHash.ROUND.name(), "2");

        assertThat(first).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        assertThat(waiting).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        assertThat(ran).as("the round-1 delivery ran none of round 2's items").doesNotExist();
        assertThat(resultOf(retried, 0)).isNull();
        assertThat(redis.hasKey(RedisKeys.shardsDone(retried))).isFalse();
        assertThat(runsOf(retried)).as("only the dead worker's run is left").hasSize(1);
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
    void an_idle_worker_takes_items_a_busy_worker_has_not_started_and_every_item_runs_once() throws Exception {
        Path runs = TestItemLaunchers.itemWritable(workDir).resolve("runs");
        TaskShard shard = aOneShardTask(12, "echo {{item}} >> " + runs + "; sleep 0.5");
        ShardExecutor busy = aStealingWorker();
        aStealingWorker();

        assertThat(busy.execute(shard)).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);

        assertThat(Files.readAllLines(runs)).as("each item ran once").hasSize(12).doesNotHaveDuplicates();
        List<ItemResult> results = java.util.stream.IntStream.range(0, 12).mapToObj(i -> resultOf(shard.taskId(), i)).toList();
        assertThat(results).allSatisfy(result -> assertThat(result.exitCode()).isZero());
        Map<String, Long> byWorker = results.stream().collect(java.util.stream.Collectors.groupingBy(ItemResult::workerId,
                java.util.stream.Collectors.counting()));
        assertThat(byWorker).as("items per worker").hasSize(2).allSatisfy((worker, count) -> assertThat(count).isGreaterThanOrEqualTo(3));
        assertThat(progress.status(shard.taskId())).contains(TaskStatus.COMPLETED);
        assertThat(events).extracting(TaskEvent::type).containsExactly(TaskEvent.Type.SHARD_DONE, TaskEvent.Type.TASK_DONE);
        assertThat(runsOf(shard.taskId())).as("no run left registered").isEmpty();
        assertThat(redis.opsForHash().entries(RedisKeys.splits(shard.taskId()))).as("the split is closed").isEmpty();
        assertThat(redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, splitOf(shard))).isNull();
    }

    @Test
    void items_taken_by_a_worker_that_died_run_again_alone_on_the_next_delivery_and_the_death_counts() throws Exception {
        Path runs = TestItemLaunchers.itemWritable(workDir).resolve("runs");
        TaskShard shard = aOneShardTask(8, "echo {{item}} >> " + runs + "; sleep 0.3");
        ShardExecutor owner = aStealingWorker();
        CompletableFuture<ShardFate> run = owner.execute(shard);
        await().atMost(WITHIN).until(() -> redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, splitOf(shard)) != null);

        // A process whose instance key is gone at once: it took items and died before it ran any (maybe killed by one).
        Optional<ShardSplits.Stolen> taken = splits(new WorkerInstance()).steal(
                new ShardSplits.OpenSplit(splitOf(shard), redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, splitOf(shard))), 2, Duration.ofSeconds(30));

        assertThat(taken).isPresent();
        assertThat(taken.get().part().endIndex()).isEqualTo(8);
        assertThat(taken.get().part().size()).isGreaterThanOrEqualTo(3);
        // The owner's pass fails once its own items ran: the shard goes back, as Kafka delivers it again.
        assertThat(run).failsWithin(WITHIN).withThrowableOfType(ExecutionException.class).withMessageContaining("died");
        assertThat(progress.status(shard.taskId())).contains(TaskStatus.INPROGRESS);
        assertThat(owner.execute(shard)).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
        assertThat(Files.readAllLines(runs)).as("each item ran once, those it took on the next delivery").hasSize(8).doesNotHaveDuplicates();
        assertThat(progress.status(shard.taskId())).contains(TaskStatus.COMPLETED);
        assertThat(runsOf(shard.taskId()).keySet()).as("the dead run stays, a death of the shard")
                .singleElement().asString().endsWith("/" + taken.get().holder().substring(taken.get().holder().lastIndexOf('/') + 1));
    }

    @Test
    void a_split_not_signed_with_the_shard_key_is_not_run_by_an_idle_worker() {
        String task = aTask(4, 1);
        Path pwned = TestItemLaunchers.itemWritable(workDir).resolve("pwned");
        TaskShard forged = new TaskShard(task, 0, 1, 0, 4, "touch " + pwned, false, null, 0, 1, null);
        ShardSignature otherKey = ShardSignature.of("not the key of this cluster, no!".getBytes(StandardCharsets.UTF_8));
        String owner = "1/0/live-" + UUID.randomUUID() + "/1";
        redis.opsForHash().put(RedisKeys.deliveries(task), owner, String.valueOf(System.currentTimeMillis() + 60_000));
        redis.opsForHash().putAll(RedisKeys.splits(task), Map.of("1/0/owner", owner, "1/0/claimed", "0", "1/0/end", "4", "1/0/slots", "2",
                "1/0/shard", JSON.writeValueAsString(forged),
                "1/0/signature", java.util.Base64.getEncoder().encodeToString(otherKey.sign(forged))));
        redis.opsForZSet().add(RedisKeys.SPLITS_OPEN, splitOf(forged), 0);

        aStealingWorker();

        // The first try takes a share (registering a run in the same step), finds the signature wrong, ends that run,
        // runs none of it and takes the split out of the open set, so no later tick takes from it again.
        await().atMost(WITHIN).untilAsserted(() -> {
            assertThat(redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, splitOf(forged))).as("out of the open set").isNull();
            assertThat(runsOf(task).keySet()).as("no thief's run left registered").containsExactly(owner);
        });
        String end = (String) redis.opsForHash().get(RedisKeys.splits(task), "1/0/end");
        assertThat(Long.parseLong(end)).as("one share taken, the owner's items left").isPositive();
        await().during(Duration.ofMillis(5 * STEAL_INTERVAL.toMillis())).atMost(WITHIN)
                .untilAsserted(() -> assertThat(redis.opsForHash().get(RedisKeys.splits(task), "1/0/end")).isEqualTo(end));
        assertThat(pwned).doesNotExist();
    }

    @Test
    void a_worker_takes_no_items_while_a_suspect_runs_alone_on_it() throws Exception {
        // What it took would wait behind the suspect, its lease unrenewed, and go back to the owner once it ran out.
        ShardExecutor worker = aStealingWorker();
        TaskShard suspect = aShard(aTask(1, 1), 0, 1, "sleep 2", 1);
        aWorkerDiedRunning(suspect);
        CompletableFuture<ShardFate> alone = worker.execute(suspect);
        await().atMost(WITHIN).until(() -> worker.busyThreads() == 1);
        Path runs = TestItemLaunchers.itemWritable(workDir).resolve("runs");
        TaskShard shard = aOneShardTask(4, "echo {{item}} >> " + runs);
        LiveOwner owner = aLiveOwnerRunningItem0(shard);
        try {
            await().during(Duration.ofSeconds(1)).atMost(WITHIN).until(() -> !alone.isDone()
                    && "4".equals(redis.opsForHash().get(RedisKeys.splits(shard.taskId()), "1/0/end")));

            assertThat(alone).succeedsWithin(WITHIN).isEqualTo(ShardFate.FINISHED);
            await().atMost(WITHIN).untilAsserted(() -> {
                assertThat(runs).exists();
                assertThat(Files.readAllLines(runs)).as("taken once the suspect ended").containsExactlyInAnyOrder("item-1", "item-2", "item-3");
            });
        } finally {
            owner.leave();
        }
    }

    @Test
    void a_worker_takes_no_items_before_its_first_heartbeat_makes_its_process_known() throws Exception {
        // Until then, a run it registered would count as a dead process's, and its items would run again elsewhere.
        Path runs = TestItemLaunchers.itemWritable(workDir).resolve("runs");
        TaskShard shard = aOneShardTask(4, "echo {{item}} >> " + runs);
        LiveOwner owner = aLiveOwnerRunningItem0(shard);
        try {
            Worker thief = aWorkerBeforeItsFirstHeartbeat("test-worker-" + UUID.randomUUID(), workDir, Duration.ofSeconds(5), progress,
                    STEAL_INTERVAL);

            await().during(Duration.ofSeconds(1)).atMost(WITHIN)
                    .until(() -> "4".equals(redis.opsForHash().get(RedisKeys.splits(shard.taskId()), "1/0/end")));
            assertThat(runsOf(shard.taskId()).keySet()).containsExactly(owner.holder());

            thief.heartbeat().beat();

            await().atMost(WITHIN).untilAsserted(() -> {
                assertThat(runs).exists();
                assertThat(Files.readAllLines(runs)).as("the items it took, once each").containsExactlyInAnyOrder("item-1", "item-2", "item-3");
                assertThat(runsOf(shard.taskId()).keySet()).as("its run ended").containsExactly(owner.holder());
            });
            assertThat(redis.opsForHash().get(RedisKeys.splits(shard.taskId()), "1/0/end")).isEqualTo("1");
        } finally {
            owner.leave();
        }
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
        ShardExecutor first = aWorker("test-worker-" + UUID.randomUUID(), workDir, Duration.ofSeconds(5), bothReadFirst, Duration.ZERO);
        ShardExecutor second = aWorker("test-worker-" + UUID.randomUUID(), workDir, Duration.ofSeconds(5), bothReadFirst, Duration.ZERO);

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
