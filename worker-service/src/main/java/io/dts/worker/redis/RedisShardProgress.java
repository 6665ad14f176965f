package io.dts.worker.redis;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import io.dts.model.ItemResult;
import io.dts.model.ShardHalt;
import io.dts.model.TaskStatus;
import io.dts.redis.LuaScripts;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskHash;
import io.dts.redis.TaskLifecycle;
import io.dts.redis.TaskRedis;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.data.redis.serializer.RedisSerializer;
import org.springframework.stereotype.Repository;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link ShardProgress} on Redis. Counts are never incremented: an item is a field of the results
 * hash, a bit of the recorded bitmap and maybe a member of the failed set, and a shard is a member of
 * the done set, so a redelivered shard rewrites the same members and nothing is counted twice. Each
 * run of a shard is a field of its own in the deliveries hash, removed when the run ends, so only runs
 * whose process died stay behind to be counted. A task's own keys are reached through {@link TaskRedis},
 * the shared running-task index and the worker instance keys through the application's template.
 */
@Repository
public class RedisShardProgress implements ShardProgress {

    private static final RedisScript<Long> HOLD_RUN = LuaScripts.load("hold-run.lua", Long.class);
    private static final RedisScript<Long> RENEW_RUN = LuaScripts.load("renew-run.lua", Long.class);
    @SuppressWarnings("rawtypes")
    private static final RedisScript<List> COUNT_RUNS = LuaScripts.load("count-runs.lua", List.class);

    private final TaskRedis tasks;
    private final TaskLifecycle lifecycle;
    private final StringRedisTemplate redis;
    private final JsonMapper json;
    private final Clock clock;
    /** Tells apart the runs of one shard by this process, such as a redelivery while the first run still goes. */
    private final AtomicLong nonces = new AtomicLong();

    public RedisShardProgress(TaskRedis tasks, TaskLifecycle lifecycle, StringRedisTemplate redis, JsonMapper json, Clock clock) {
        this.tasks = tasks;
        this.lifecycle = lifecycle;
        this.redis = redis;
        this.json = json;
        this.clock = clock;
    }

    @Override
    public Optional<TaskStatus> status(String taskId) {
        return Optional.ofNullable(TaskHash.STATUS.read(tasks.forTask(taskId), taskId));
    }

    @Override
    public Chunk chunk(String taskId, long from, long to, boolean withItems) {
        byte[] recordedKey = RedisKeys.recorded(taskId).getBytes(StandardCharsets.UTF_8);
        byte[] itemsKey = RedisKeys.items(taskId).getBytes(StandardCharsets.UTF_8);
        // One round trip: the recorded bits and the items, raw, since a bitmap is no UTF-8.
        List<Object> replies = tasks.forTask(taskId).executePipelined((RedisCallback<Object>) c -> {
            c.stringCommands().getRange(recordedKey, from / 8, (to - 1) / 8);
            if (withItems) {
                c.listCommands().lRange(itemsKey, from, to - 1);
            }
            return null;
        }, RedisSerializer.byteArray());
        List<String> items = withItems
                ? ((List<?>) replies.get(1)).stream().map(item -> new String((byte[]) item, StandardCharsets.UTF_8)).toList()
                : List.of();
        return new Chunk(from, items, recordedBits((byte[]) replies.get(0), from, to));
    }

    @Override
    public BitSet recorded(String taskId, long from, long to) {
        byte[] key = RedisKeys.recorded(taskId).getBytes(StandardCharsets.UTF_8);
        byte[] bytes = tasks.forTask(taskId).execute((RedisCallback<byte[]>) c -> c.stringCommands().getRange(key, from / 8, (to - 1) / 8));
        return recordedBits(bytes, from, to);
    }

    /** Bit {@code i} of the result for item {@code from + i}, from the bitmap's bytes {@code from / 8} on. */
    private static BitSet recordedBits(byte[] bytes, long from, long to) {
        BitSet recorded = new BitSet((int) (to - from));
        if (bytes == null) {
            return recorded;
        }
        long firstByte = from / 8;
        for (long index = from; index < to; index++) {
            int byteIndex = (int) (index / 8 - firstByte);
            // Redis bitmaps number bits from the most significant bit of each byte.
            if (byteIndex < bytes.length && (bytes[byteIndex] & (0x80 >>> (index % 8))) != 0) {
                recorded.set((int) (index - from));
            }
        }
        return recorded;
    }

    @Override
    public Optional<ShardState> state(String taskId, int shardIndex, int round) {
        List<Object> replies = tasks.forTask(taskId).executePipelined(new SessionCallback<Object>() {
            @Override
            @SuppressWarnings("unchecked")
            public <K, V> Object execute(RedisOperations<K, V> operations) {
                RedisOperations<String, String> ops = (RedisOperations<String, String>) operations;
                ops.opsForHash().multiGet(RedisKeys.task(taskId), List.of(TaskHash.STATUS.name(), TaskHash.ROUND.name(),
                        TaskHash.OWNER.name(), TaskHash.PRIORITY.name(), TaskHash.MAX_PARALLEL.name(), TaskHash.OWNER_RUNNING_LIMIT.name()));
                ops.opsForSet().isMember(RedisKeys.shardsDone(taskId), String.valueOf(shardIndex));
                ops.opsForHash().keys(RedisKeys.deliveries(taskId));
                return null;
            }
        });
        List<?> task = (List<?>) replies.get(0);
        if (task.get(0) == null) {
            return Optional.empty();
        }
        int currentRound = Optional.ofNullable(TaskHash.ROUND.parse(task.get(1))).orElse(0);
        List<String> args = new ArrayList<>(List.of(holderPrefix(shardIndex, round)));
        args.addAll(goneInstances(shardIndex, round, (Collection<?>) replies.get(2)));
        List<?> counts = tasks.forTask(taskId).execute(COUNT_RUNS, List.of(RedisKeys.deliveries(taskId)), args.toArray());
        Scheduling scheduling = new Scheduling(Optional.ofNullable(TaskHash.OWNER.parse(task.get(2))).orElse(""),
                Optional.ofNullable(TaskHash.PRIORITY.parse(task.get(3))).orElse(0), TaskHash.MAX_PARALLEL.parse(task.get(4)),
                TaskHash.OWNER_RUNNING_LIMIT.parse(task.get(5)));
        return Optional.of(new ShardState(TaskHash.STATUS.parse(task.get(0)), currentRound, Boolean.TRUE.equals(replies.get(1)),
                ((Number) counts.get(1)).intValue(), ((Number) counts.get(0)).intValue(), scheduling));
    }

    /**
     * The instances of the shard's registered runs that have no {@link RedisKeys#workerInstance} key: processes
     * gone. One read for all of them; instance keys are not a task's keys, so the application's template
     * reaches them on any node of a cluster.
     */
    private Set<String> goneInstances(int shardIndex, int round, Collection<?> fields) {
        String prefix = holderPrefix(shardIndex, round);
        List<String> instances = fields.stream().map(String::valueOf)
                .filter(field -> field.startsWith(prefix) && field.lastIndexOf('/') > prefix.length())
                .map(field -> field.substring(prefix.length(), field.lastIndexOf('/')))
                .distinct().toList();
        if (instances.isEmpty()) {
            return Set.of();
        }
        List<String> alive = redis.opsForValue().multiGet(instances.stream().map(RedisKeys::workerInstance).toList());
        Set<String> gone = new HashSet<>();
        for (int i = 0; i < instances.size(); i++) {
            if (alive == null || alive.get(i) == null) {
                gone.add(instances.get(i));
            }
        }
        return gone;
    }

    @Override
    public Optional<String> hold(String taskId, int shardIndex, int round, String instanceId, Duration lease) {
        String holder = holderPrefix(shardIndex, round) + instanceId + "/" + nonces.incrementAndGet();
        List<String> args = new ArrayList<>(List.of(holderPrefix(shardIndex, round), holder, String.valueOf(lease.toMillis())));
        args.addAll(goneInstances(shardIndex, round, tasks.forTask(taskId).opsForHash().keys(RedisKeys.deliveries(taskId))));
        Long held = tasks.forTask(taskId).execute(HOLD_RUN, List.of(RedisKeys.deliveries(taskId)), args.toArray());
        return Long.valueOf(1).equals(held) ? Optional.of(holder) : Optional.empty();
    }

    @Override
    public boolean renew(String taskId, String holder, Duration lease) {
        return Long.valueOf(1).equals(tasks.forTask(taskId).execute(RENEW_RUN, List.of(RedisKeys.deliveries(taskId)), holder,
                String.valueOf(lease.toMillis())));
    }

    @Override
    public void release(String taskId, String holder) {
        tasks.forTask(taskId).opsForHash().delete(RedisKeys.deliveries(taskId), holder);
    }

    /** Holder fields are {@code <round>/<shardIndex>/<instanceId>/<nonce>}; see {@link RedisKeys#deliveries}. */
    private static String holderPrefix(int shardIndex, int round) {
        return round + "/" + shardIndex + "/";
    }

    @Override
    public void record(String taskId, List<ItemResult> results) {
        if (results.isEmpty()) {
            return;
        }
        String resultsKey = RedisKeys.results(taskId);
        String recordedKey = RedisKeys.recorded(taskId);
        String failedKey = RedisKeys.failed(taskId);
        String skippedKey = RedisKeys.skipped(taskId);
        // A pipelined transaction: one round trip for the whole batch.
        tasks.forTask(taskId).executePipelined(new SessionCallback<Object>() {
            @Override
            @SuppressWarnings("unchecked")
            public <K, V> Object execute(RedisOperations<K, V> operations) {
                RedisOperations<String, String> ops = (RedisOperations<String, String>) operations;
                ops.multi();
                for (ItemResult result : results) {
                    String index = String.valueOf(result.index());
                    ops.opsForHash().put(resultsKey, index, json.writeValueAsString(result));
                    ops.opsForValue().setBit(recordedKey, result.index(), true);
                    if (result.succeeded()) {
                        ops.opsForSet().remove(failedKey, index);
                    } else {
                        ops.opsForSet().add(failedKey, index);
                    }
                    // A skipped item counts as failed too (retry-failed runs it again), and is told apart by this set.
                    if (result.skipped()) {
                        ops.opsForSet().add(skippedKey, index);
                    } else {
                        ops.opsForSet().remove(skippedKey, index);
                    }
                }
                ops.opsForHash().put(RedisKeys.task(taskId), TaskHash.UPDATED_AT.name(), TaskHash.UPDATED_AT.format(clock.instant()));
                ops.exec();
                return null;
            }
        });
    }

    @Override
    public boolean countHaltFailure(String taskId, long itemIndex, ShardHalt halt) {
        return lifecycle.countHaltFailure(taskId, itemIndex, halt);
    }

    @Override
    public boolean halted(String taskId) {
        return lifecycle.halted(taskId);
    }

    @Override
    public Optional<TaskStatus> completeShard(String taskId, int shardIndex, int round) {
        return lifecycle.completeShard(taskId, shardIndex, round);
    }
}
