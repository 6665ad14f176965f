package io.dts.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import io.dts.model.TaskStatus;
import io.dts.testsupport.RedisConnections;
import io.dts.testsupport.RedisFaultProxy;
import io.dts.testsupport.RedisServer;
import io.dts.testsupport.RedisUsers;
import io.dts.testsupport.TestInfrastructure;
import io.lettuce.core.ClientOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The lifecycle's promise, against a real Redis: cut the connection at any command of a task's whole
 * life, let the sweeper repair the indexes and the services repeat the step that failed, and the
 * task finishes exactly once with no index left stale. Also: the transition table guards every step.
 */
class TaskLifecycleTest {

    private static final Clock CLOCK = Clock.systemUTC();
    /** A task's life: accepted, published, sharded in two, both shards done. */
    private static final List<BiConsumer<TaskLifecycle, String>> LIFE = List.of(
            (lifecycle, id) -> lifecycle.admit(id, CLOCK.millis(), false),
            (lifecycle, id) -> lifecycle.moveTo(id, TaskStatus.SUBMITTED, Map.of(TaskHash.ATTEMPTS.name(), "1")),
            (lifecycle, id) -> lifecycle.startSharding(id, 2),
            (lifecycle, id) -> lifecycle.completeShard(id, 0, 1),
            (lifecycle, id) -> lifecycle.completeShard(id, 1, 1));
    /** A life with a failed item: FAILED, retried as round 2 in one shard, COMPLETED. */
    private static final List<BiConsumer<TaskLifecycle, String>> RETRIED_LIFE = List.of(
            (lifecycle, id) -> lifecycle.admit(id, CLOCK.millis(), false),
            (lifecycle, id) -> lifecycle.startSharding(id, 1),
            (lifecycle, id) -> lifecycle.completeShard(id, 0, 1),
            (lifecycle, id) -> lifecycle.reopenFailed(id),
            (lifecycle, id) -> lifecycle.startSharding(id, 1),
            (lifecycle, id) -> lifecycle.completeShard(id, 0, 2));

    private final RedisServer server = TestInfrastructure.redis();
    private LettuceConnectionFactory direct;
    private StringRedisTemplate redis;
    private TaskLifecycle lifecycle;
    private RedisFaultProxy proxy;

    @BeforeEach
    void connect() {
        direct = RedisConnections.toServer();
        redis = new StringRedisTemplate(direct);
        lifecycle = new TaskLifecycle(new TaskRedis(direct, redis), redis, CLOCK);
        proxy = new RedisFaultProxy(server.host(), server.port());
    }

    @AfterEach
    void disconnect() {
        proxy.close();
        direct.destroy();
    }

    /** A saved, QUEUED task that is in no index yet, as the store writes it; {@code failedItem} marks item 0 failed. */
    private String savedTask(boolean failedItem) {
        String id = UUID.randomUUID().toString();
        redis.opsForHash().putAll(RedisKeys.task(id), Map.of(TaskHash.ID.name(), id, TaskHash.STATUS.name(), "QUEUED", TaskHash.ROUND.name(), "1",
                TaskHash.CHUNKS_TO_EXECUTE.name(), "0", TaskHash.RETENTION.name(), "600", TaskHash.ATTEMPTS.name(), "0"));
        if (failedItem) {
            redis.opsForSet().add(RedisKeys.failed(id), "0");
            redis.opsForHash().put(RedisKeys.results(id), "0", "{}");
        }
        return id;
    }

    /** Through the proxy, whose cut makes a command fail; no reconnection, so a cut ends the run. */
    private LettuceConnectionFactory viaProxy() {
        LettuceClientConfiguration client = LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(2))
                .clientOptions(ClientOptions.builder().autoReconnect(false).build()).build();
        RedisStandaloneConfiguration server = new RedisStandaloneConfiguration("127.0.0.1", proxy.port());
        server.setUsername(RedisUsers.ADMIN);
        server.setPassword(RedisUsers.adminPassword());
        LettuceConnectionFactory connections = new LettuceConnectionFactory(server, client);
        connections.afterPropertiesSet();
        connections.start();
        return connections;
    }

    /** Runs the steps through the proxy until one fails; returns the index of the failed step, or the size. */
    private int liveThroughProxy(List<BiConsumer<TaskLifecycle, String>> steps, String id) {
        LettuceConnectionFactory connections = viaProxy();
        try {
            StringRedisTemplate template = new StringRedisTemplate(connections);
            TaskLifecycle cut = new TaskLifecycle(new TaskRedis(connections, template), template, CLOCK);
            for (int step = 0; step < steps.size(); step++) {
                try {
                    steps.get(step).accept(cut, id);
                } catch (RuntimeException e) {
                    return step;
                }
            }
            return steps.size();
        } finally {
            connections.destroy();
        }
    }

    private void assertIndexesAgreeWithStatus(String id) {
        TaskStatus status = TaskStatus.valueOf((String) redis.opsForHash().get(RedisKeys.task(id), TaskHash.STATUS.name()));
        assertThat(redis.opsForZSet().score(RedisKeys.PENDING_TASKS, id) != null).as("%s listed as pending", status)
                .isEqualTo(status.awaitsSharding());
        assertThat(redis.opsForZSet().score(RedisKeys.RUNNING_TASKS, id) != null).as("%s listed as running", status)
                .isEqualTo(status == TaskStatus.INPROGRESS);
    }

    private void assertFailuresAtEveryCommandAreRepaired(List<BiConsumer<TaskLifecycle, String>> life, boolean failedItem, int shards) {
        proxy.cutAtCommand(0);
        assertThat(liveThroughProxy(life, savedTask(failedItem))).as("the life runs through the proxy uncut").isEqualTo(life.size());
        long commands = proxy.commands();
        assertThat(commands).isGreaterThan(life.size());

        for (long cutAt = 1; cutAt <= commands; cutAt++) {
            String id = savedTask(failedItem);
            proxy.cutAtCommand(cutAt);
            int failedStep = liveThroughProxy(life, id);
            assertThat(failedStep).as("the cut at command %d interrupts a step", cutAt).isLessThan(life.size());

            // The sweeper's repair, then the services repeat the failed step and go on.
            if (redis.hasKey(RedisKeys.task(id))) {
                lifecycle.repair(id);
                assertIndexesAgreeWithStatus(id);
            }
            for (int step = failedStep; step < life.size(); step++) {
                life.get(step).accept(lifecycle, id);
            }
            lifecycle.repair(id);

            assertThat(redis.opsForHash().get(RedisKeys.task(id), TaskHash.STATUS.name())).as("cut at command %d of %d", cutAt, commands)
                    .isEqualTo("COMPLETED");
            assertThat(redis.opsForSet().size(RedisKeys.shardsDone(id))).isEqualTo(shards);
            assertIndexesAgreeWithStatus(id);
            assertThat(redis.getExpire(RedisKeys.task(id))).as("a finished task expires").isPositive();
        }
    }

    @Test
    void a_task_cut_off_from_redis_at_any_command_of_its_life_finishes_and_no_index_stays_stale() {
        assertFailuresAtEveryCommandAreRepaired(LIFE, false, 2);
    }

    @Test
    void a_failed_task_retried_and_cut_off_at_any_command_finishes_its_new_round() {
        assertFailuresAtEveryCommandAreRepaired(RETRIED_LIFE, true, 1);
    }

    @Test
    void a_finished_task_moves_only_through_retry_failed_and_late_shards_change_nothing() {
        String id = savedTask(false);
        LIFE.forEach(step -> step.accept(lifecycle, id));
        assertIndexesAgreeWithStatus(id);

        assertThat(lifecycle.moveTo(id, TaskStatus.CANCELLED, Map.of())).isFalse();
        assertThat(lifecycle.startSharding(id, 3)).isFalse();
        assertThat(lifecycle.completeShard(id, 0, 1)).as("a shard done twice").isEmpty();
        assertThat(lifecycle.reopenFailed(id)).as("only a FAILED task").isFalse();

        assertThat(redis.opsForHash().get(RedisKeys.task(id), TaskHash.STATUS.name())).isEqualTo("COMPLETED");
        // A refused move may leave the entry it wrote first (undoing it could race a move that won); repair drops it.
        lifecycle.repair(id);
        assertIndexesAgreeWithStatus(id);
    }

    @Test
    void sharding_and_a_new_round_forget_where_the_shards_were_last_published() {
        Map<String, String> published = Map.of(TaskHash.SHARDS_PUBLISHED.name(), "1", TaskHash.SHARD_PLACEMENTS.name(), "0:3:41");
        String id = savedTask(true);
        redis.opsForHash().putAll(RedisKeys.task(id), published); // left by an earlier sharding that did not finish
        lifecycle.admit(id, CLOCK.millis(), false);

        assertThat(lifecycle.startSharding(id, 1)).isTrue();
        assertThat(redis.opsForHash().multiGet(RedisKeys.task(id), List.copyOf(published.keySet()))).containsOnlyNulls();

        redis.opsForHash().putAll(RedisKeys.task(id), published);
        lifecycle.completeShard(id, 0, 1);
        assertThat(redis.opsForHash().get(RedisKeys.task(id), TaskHash.STATUS.name())).isEqualTo("FAILED");
        assertThat(lifecycle.reopenFailed(id)).isTrue();

        assertThat(redis.opsForHash().multiGet(RedisKeys.task(id), List.copyOf(published.keySet())))
                .as("round 2's shards are not where round 1's were").containsOnlyNulls();
    }

    @Test
    void repair_drops_the_entries_of_a_task_that_is_gone_or_in_another_state() {
        String gone = UUID.randomUUID().toString();
        String finished = savedTask(false);
        LIFE.forEach(step -> step.accept(lifecycle, finished));
        redis.opsForZSet().add(RedisKeys.PENDING_TASKS, gone, 0);
        redis.opsForZSet().add(RedisKeys.RUNNING_TASKS, finished, 0);

        assertThat(lifecycle.repair(gone)).isEmpty();
        assertThat(lifecycle.repair(finished)).contains(TaskStatus.COMPLETED);
        assertThat(redis.opsForZSet().score(RedisKeys.PENDING_TASKS, gone)).isNull();
        assertIndexesAgreeWithStatus(finished);
    }

    /** A lifecycle that lets {@code other} act on the task once, between two steps of its own index change. */
    private TaskLifecycle interleavedWith(Consumer<String> other) {
        AtomicBoolean done = new AtomicBoolean();
        return new TaskLifecycle(new TaskRedis(direct, redis), redis, CLOCK, taskId -> {
            if (done.compareAndSet(false, true)) {
                other.accept(taskId);
            }
        });
    }

    private boolean listed(String index, String taskId) {
        return redis.opsForZSet().score(index, taskId) != null;
    }

    @Test
    void a_task_another_scheduler_shards_while_this_one_records_its_publish_stays_in_the_running_index() {
        String id = savedTask(false);
        lifecycle.admit(id, CLOCK.millis(), false);
        // The task is on Kafka before its publisher's status change returns: a dispatcher shards it in between.
        TaskLifecycle publisher = interleavedWith(taskId -> assertThat(lifecycle.startSharding(taskId, 2)).isTrue());

        assertThat(publisher.moveTo(id, TaskStatus.SUBMITTED, Map.of())).isTrue();

        assertThat(redis.opsForHash().get(RedisKeys.task(id), TaskHash.STATUS.name())).isEqualTo("INPROGRESS");
        assertThat(listed(RedisKeys.RUNNING_TASKS, id)).as("in the index of its status").isTrue();
    }

    @Test
    void a_repair_that_read_the_status_before_another_scheduler_sharded_the_task_leaves_it_in_the_running_index() {
        String id = savedTask(false);
        lifecycle.admit(id, CLOCK.millis(), false);
        lifecycle.moveTo(id, TaskStatus.SUBMITTED, Map.of());
        TaskLifecycle sweeper = interleavedWith(taskId -> assertThat(lifecycle.startSharding(taskId, 2)).isTrue());

        assertThat(sweeper.repair(id)).contains(TaskStatus.SUBMITTED);

        assertThat(listed(RedisKeys.RUNNING_TASKS, id)).as("in the index of its status").isTrue();
        assertThat(lifecycle.repair(id)).contains(TaskStatus.INPROGRESS);
        assertThat(listed(RedisKeys.PENDING_TASKS, id)).as("the next repair drops what the first one wrote for SUBMITTED").isFalse();
    }
}
