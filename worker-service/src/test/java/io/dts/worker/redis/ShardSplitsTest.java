package io.dts.worker.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import io.dts.model.ShardSignature;
import io.dts.model.TaskShard;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskRedis;
import io.dts.testsupport.RedisConnections;
import io.dts.worker.WorkerInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.json.JsonMapper;

/** The owner's claims and idle workers' steals of one shard's items, in a real Redis: every item is one run's. */
class ShardSplitsTest {

    private static final ShardSignature KEY = ShardSignature.of("a shard key of thirty-two bytes!".getBytes(StandardCharsets.UTF_8));
    private static final Duration LEASE = Duration.ofSeconds(30);

    private static LettuceConnectionFactory connections;
    private static StringRedisTemplate redis;
    private static TaskRedis taskRedis;

    private final TaskShard shard = new TaskShard(UUID.randomUUID().toString(), 0, 1, 100, 112, "echo {{item}}", false, null, 0, 1, null);
    private final String member = shard.taskId() + "/1/0";
    private final WorkerInstance ownerProcess = new WorkerInstance();
    private final String owner = "1/0/" + ownerProcess.id() + "/1";
    /** The owner's entry in the open set, once it opened its split. */
    private ShardSplits.OpenSplit listed;

    @BeforeAll
    static void connect() {
        connections = RedisConnections.toServer();
        redis = new StringRedisTemplate(connections);
        taskRedis = new TaskRedis(connections, redis);
    }

    @AfterAll
    static void disconnect() {
        taskRedis.destroy();
        connections.destroy();
    }

    @AfterEach
    void forget() {
        redis.opsForZSet().remove(RedisKeys.SPLITS_OPEN, member);
        redis.delete(List.of(RedisKeys.splits(shard.taskId()), RedisKeys.deliveries(shard.taskId())));
    }

    private static ShardSplits of(WorkerInstance process) {
        return of(process, Clock.systemUTC());
    }

    private static ShardSplits of(WorkerInstance process, Clock clock) {
        return new ShardSplits(taskRedis, redis, JsonMapper.builder().build(), KEY, clock, process);
    }

    /** The shard's entry in the open set, as a thief reads it. */
    private ShardSplits.OpenSplit opened() {
        Double score = redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, member);
        return new ShardSplits.OpenSplit(member, score == null ? 0 : score);
    }

    /** The owner's run, registered with a live lease, as hold-run.lua leaves it. */
    private ShardSplits anOwnerRunning() {
        redis.opsForHash().put(RedisKeys.deliveries(shard.taskId()), owner, String.valueOf(System.currentTimeMillis() + 60_000));
        ShardSplits splits = of(ownerProcess);
        listed = splits.open(shard, owner, 0, 2);
        return splits;
    }

    @Test
    void a_thief_takes_its_share_of_the_unclaimed_items_from_the_end_and_the_owner_stops_where_they_begin() {
        ShardSplits ownerSide = anOwnerRunning();
        assertThat(ownerSide.claim(shard, owner, 104)).isEqualTo(104);

        Optional<ShardSplits.Stolen> stolen = of(new WorkerInstance()).steal(opened(), 2, LEASE);

        // 8 unclaimed, the owner's 2 slots busy, the thief's 2 free: half of the 10 items' work, all of it from the unclaimed.
        assertThat(stolen).isPresent();
        assertThat(stolen.get().part()).isEqualTo(new TaskShard(shard.taskId(), 0, 1, 107, 112, shard.command(), false, null, 0, 1, null));
        assertThat(redis.opsForHash().hasKey(RedisKeys.deliveries(shard.taskId()), stolen.get().holder()))
                .as("the thief's run is registered as any run of the shard").isTrue();
        assertThat(redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, member)).as("still open while items are unclaimed").isNotNull();
        assertThat(ownerSide.claim(shard, owner, 112)).as("the owner's items end where the thief's begin").isEqualTo(107);
        assertThat(of(new WorkerInstance()).steal(opened(), 2, LEASE)).as("all claimed: nothing to take").isEmpty();
        assertThat(redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, member)).as("nothing will be claimable again: out of the open set")
                .isNull();
        assertThat(ownerSide.claim(shard, owner, 112)).as("still the owner's split").isEqualTo(107);
    }

    @Test
    void a_worker_never_takes_from_its_own_run_and_nobody_takes_once_the_owner_closed_it() {
        ShardSplits ownerSide = anOwnerRunning();

        assertThat(ownerSide.steal(opened(), 2, LEASE)).isEmpty();
        assertThat(redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, member)).as("its own, with items to take: stays open for others").isNotNull();
        assertThat(redis.opsForHash().keys(RedisKeys.deliveries(shard.taskId()))).containsExactly(owner);

        ownerSide.close(shard, owner, listed);

        assertThat(of(new WorkerInstance()).steal(opened(), 2, LEASE)).isEmpty();
        assertThat(ownerSide.claim(shard, owner, 112)).as("closed: no longer the owner's split").isEqualTo(-1);
        assertThat(redis.opsForHash().entries(RedisKeys.splits(shard.taskId()))).isEmpty();
        assertThat(redis.opsForHash().keys(RedisKeys.deliveries(shard.taskId()))).containsExactly(owner);
    }

    @Test
    void a_worker_that_finds_its_own_split_all_claimed_takes_it_out_of_the_open_set() {
        ShardSplits ownerSide = anOwnerRunning();
        assertThat(ownerSide.claim(shard, owner, 112)).isEqualTo(112);

        assertThat(ownerSide.steal(opened(), 2, LEASE)).isEmpty();

        // Nothing is claimable there again: it must not stay among the candidates an idle worker looks at.
        assertThat(redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, member)).isNull();
        assertThat(ownerSide.claim(shard, owner, 112)).as("still the owner's split").isEqualTo(112);
    }

    @Test
    void nothing_is_taken_from_a_run_whose_lease_ran_out_and_its_split_leaves_the_open_set() {
        anOwnerRunning();
        redis.opsForHash().put(RedisKeys.deliveries(shard.taskId()), owner, String.valueOf(System.currentTimeMillis() - 60_000));

        assertThat(of(new WorkerInstance()).steal(opened(), 2, LEASE)).isEmpty();
        assertThat(redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, member)).isNull();
        assertThat(redis.opsForHash().get(RedisKeys.splits(shard.taskId()), "1/0/end")).isEqualTo("112");
    }

    @Test
    void a_thief_that_finds_a_split_gone_leaves_it_in_the_open_set_when_a_later_run_opened_it_again() {
        anOwnerRunning();
        ShardSplits.OpenSplit read = opened();
        redis.opsForHash().put(RedisKeys.deliveries(shard.taskId()), owner, String.valueOf(System.currentTimeMillis() - 60_000));
        // Between the thief's read of the open set and its step in Redis, a later run of the shard opens it again.
        redis.opsForZSet().add(RedisKeys.SPLITS_OPEN, member, read.score() + 1);

        assertThat(of(new WorkerInstance()).steal(read, 2, LEASE)).isEmpty();

        assertThat(redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, member)).as("the later run's entry stays").isEqualTo(read.score() + 1);
        assertThat(of(new WorkerInstance()).steal(opened(), 2, LEASE)).isEmpty();
        assertThat(redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, member)).as("read again, and found gone: removed").isNull();
    }

    @Test
    void a_later_run_of_the_shard_keeps_its_split_when_an_earlier_one_closes_late() {
        ShardSplits earlier = anOwnerRunning();
        String later = "1/0/" + UUID.randomUUID() + "/2";
        // Opened a second later: its entry in the open set is not the earlier run's.
        of(new WorkerInstance(), Clock.offset(Clock.systemUTC(), Duration.ofSeconds(1))).open(shard, later, 0, 2);

        earlier.close(shard, owner, listed);

        assertThat(earlier.claim(shard, later, 102)).isEqualTo(102);
        assertThat(earlier.claim(shard, owner, 104)).isEqualTo(-1);
        assertThat(redis.opsForZSet().score(RedisKeys.SPLITS_OPEN, member)).as("still open for the later run").isNotNull();
    }
}
