package io.dts.scheduler.task.domain;

import java.time.Instant;

import io.dts.model.TaskStatus;

/**
 * A task as the scheduler knows it: its definition, status and progress counts. The counts are read
 * from the task's Redis sets, never kept as counters, so a redelivered update cannot inflate them.
 */
public record Task(
        String id,
        TaskStatus status,
        String templateFunction,
        String command,
        long itemsTotal,
        boolean withoutItems,
        int chunksToExecute,
        int chunksExecuted,
        long itemsSucceeded,
        long itemsFailed,
        int attempts,
        long timeoutSeconds,
        int maxRetries,
        int round,
        Instant createdAt,
        Instant updatedAt,
        Instant finishedAt,
        String waitingReason,
        String lastError,
        boolean shardsPublished) {

    /** The task as it was just saved, before anything happened to it. */
    static Task queued(NewTask task) {
        return new Task(task.id(), TaskStatus.QUEUED, task.templateFunction(), task.command(), task.itemsTotal(), task.withoutItems(),
                0, 0, 0, 0, 0, task.timeoutSeconds(), task.maxRetries(), 1, task.createdAt(), task.createdAt(), null, null, null, false);
    }
}
