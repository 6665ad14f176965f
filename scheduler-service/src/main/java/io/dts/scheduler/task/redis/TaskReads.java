package io.dts.scheduler.task.redis;

import java.util.List;
import java.util.Map;

import io.dts.redis.RedisKeys;
import io.dts.redis.TaskHash;
import io.dts.scheduler.task.domain.TaskProgress;
import io.dts.scheduler.task.domain.TaskTimes;
import org.springframework.data.redis.core.RedisOperations;

/** How a task's progress and times are read, for one task or a page of them: its hash and the sizes of four of its keys. */
final class TaskReads {

    /** Replies {@link #queueCounts} queues per task. */
    static final int COUNTS = 4;

    private TaskReads() {
    }

    /** Its progress, from its hash and the sizes of its shards-done, results, failed and skipped keys, in that order. */
    static TaskProgress progress(Map<?, ?> hash, List<Object> counts) {
        long itemsDone = (Long) counts.get(1);
        long itemsFailed = (Long) counts.get(2);
        long itemsSkipped = (Long) counts.get(3);
        return new TaskProgress(TaskHash.CHUNKS_TO_EXECUTE.from(hash), ((Long) counts.get(0)).intValue(), itemsDone - itemsFailed,
                itemsFailed - itemsSkipped, itemsSkipped, TaskHash.ATTEMPTS.from(hash), TaskHash.ROUND.from(hash));
    }

    static TaskTimes times(Map<?, ?> hash) {
        return new TaskTimes(TaskHash.CREATED_AT.from(hash), TaskHash.UPDATED_AT.from(hash), TaskHash.FINISHED_AT.from(hash));
    }

    /** Queues the reads {@link #progress} counts, for one task. */
    static void queueCounts(RedisOperations<String, String> ops, String taskId) {
        ops.opsForSet().size(RedisKeys.shardsDone(taskId));
        ops.opsForHash().size(RedisKeys.results(taskId));
        ops.opsForSet().size(RedisKeys.failed(taskId));
        ops.opsForSet().size(RedisKeys.skipped(taskId));
    }
}
