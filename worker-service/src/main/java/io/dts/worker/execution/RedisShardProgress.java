package io.dts.worker.execution;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;

import io.dts.model.ItemResult;
import io.dts.model.RedisKeys;
import io.dts.model.TaskHash;
import io.dts.model.TaskStatus;
import io.dts.redis.RedisTransactions;
import io.dts.redis.TaskRedis;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.stereotype.Repository;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link ShardProgress} on Redis. Counts are never incremented: an item is a field of the results
 * hash, a bit of the recorded bitmap and maybe a member of the failed set, and a shard is a member of
 * the done set, so a redelivered shard rewrites the same members and nothing is counted twice. A
 * task's own keys are reached through {@link TaskRedis}, the shared running-task index through the
 * application's template.
 */
@Repository
public class RedisShardProgress implements ShardProgress {

    private final TaskRedis tasks;
    private final StringRedisTemplate redis;
    private final JsonMapper json;
    private final Clock clock;

    public RedisShardProgress(TaskRedis tasks, StringRedisTemplate redis, JsonMapper json, Clock clock) {
        this.tasks = tasks;
        this.redis = redis;
        this.json = json;
        this.clock = clock;
    }

    @Override
    public Optional<TaskStatus> status(String taskId) {
        Object status = tasks.forTask(taskId).opsForHash().get(RedisKeys.task(taskId), TaskHash.STATUS);
        return Optional.ofNullable(status).map(s -> TaskStatus.valueOf((String) s));
    }

    @Override
    public List<String> items(String taskId, long from, long to) {
        List<String> items = tasks.forTask(taskId).opsForList().range(RedisKeys.items(taskId), from, to - 1);
        return items == null ? List.of() : items;
    }

    @Override
    public BitSet recorded(String taskId, long from, long to) {
        byte[] key = RedisKeys.recorded(taskId).getBytes(StandardCharsets.UTF_8);
        long firstByte = from / 8;
        byte[] bytes = tasks.forTask(taskId).execute((RedisCallback<byte[]>) c -> c.stringCommands().getRange(key, firstByte, (to - 1) / 8));
        BitSet recorded = new BitSet((int) (to - from));
        if (bytes == null) {
            return recorded;
        }
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
    public long countDelivery(String taskId, int shardIndex, int round) {
        return tasks.forTask(taskId).opsForHash().increment(RedisKeys.deliveries(taskId), round + "/" + shardIndex, 1);
    }

    @Override
    public void uncountDelivery(String taskId, int shardIndex, int round) {
        tasks.forTask(taskId).opsForHash().increment(RedisKeys.deliveries(taskId), round + "/" + shardIndex, -1);
    }

    @Override
    public void record(String taskId, List<ItemResult> results) {
        if (results.isEmpty()) {
            return;
        }
        String resultsKey = RedisKeys.results(taskId);
        String recordedKey = RedisKeys.recorded(taskId);
        String failedKey = RedisKeys.failed(taskId);
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
                }
                ops.opsForHash().put(RedisKeys.task(taskId), TaskHash.UPDATED_AT, String.valueOf(clock.millis()));
                ops.exec();
                return null;
            }
        });
    }

    @Override
    public Optional<TaskStatus> completeShard(String taskId, int shardIndex, int round) {
        String taskKey = RedisKeys.task(taskId);
        String doneKey = RedisKeys.shardsDone(taskId);
        Optional<Completion> completion = RedisTransactions.watchAndUpdate(tasks.forTask(taskId), List.of(taskKey, doneKey), ops -> {
            List<Object> task = ops.opsForHash().multiGet(taskKey,
                    List.of(TaskHash.STATUS, TaskHash.CHUNKS_TO_EXECUTE, TaskHash.ROUND, TaskHash.RETENTION_SECONDS));
            if (task.get(0) == null || !String.valueOf(round).equals(task.get(2))
                    || Boolean.TRUE.equals(ops.opsForSet().isMember(doneKey, String.valueOf(shardIndex)))) {
                return Optional.empty();
            }
            TaskStatus status = TaskStatus.valueOf((String) task.get(0));
            long shards = Long.parseLong((String) task.get(1));
            long done = ops.opsForSet().size(doneKey) + 1;
            TaskStatus next = null;
            if (done >= shards) {
                next = ops.opsForSet().size(RedisKeys.failed(taskId)) > 0 ? TaskStatus.FAILED : TaskStatus.COMPLETED;
                if (!status.canMoveTo(next)) {
                    next = null;
                }
            }
            String now = String.valueOf(clock.millis());
            ops.multi();
            ops.opsForSet().add(doneKey, String.valueOf(shardIndex));
            ops.opsForHash().put(taskKey, TaskHash.UPDATED_AT, now);
            if (next != null) {
                ops.opsForHash().put(taskKey, TaskHash.STATUS, next.name());
                ops.opsForHash().put(taskKey, TaskHash.FINISHED_AT, now);
                Duration retention = Duration.ofSeconds(Long.parseLong((String) task.get(3)));
                RedisKeys.allOf(taskId).forEach(key -> ops.expire(key, retention));
            }
            return Optional.of(new Completion(next));
        });
        Optional<TaskStatus> finished = completion.map(Completion::finished);
        if (finished.isPresent()) {
            redis.opsForZSet().remove(RedisKeys.RUNNING_TASKS, taskId);
        }
        return finished;
    }

    /** A committed shard completion; {@code finished} is the task's final status when it was the last shard. */
    private record Completion(TaskStatus finished) {
    }
}
