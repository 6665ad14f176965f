package io.dts.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One worker's share of a task: the item indices {@code [startIndex, endIndex)}. The items themselves
 * stay in Redis, so a shard of a million items still fits in one small Kafka record.
 *
 * @param command        the rendered bash command ({{item}} still in place, quoted per item by the worker)
 * @param withoutItems   the task had no inputList: run the command once with no argument
 * @param timeoutSeconds per-item time limit; {@code null} when the task sets none: the worker's {@code worker.default-timeout}
 * @param maxRetries     extra attempts for an item that fails or times out
 * @param round          which sharding of the task this shard belongs to (retry-failed starts a new
 *                       round), so a late shard of an earlier round is never counted in this one
 * @param halt           when to stop the task early; {@code null} for never
 */
public record TaskShard(
        String taskId,
        int shardIndex,
        int shardCount,
        long startIndex,
        long endIndex,
        String command,
        boolean withoutItems,
        // Left out when none: a worker of an earlier version reads the absent field as its 0 for none.
        @JsonInclude(JsonInclude.Include.NON_NULL) Long timeoutSeconds,
        int maxRetries,
        int round,
        ShardHalt halt) {

    public TaskShard {
        // A scheduler of an earlier version sends 0 for none: read as the none of this one.
        if (timeoutSeconds != null && timeoutSeconds <= 0) {
            timeoutSeconds = null;
        }
    }

    public long size() {
        return endIndex - startIndex;
    }
}
