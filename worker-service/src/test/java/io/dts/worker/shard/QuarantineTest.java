package io.dts.worker.shard;

import static io.dts.worker.config.TestWorkerProperties.aWorker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import io.dts.model.ItemResult;
import io.dts.model.TaskShard;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskLifecycle;
import io.dts.redis.TaskRedis;
import io.dts.testsupport.RedisConnections;
import io.dts.worker.WorkerInstance;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.redis.ItemChunks;
import io.dts.worker.redis.PatientRedis;
import io.dts.worker.redis.RedisShardProgress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * The poison-shard defence on its own, against a real Redis: a run is registered only while it goes, a
 * suspect runs with no other shard beside it, and a quarantined shard's unrecorded items fail with the reason.
 */
class QuarantineTest {

    private static final Duration WITHIN = Duration.ofSeconds(10);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static LettuceConnectionFactory connections;
    private static TaskRedis taskRedis;
    private static StringRedisTemplate redis;
    private static RedisShardProgress progress;

    private final Quarantine quarantine = aQuarantine(2);
    private final ExecutorService shards = Executors.newCachedThreadPool();

    @BeforeAll
    static void connect() {
        connections = RedisConnections.toServer();
        redis = new StringRedisTemplate(connections);
        taskRedis = new TaskRedis(connections, redis);
        progress = new RedisShardProgress(taskRedis, new TaskLifecycle(taskRedis, redis, Clock.systemUTC()), redis, JSON,
                Clock.systemUTC());
    }

    @AfterEach
    void stopShards() {
        shards.shutdownNow();
    }

    @AfterAll
    static void disconnect() {
        taskRedis.destroy();
        connections.destroy();
    }

    private static Quarantine aQuarantine(int maxDeaths) {
        WorkerInstance instance = new WorkerInstance();
        // Known alive: its heartbeat is not what these tests are about (but see the first-heartbeat test).
        instance.announcedUntil(Long.MAX_VALUE);
        return aQuarantine(maxDeaths, instance);
    }

    private static Quarantine aQuarantine(int maxDeaths, WorkerInstance instance) {
        PatientRedis patientRedis = new PatientRedis(Duration.ofSeconds(5));
        WorkerProperties properties = aWorker(Path.of(System.getProperty("java.io.tmpdir"))).maxShardDeliveries(maxDeaths).build();
        return new Quarantine(properties, progress, patientRedis, new ItemChunks(progress, patientRedis), instance, Clock.systemUTC());
    }

    private static TaskShard aShard(String taskId, long from, long to) {
        return new TaskShard(taskId, 0, 1, from, to, "echo {{item}}", false, null, 0, 1, null);
    }

    private static TaskShard aShard() {
        return aShard(UUID.randomUUID().toString(), 0, 1);
    }

    private static Map<Object, Object> runsOf(String taskId) {
        return redis.opsForHash().entries(RedisKeys.deliveries(taskId));
    }

    private static ItemResult resultOf(String taskId, long index) {
        Object result = redis.opsForHash().get(RedisKeys.results(taskId), String.valueOf(index));
        return result == null ? null : JSON.readValue((String) result, ItemResult.class);
    }

    /** Runs the shard in the background until {@code end} opens; {@code started} opens when it runs. */
    private CompletableFuture<Void> runUntil(TaskShard shard, int deaths, CountDownLatch started, CountDownLatch end) {
        return CompletableFuture.runAsync(() -> quarantine.run(shard, deaths, lease -> {
            started.countDown();
            try {
                end.await(WITHIN.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ShardFate.FINISHED;
        }), shards);
    }

    @Test
    void a_shard_is_quarantined_once_the_limit_of_workers_died_running_it() {
        assertThat(quarantine.isDue(1)).isFalse();
        assertThat(quarantine.isDue(2)).isTrue();
    }

    @Test
    void a_run_is_registered_while_it_goes_and_taken_back_however_it_ends() {
        TaskShard shard = aShard();

        assertThat(quarantine.run(shard, 0, lease -> {
            assertThat(runsOf(shard.taskId())).hasSize(1);
            return ShardFate.FINISHED;
        })).contains(ShardFate.FINISHED);
        assertThatThrownBy(() -> quarantine.run(shard, 0, lease -> {
            throw new IllegalStateException("the run failed");
        })).hasMessage("the run failed");

        assertThat(runsOf(shard.taskId())).isEmpty();
    }

    @Test
    void a_run_is_registered_only_once_this_process_heartbeat_is_in_redis() throws Exception {
        // Before, a run it registered would count as a dead process's, and the shard run again beside it.
        WorkerInstance instance = new WorkerInstance();
        Quarantine beforeItsHeartbeat = aQuarantine(2, instance);
        TaskShard shard = aShard();

        Future<Optional<ShardFate>> run = shards.submit(() -> beforeItsHeartbeat.run(shard, 0, lease -> ShardFate.FINISHED));

        await().during(Duration.ofSeconds(1)).atMost(WITHIN).until(() -> !run.isDone() && runsOf(shard.taskId()).isEmpty());
        instance.announcedUntil(System.currentTimeMillis() + 60_000);
        assertThat(run.get(WITHIN.toMillis(), TimeUnit.MILLISECONDS)).contains(ShardFate.FINISHED);
    }

    @Test
    void a_suspect_waits_for_the_running_shards_and_no_shard_starts_beside_it() {
        CountDownLatch end = new CountDownLatch(1);
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch secondStarted = new CountDownLatch(1);
        CompletableFuture<Void> first = runUntil(aShard(), 0, firstStarted, end);
        CompletableFuture<Void> second = runUntil(aShard(), 0, secondStarted, end);
        await().atMost(WITHIN).until(() -> firstStarted.getCount() == 0 && secondStarted.getCount() == 0);

        CountDownLatch suspectStarted = new CountDownLatch(1);
        CountDownLatch suspectEnd = new CountDownLatch(1);
        TaskShard suspect = aShard();
        CompletableFuture<Void> alone = runUntil(suspect, 1, suspectStarted, suspectEnd);
        CountDownLatch laterStarted = new CountDownLatch(1);
        await().during(Duration.ofMillis(300)).atMost(WITHIN).until(() -> suspectStarted.getCount() == 1);
        assertThat(runsOf(suspect.taskId())).as("a waiting suspect is not registered: it would be a bystander").isEmpty();
        CompletableFuture<Void> later = runUntil(aShard(), 0, laterStarted, new CountDownLatch(0));

        end.countDown();
        assertThat(first).succeedsWithin(WITHIN);
        assertThat(second).succeedsWithin(WITHIN);
        await().atMost(WITHIN).until(() -> suspectStarted.getCount() == 0);
        await().during(Duration.ofMillis(300)).atMost(WITHIN).until(() -> laterStarted.getCount() == 1);

        suspectEnd.countDown();
        assertThat(alone).succeedsWithin(WITHIN);
        assertThat(later).succeedsWithin(WITHIN);
    }

    @Test
    void a_quarantined_shard_fails_its_unrecorded_items_with_the_reason_and_keeps_the_recorded_ones() {
        String task = UUID.randomUUID().toString();
        redis.opsForList().rightPushAll(RedisKeys.items(task), IntStream.range(0, 4).mapToObj(i -> "item-" + i).toList());
        progress.record(task, List.of(ItemResult.ran(2, "item-2", 0, false, "done\n", false, "", false, 1, 1, "w", 0)));

        quarantine.failUnrecorded(aShard(task, 1, 4), 2);

        assertThat(resultOf(task, 0)).as("not of this shard").isNull();
        assertThat(resultOf(task, 2).stdout()).isEqualTo("done\n");
        for (long index : new long[] {1, 3}) {
            ItemResult failed = resultOf(task, index);
            assertThat(failed.item()).isEqualTo("item-" + index);
            assertThat(failed.exitCode()).isEqualTo(ItemResult.NOT_STARTED_EXIT_CODE);
            assertThat(failed.attempts()).isZero();
            assertThat(failed.stderr()).contains("2 workers died running shard 0", "worker.max-shard-deliveries = 2");
        }
    }
}
