package io.dts.worker.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import io.dts.model.ItemResult;
import io.dts.model.TaskShard;
import io.dts.model.TaskStatus;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskHash;
import io.dts.redis.TaskLifecycle;
import io.dts.redis.TaskRedis;
import io.dts.testsupport.RedisConnections;
import io.dts.worker.redis.ShardProgress.Scheduling;
import io.dts.worker.redis.ShardProgress.ShardState;
import io.dts.worker.shard.ShardLease;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * Contract of the worker's progress store against a real Redis: exact counts under concurrency and
 * redelivery, and runs of a shard counted as deaths only when their process is gone.
 */
class RedisShardProgressTest {

    private static final int UPDATERS = 16;

    private static LettuceConnectionFactory connections;
    private static TaskRedis taskRedis;
    private static StringRedisTemplate redis;
    private static RedisShardProgress progress;

    @BeforeAll
    static void connect() {
        use(RedisConnections.toServer());
    }

    /** Called with a started factory by the {@code @BeforeAll} of this class, and of the subclass that runs the same contract on a Redis Cluster. */
    static void use(LettuceConnectionFactory factory) {
        connections = factory;
        redis = new StringRedisTemplate(connections);
        taskRedis = new TaskRedis(connections, redis);
        progress = new RedisShardProgress(taskRedis, new TaskLifecycle(taskRedis, redis, Clock.systemUTC()), redis, JsonMapper.builder().build(), Clock.systemUTC());
    }

    @AfterAll
    static void disconnect() {
        taskRedis.destroy();
        connections.destroy();
    }

    private static String aTaskInProgress(int shards, int items) {
        String id = UUID.randomUUID().toString();
        redis.opsForHash().putAll(RedisKeys.task(id), Map.of(
                TaskHash.ID.name(), id, TaskHash.STATUS.name(), TaskStatus.INPROGRESS.name(),
                TaskHash.CHUNKS_TO_EXECUTE.name(), String.valueOf(shards), TaskHash.ITEMS_TOTAL.name(), String.valueOf(items),
                TaskHash.ROUND.name(), "1", TaskHash.RETENTION.name(), "3600"));
        return id;
    }

    private static ItemResult aResult(long index, int exitCode) {
        return ItemResult.ran(index, "item-" + index, exitCode, false, "out", false, "", false, 1, 1, "w", 0);
    }

    private static <T> List<T> runConcurrently(int threads, java.util.function.IntFunction<Callable<T>> task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(task.apply(t)));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    private static String aLiveInstance() {
        String instance = "live-" + UUID.randomUUID();
        redis.opsForValue().set(RedisKeys.workerInstance(instance), "worker-1", Duration.ofMinutes(1));
        return instance;
    }

    private static final Duration LEASE = Duration.ofMinutes(1);

    /** A run registered as {@link RedisShardProgress#hold} registers it, with its lease ending at {@code leaseEnd}, whatever holds the shard. */
    private static void registered(String task, int shard, int round, String instance, long leaseEnd) {
        redis.opsForHash().put(RedisKeys.deliveries(task), round + "/" + shard + "/" + instance + "/" + UUID.randomUUID(),
                String.valueOf(leaseEnd));
    }

    private static void registered(String task, int shard, int round, String instance) {
        registered(task, shard, round, instance, System.currentTimeMillis() + LEASE.toMillis());
    }

    @Test
    void of_many_runs_asking_to_register_at_the_same_instant_only_one_is_registered() throws Exception {
        String task = aTaskInProgress(1, 1);
        CyclicBarrier together = new CyclicBarrier(UPDATERS);

        List<Optional<String>> holds = runConcurrently(UPDATERS, t -> () -> {
            String instance = aLiveInstance();
            together.await();
            return progress.hold(task, 0, 1, instance, LEASE);
        });

        assertThat(holds.stream().filter(Optional::isPresent)).hasSize(1);
        assertThat(progress.state(task, 0, 1).orElseThrow().liveHolders()).isEqualTo(1);
    }

    @Test
    void a_run_whose_release_failed_holds_the_shard_until_its_lease_runs_out_and_is_no_death() {
        String task = aTaskInProgress(1, 1);
        String instance = aLiveInstance();
        progress.hold(task, 0, 1, instance, Duration.ofMillis(500)).orElseThrow();
        // Its release failed (Redis away): nothing renews it any more, and its process lives on.

        assertThat(progress.hold(task, 0, 1, aLiveInstance(), LEASE)).as("while its lease runs").isEmpty();
        assertThat(progress.state(task, 0, 1).orElseThrow().liveHolders()).isEqualTo(1);

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(progress.state(task, 0, 1).orElseThrow())
                .as("once its lease ran out: neither live nor dead, and dropped")
                .extracting(ShardState::liveHolders, ShardState::deadHolders).containsExactly(0, 0));
        redis.delete(RedisKeys.workerInstance(instance));
        assertThat(progress.state(task, 0, 1).orElseThrow().deadHolders()).as("once its process is gone").isZero();
        assertThat(progress.hold(task, 0, 1, aLiveInstance(), LEASE)).isPresent();
    }

    @Test
    void a_lease_is_renewed_while_it_runs_but_not_once_it_ran_out_or_was_released() {
        String task = aTaskInProgress(1, 1);
        String holder = progress.hold(task, 0, 1, aLiveInstance(), LEASE).orElseThrow();
        String lapsedInstance = aLiveInstance();
        registered(task, 0, 1, lapsedInstance, 0);
        String lapsed = redis.opsForHash().keys(RedisKeys.deliveries(task)).stream().map(String::valueOf)
                .filter(field -> field.contains(lapsedInstance)).findFirst().orElseThrow();

        assertThat(progress.renew(task, holder, LEASE)).isTrue();
        assertThat(progress.renew(task, lapsed, LEASE)).as("ran out: another run may hold the shard").isFalse();
        progress.release(task, holder);
        assertThat(progress.renew(task, holder, LEASE)).as("released").isFalse();
    }

    @Test
    void a_lease_renewed_in_time_holds_and_one_that_ran_out_is_lost_for_good_even_when_nobody_took_the_shard() {
        String task = aTaskInProgress(1, 1);
        TaskShard shard = new TaskShard(task, 0, 1, 0, 1, "true", false, null, 0, 1, null);
        ShardLease lease = ShardLease.take(progress, shard, aLiveInstance(), Duration.ofSeconds(2), Clock.systemUTC()).orElseThrow();

        // Asked often enough, it renews itself (after half its lease) and holds past its first term.
        await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(4)).until(lease::held);
        // Paused past its lease (a GC pause, SIGSTOP, Redis away: nothing asks for it). Another run may have taken the
        // shard and run the items this one has queued, so it starts no more, whether or not one did.
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6)).until(() -> !lease.held());

        assertThat(lease.held()).as("lost for good").isFalse();
        assertThat(progress.hold(task, 0, 1, aLiveInstance(), LEASE)).as("the shard is free for a fresh delivery").isPresent();
    }

    @Test
    void a_dead_workers_run_holds_nothing_whatever_its_lease_says_and_counts_as_a_death() {
        String task = aTaskInProgress(1, 1);
        registered(task, 0, 1, aDeadInstance());

        assertThat(progress.state(task, 0, 1).orElseThrow()).extracting(ShardState::liveHolders, ShardState::deadHolders)
                .containsExactly(0, 1);
        assertThat(progress.hold(task, 0, 1, aLiveInstance(), LEASE)).isPresent();
    }

    @Test
    void a_run_passed_over_as_dead_cannot_renew_its_lease_when_its_process_comes_back() {
        String task = aTaskInProgress(1, 1);
        String paused = aLiveInstance();
        String pausedRun = progress.hold(task, 0, 1, paused, LEASE).orElseThrow();
        // SIGSTOPped past its heartbeat: its instance key lapses while its lease still runs.
        redis.delete(RedisKeys.workerInstance(paused));

        String taker = progress.hold(task, 0, 1, aLiveInstance(), LEASE).orElseThrow();
        assertThat(progress.state(task, 0, 1).orElseThrow()).as("while it seems gone, its run is a death")
                .extracting(ShardState::liveHolders, ShardState::deadHolders).containsExactly(1, 1);
        // SIGCONT: it beats again, and asks to renew before its next item.
        redis.opsForValue().set(RedisKeys.workerInstance(paused), "worker-1", Duration.ofMinutes(1));

        assertThat(progress.renew(task, pausedRun, LEASE)).as("the shard is another run's now").isFalse();
        assertThat(progress.renew(task, taker, LEASE)).isTrue();
        assertThat(progress.state(task, 0, 1).orElseThrow()).as("back, it was no death; the taker alone holds the shard")
                .extracting(ShardState::liveHolders, ShardState::deadHolders).containsExactly(1, 0);
    }

    @Test
    void a_run_counted_as_dead_cannot_renew_its_lease_when_its_process_comes_back_though_nobody_took_the_shard() {
        String task = aTaskInProgress(1, 1);
        String paused = aLiveInstance();
        // A worker that took items of a busy worker's shard (work stealing) registers as any run of it.
        String thief = progress.hold(task, 0, 1, paused, LEASE).orElseThrow();
        redis.delete(RedisKeys.workerInstance(paused));

        // The owner, waiting for the shard's other runs, counts it: a death, whose items the owner runs next.
        assertThat(progress.state(task, 0, 1).orElseThrow()).extracting(ShardState::liveHolders, ShardState::deadHolders)
                .containsExactly(0, 1);
        redis.opsForValue().set(RedisKeys.workerInstance(paused), "worker-2", Duration.ofMinutes(1));

        assertThat(progress.renew(task, thief, LEASE)).as("its items are another run's now").isFalse();
    }

    private static String aDeadInstance() {
        return "dead-" + UUID.randomUUID();
    }

    @Test
    void the_state_of_a_shard_tells_the_tasks_status_and_round_and_whether_the_shard_is_done() {
        String task = aTaskInProgress(2, 2);
        redis.opsForHash().put(RedisKeys.task(task), TaskHash.ROUND.name(), "2");
        progress.completeShard(task, 1, 2);

        assertThat(progress.state(task, 0, 2)).contains(new ShardState(TaskStatus.INPROGRESS, 2, false, 0, 0, Scheduling.DEFAULT));
        assertThat(progress.state(task, 1, 2)).contains(new ShardState(TaskStatus.INPROGRESS, 2, true, 0, 0, Scheduling.DEFAULT));
        assertThat(progress.state(task, 0, 1).map(ShardState::round)).as("a shard of round 1 sees round 2").contains(2);
        assertThat(progress.state(UUID.randomUUID().toString(), 0, 1)).isEmpty();
    }

    @Test
    void the_state_of_a_shard_tells_how_its_items_take_their_turns() {
        String task = aTaskInProgress(2, 1);
        redis.opsForHash().putAll(RedisKeys.task(task), Map.of(TaskHash.OWNER.name(), "ann", TaskHash.PRIORITY.name(), "7",
                TaskHash.MAX_PARALLEL.name(), "3", TaskHash.OWNER_RUNNING_LIMIT.name(), "5"));

        assertThat(progress.state(task, 0, 1).map(ShardState::scheduling)).contains(new Scheduling("ann", 7, 3, 5));
    }

    @Test
    void a_run_is_registered_while_it_goes_and_leaves_nothing_once_released() {
        String task = aTaskInProgress(1, 1);
        String instance = aLiveInstance();

        String holder = progress.hold(task, 0, 1, instance, LEASE).orElseThrow();

        assertThat(redis.opsForHash().keys(RedisKeys.deliveries(task))).containsExactly(holder);
        assertThat(holder).startsWith("1/0/" + instance + "/");
        assertThat(progress.state(task, 0, 1).orElseThrow().deadHolders()).as("its process is alive").isZero();
        assertThat(progress.state(task, 0, 1).orElseThrow().liveHolders()).as("a run that still goes").isEqualTo(1);

        progress.release(task, holder);

        assertThat(redis.hasKey(RedisKeys.deliveries(task))).isFalse();
        assertThat(progress.state(task, 0, 1).orElseThrow().liveHolders()).isZero();
    }

    @Test
    void a_shard_run_again_and_again_by_live_processes_counts_no_death_however_often() throws Exception {
        String task = aTaskInProgress(1, 1);
        String instance = aLiveInstance();

        // Error-handler retries, republishes and rebalances: many runs, some at once, all ending in a live process.
        runConcurrently(UPDATERS, t -> () -> {
            for (int run = 0; run < 5; run++) {
                progress.hold(task, 0, 1, instance, LEASE).ifPresent(holder -> progress.release(task, holder));
            }
            return null;
        });
        String stillRunning = progress.hold(task, 0, 1, instance, LEASE).orElseThrow();

        assertThat(progress.state(task, 0, 1).orElseThrow().deadHolders()).isZero();
        assertThat(redis.opsForHash().keys(RedisKeys.deliveries(task))).containsExactly(stillRunning);
    }

    @Test
    void only_runs_of_this_shard_and_round_left_behind_by_dead_processes_are_counted() {
        String task = aTaskInProgress(12, 12);
        String live = aLiveInstance();
        String dead = aDeadInstance();
        registered(task, 1, 1, live);
        registered(task, 1, 1, dead);
        registered(task, 1, 1, dead);
        registered(task, 1, 1, aDeadInstance());
        registered(task, 11, 1, aDeadInstance());
        registered(task, 1, 2, aDeadInstance());
        redis.opsForHash().put(RedisKeys.deliveries(task), "1/1", "7"); // a delivery counter of the previous version

        assertThat(progress.state(task, 1, 1).orElseThrow().deadHolders()).isEqualTo(3);
        assertThat(progress.state(task, 1, 1).orElseThrow().liveHolders()).isEqualTo(1);
        assertThat(progress.state(task, 11, 1).orElseThrow().deadHolders()).isEqualTo(1);
        assertThat(progress.state(task, 11, 1).orElseThrow().liveHolders()).isZero();
        assertThat(progress.state(task, 0, 1).orElseThrow().deadHolders()).isZero();
    }

    @Test
    void a_run_counts_as_a_death_once_its_process_stops_beating() {
        String task = aTaskInProgress(1, 1);
        String instance = aLiveInstance();
        progress.hold(task, 0, 1, instance, LEASE).orElseThrow();
        assertThat(progress.state(task, 0, 1).orElseThrow().deadHolders()).isZero();

        redis.delete(RedisKeys.workerInstance(instance));

        assertThat(progress.state(task, 0, 1).orElseThrow().deadHolders()).isEqualTo(1);
    }

    @Test
    void sixteen_concurrent_updaters_recording_overlapping_items_count_each_item_exactly_once() throws Exception {
        String task = aTaskInProgress(1, 1_000);

        // Every updater records its own items and, as a redelivery would, every item of its neighbour.
        runConcurrently(UPDATERS, t -> () -> {
            for (int round = 0; round < 2; round++) {
                int owner = (t + round) % UPDATERS;
                List<ItemResult> batch = IntStream.range(0, 1_000).filter(i -> i % UPDATERS == owner)
                        .mapToObj(i -> aResult(i, i % 10 == 0 ? 1 : 0)).toList();
                for (int from = 0; from < batch.size(); from += 7) {
                    progress.record(task, batch.subList(from, Math.min(batch.size(), from + 7)));
                }
            }
            return null;
        });

        assertThat(redis.opsForHash().size(RedisKeys.results(task))).isEqualTo(1_000);
        assertThat(redis.opsForSet().size(RedisKeys.failed(task))).isEqualTo(100);
        assertThat(progress.recorded(task, 0, 1_000).cardinality()).isEqualTo(1_000);
    }

    @Test
    void a_shard_delivered_twice_is_counted_once() {
        String task = aTaskInProgress(2, 2);
        progress.record(task, List.of(aResult(0, 0), aResult(1, 0)));

        assertThat(progress.completeShard(task, 0, 1)).isEmpty();
        assertThat(progress.completeShard(task, 0, 1)).isEmpty();
        assertThat(redis.opsForSet().size(RedisKeys.shardsDone(task))).isEqualTo(1);
        assertThat(progress.status(task)).contains(TaskStatus.INPROGRESS);

        assertThat(progress.completeShard(task, 1, 1)).contains(TaskStatus.COMPLETED);
        assertThat(progress.completeShard(task, 1, 1)).isEmpty();
        assertThat(redis.opsForSet().size(RedisKeys.shardsDone(task))).isEqualTo(2);
    }

    @Test
    void sixteen_shards_completing_at_once_twice_each_finish_the_task_exactly_once() throws Exception {
        String task = aTaskInProgress(UPDATERS, UPDATERS);

        List<Optional<TaskStatus>> outcomes = runConcurrently(UPDATERS * 2, t -> () -> progress.completeShard(task, t % UPDATERS, 1));

        assertThat(outcomes.stream().filter(Optional::isPresent)).hasSize(1);
        assertThat(redis.opsForSet().size(RedisKeys.shardsDone(task))).isEqualTo(UPDATERS);
        assertThat(progress.status(task)).contains(TaskStatus.COMPLETED);
        assertThat(redis.opsForHash().get(RedisKeys.task(task), TaskHash.FINISHED_AT.name())).isNotNull();
    }

    @Test
    void the_last_shard_makes_the_task_failed_when_any_item_failed() {
        String task = aTaskInProgress(2, 2);
        progress.record(task, List.of(aResult(0, 0)));
        progress.record(task, List.of(aResult(1, 2)));

        progress.completeShard(task, 0, 1);

        assertThat(progress.completeShard(task, 1, 1)).contains(TaskStatus.FAILED);
    }

    @Test
    void an_item_that_succeeds_when_run_again_is_no_longer_counted_failed() {
        String task = aTaskInProgress(1, 1);
        progress.record(task, List.of(aResult(0, 1)));
        progress.record(task, List.of(aResult(0, 0)));

        assertThat(redis.opsForSet().size(RedisKeys.failed(task))).isZero();
        assertThat(progress.completeShard(task, 0, 1)).contains(TaskStatus.COMPLETED);
    }

    @Test
    void a_late_shard_never_moves_a_cancelled_task() {
        String task = aTaskInProgress(1, 1);
        redis.opsForHash().put(RedisKeys.task(task), TaskHash.STATUS.name(), TaskStatus.CANCELLED.name());

        assertThat(progress.completeShard(task, 0, 1)).isEmpty();
        assertThat(progress.status(task)).contains(TaskStatus.CANCELLED);
    }

    @Test
    void recorded_items_are_read_back_for_any_range() {
        String task = aTaskInProgress(1, 20);
        progress.record(task, List.of(aResult(3, 0), aResult(9, 0), aResult(10, 1)));

        assertThat(progress.recorded(task, 0, 20).stream().boxed().toList()).containsExactly(3, 9, 10);
        assertThat(progress.recorded(task, 8, 12).stream().boxed().toList()).containsExactly(1, 2);
        assertThat(progress.recorded(task, 11, 20).isEmpty()).isTrue();
        assertThat(progress.recorded(UUID.randomUUID().toString(), 0, 5).isEmpty()).isTrue();
    }

    @Test
    void a_late_shard_of_an_earlier_round_is_not_counted_in_the_current_one() {
        String task = aTaskInProgress(1, 1);
        redis.opsForHash().put(RedisKeys.task(task), TaskHash.ROUND.name(), "2");

        assertThat(progress.completeShard(task, 0, 1)).isEmpty();
        assertThat(redis.opsForSet().size(RedisKeys.shardsDone(task))).isZero();
        assertThat(progress.completeShard(task, 0, 2)).contains(TaskStatus.COMPLETED);
    }

    @Test
    void the_shard_that_finishes_a_task_starts_its_retention() {
        String task = aTaskInProgress(1, 1);
        progress.record(task, List.of(aResult(0, 0)));
        assertThat(redis.getExpire(RedisKeys.results(task))).isEqualTo(-1);

        progress.completeShard(task, 0, 1);

        assertThat(redis.getExpire(RedisKeys.results(task))).isBetween(3500L, 3600L);
        assertThat(redis.getExpire(RedisKeys.task(task))).isBetween(3500L, 3600L);
    }
}
