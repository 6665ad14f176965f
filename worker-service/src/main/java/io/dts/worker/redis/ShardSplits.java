package io.dts.worker.redis;

import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import io.dts.model.ShardSignature;
import io.dts.model.TaskShard;
import io.dts.redis.LuaScripts;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskRedis;
import io.dts.worker.WorkerInstance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Work stealing in Redis ({@link RedisKeys#splits}): the run that owns a shard claims its items a block at a time as
 * its slots take them, and an idle worker takes its share of what is not claimed yet, from the end, with a run of its own
 * registered in the task's deliveries hash. Both are one Lua step on the same key, so an item is the owner's or the
 * thief's, never both; the owner waits for its thieves' runs before it calls the shard done, and a thief that dies
 * leaves a dead run behind like any run, so its items are run again (and count towards quarantine).
 */
@Component
public class ShardSplits {

    private static final Logger log = LoggerFactory.getLogger(ShardSplits.class);
    private static final RedisScript<Long> CLAIM = LuaScripts.load("claim-items.lua", Long.class);
    @SuppressWarnings("rawtypes")
    private static final RedisScript<List> STEAL = LuaScripts.load("steal-items.lua", List.class);
    private static final RedisScript<Long> CLOSE = LuaScripts.load("close-split.lua", Long.class);
    private static final RedisScript<Long> FORGET = LuaScripts.load("forget-split.lua", Long.class);
    /** Orders the open splits by priority before age: a score is {@code (10 - priority) * PRIORITY_STEP + opened at}. */
    private static final double PRIORITY_STEP = 1e13;

    private final TaskRedis tasks;
    private final StringRedisTemplate shared;
    private final JsonMapper json;
    private final ShardSignature signature;
    private final Clock clock;
    private final String instance;
    private final AtomicLong nonces = new AtomicLong();

    public ShardSplits(TaskRedis tasks, StringRedisTemplate shared, JsonMapper json, ShardSignature signature, Clock clock,
                       WorkerInstance instance) {
        this.tasks = tasks;
        this.shared = shared;
        this.json = json;
        this.signature = signature;
        this.clock = clock;
        this.instance = instance.id();
    }

    /** An entry of the open set: {@code <taskId>/<round>/<shardIndex>}, scored by priority then the time it opened. */
    public record OpenSplit(String member, double score) {
    }

    /** What an idle worker took: items {@code [part.startIndex, part.endIndex)} of a shard, and its run's registration. */
    public record Stolen(TaskShard part, String holder) {
    }

    /**
     * Opens the split of the shard for the run {@code owner} (its deliveries field) of a worker of {@code slots} slots,
     * with none of its items claimed; returns its entry in the open set.
     */
    public OpenSplit open(TaskShard shard, String owner, int priority, int slots) {
        String prefix = prefix(shard.round(), shard.shardIndex());
        tasks.forTask(shard.taskId()).opsForHash().putAll(RedisKeys.splits(shard.taskId()), Map.of(
                prefix + "owner", owner,
                prefix + "claimed", String.valueOf(shard.startIndex()),
                prefix + "end", String.valueOf(shard.endIndex()),
                prefix + "slots", String.valueOf(slots),
                prefix + "shard", json.writeValueAsString(shard),
                prefix + "signature", Base64.getEncoder().encodeToString(signature.sign(shard))));
        OpenSplit listed = new OpenSplit(member(shard), (10 - priority) * PRIORITY_STEP + clock.millis());
        shared.opsForZSet().add(RedisKeys.SPLITS_OPEN, listed.member(), listed.score());
        return listed;
    }

    /**
     * Claims the shard's items up to {@code upTo} for its owner.
     *
     * @return the end of the owner's items now: {@code upTo}, or less when idle workers took the rest; -1 when the
     *         split is no longer the owner's
     */
    public long claim(TaskShard shard, String owner, long upTo) {
        Long owned = tasks.forTask(shard.taskId()).execute(CLAIM, List.of(RedisKeys.splits(shard.taskId())),
                prefix(shard.round(), shard.shardIndex()), owner, String.valueOf(upTo));
        return owned == null ? -1 : owned;
    }

    /** No more of the shard's items are taken by idle workers; {@code listed} is what {@link #open} returned. */
    public void close(TaskShard shard, String owner, OpenSplit listed) {
        tasks.forTask(shard.taskId()).execute(CLOSE, List.of(RedisKeys.splits(shard.taskId())), prefix(shard.round(), shard.shardIndex()),
                owner);
        forget(listed);
    }

    /** Up to {@code count} open splits, highest priority first, then oldest. */
    public List<OpenSplit> open(int count) {
        return Optional.ofNullable(shared.opsForZSet().rangeWithScores(RedisKeys.SPLITS_OPEN, 0, count - 1)).orElseGet(Set::of).stream()
                .map(entry -> new OpenSplit(entry.getValue(), entry.getScore())).toList();
    }

    /**
     * Takes the last unclaimed items of an open split, this worker's share of them by its {@code freeSlots} against the
     * owner's slots, registered as a run of this process with a lease of {@code lease}; empty when there is nothing to
     * take. A split with nothing claimable left leaves the open set, unless a later run of the shard opened it again.
     */
    public Optional<Stolen> steal(OpenSplit split, int freeSlots, Duration lease) {
        String member = split.member();
        int shardAt = member.lastIndexOf('/');
        int roundAt = member.lastIndexOf('/', shardAt - 1);
        if (roundAt <= 0) {
            forget(split);
            return Optional.empty();
        }
        String taskId = member.substring(0, roundAt);
        String prefix = member.substring(roundAt + 1) + "/";
        String holder = prefix + instance + "/s" + nonces.incrementAndGet();
        List<?> reply = tasks.forTask(taskId).execute(STEAL, List.of(RedisKeys.splits(taskId), RedisKeys.deliveries(taskId)), prefix, holder,
                String.valueOf(lease.toMillis()), prefix + instance + "/", String.valueOf(freeSlots));
        long outcome = reply == null || reply.isEmpty() ? 0 : ((Number) reply.get(0)).longValue();
        if (outcome == 0) {
            forget(split);
        }
        if (outcome != 2) {
            return Optional.empty();
        }
        long from = ((Number) reply.get(1)).longValue();
        long to = ((Number) reply.get(2)).longValue();
        TaskShard shard = json.readValue(String.valueOf(reply.get(3)), TaskShard.class);
        if (!signature.verify(shard, Base64.getDecoder().decode(String.valueOf(reply.get(4))))
                || !shard.taskId().equals(taskId) || !prefix.equals(prefix(shard.round(), shard.shardIndex()))
                || from < shard.startIndex() || to > shard.endIndex() || from >= to) {
            // Only a process with the shard key signs a split, as a shard: whoever wrote this one did not; its items stay unrun
            // here, and it leaves the open set, so no tick shrinks it again.
            log.warn("Task {}: the split {} does not carry a valid signature of its shard; not run", taskId, member);
            tasks.forTask(taskId).opsForHash().delete(RedisKeys.deliveries(taskId), holder);
            forget(split);
            return Optional.empty();
        }
        TaskShard part = new TaskShard(shard.taskId(), shard.shardIndex(), shard.shardCount(), from, to, shard.command(),
                shard.withoutItems(), shard.timeoutSeconds(), shard.maxRetries(), shard.round(), shard.halt());
        return Optional.of(new Stolen(part, holder));
    }

    private void forget(OpenSplit split) {
        shared.execute(FORGET, List.of(RedisKeys.SPLITS_OPEN), split.member(), String.valueOf(split.score()));
    }

    private static String member(TaskShard shard) {
        return shard.taskId() + "/" + shard.round() + "/" + shard.shardIndex();
    }

    /** As the deliveries hash's fields begin: {@code <round>/<shardIndex>/}. */
    private static String prefix(int round, int shardIndex) {
        return round + "/" + shardIndex + "/";
    }
}
