package io.dts.scheduler.task.api;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.dts.model.TaskStatus;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.task.domain.TaskSummary;

/**
 * A task as the API shows it. {@code waitingReason} and {@code lastError} appear only when set; a
 * listing shows summaries, without {@code templateFunction}, {@code command} and the limits.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TaskView(
        String id,
        TaskStatus status,
        String templateFunction,
        String command,
        int chunksToExecute,
        int chunksExecuted,
        long itemsTotal,
        long itemsSucceeded,
        long itemsFailed,
        long itemsPending,
        int attempts,
        Long timeoutSeconds,
        Integer maxRetries,
        Instant createdAt,
        Instant updatedAt,
        Instant finishedAt,
        String waitingReason,
        String lastError) {

    static TaskView of(Task task) {
        return new TaskView(task.id(), task.status(), task.templateFunction(), task.command(),
                task.chunksToExecute(), task.chunksExecuted(), task.itemsTotal(), task.itemsSucceeded(), task.itemsFailed(),
                task.itemsTotal() - task.itemsSucceeded() - task.itemsFailed(), task.attempts(),
                task.timeoutSeconds() == 0 ? null : task.timeoutSeconds(), task.maxRetries(),
                task.createdAt(), task.updatedAt(), task.finishedAt(), task.waitingReason(), task.lastError());
    }

    static TaskView of(TaskSummary task) {
        return new TaskView(task.id(), task.status(), null, null,
                task.chunksToExecute(), task.chunksExecuted(), task.itemsTotal(), task.itemsSucceeded(), task.itemsFailed(),
                task.itemsTotal() - task.itemsSucceeded() - task.itemsFailed(), task.attempts(), null, null,
                task.createdAt(), task.updatedAt(), task.finishedAt(), null, null);
    }
}
