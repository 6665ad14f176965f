package io.dts.scheduler.task.domain;

import java.time.Instant;
import java.util.Map;

import io.dts.model.ShardPlacement;
import io.dts.model.TaskStatus;

/**
 * A task as the scheduler knows it: its definition, status and progress counts. The counts are read
 * from the task's Redis sets, never kept as counters, so a redelivered update cannot inflate them.
 *
 * @param shardsPublishedAt when its shards last all reached Kafka; {@code null} until they have
 * @param shardPlacements where they went then, by shard index (empty when not known)
 * @param haltReason why the task halted early (its halt rule and the counts); {@code null} unless it halted
 */
public record Task(
        String id,
        TaskStatus status,
        TaskDefinition definition,
        TaskProgress progress,
        TaskTimes times,
        String waitingReason,
        String lastError,
        Instant shardsPublishedAt,
        Map<Integer, ShardPlacement> shardPlacements,
        String haltReason) {

    /** The task as it was just saved, before anything happened to it. */
    static Task queued(NewTask task) {
        TaskDefinition definition = new TaskDefinition(task.owner(), task.templateFunction(), task.command(), task.itemsTotal(), task.withoutItems(),
                task.timeoutSeconds(), task.maxRetries(), task.halt(), task.priority(), task.maxParallel(),
                task.ownerRunningLimit() > 0 ? task.ownerRunningLimit() : null);
        return new Task(task.id(), TaskStatus.QUEUED, definition, new TaskProgress(0, 0, 0, 0, 0, 0, 1),
                new TaskTimes(task.createdAt(), task.createdAt(), null), null, null, null, Map.of(), null);
    }
}
