package io.dts.scheduler.task.api;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.dts.model.TaskStatus;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.task.domain.TaskDefinition;
import io.dts.scheduler.task.domain.TaskProgress;
import io.dts.scheduler.task.domain.TaskSummary;
import io.dts.scheduler.task.domain.TaskTimes;

/**
 * A task as the API shows it, with its {@code owner} (who submitted it). {@code waitingReason},
 * {@code lastError}, {@code halt} (its rule, as GNU Parallel words it), {@code halted} and {@code haltReason}
 * appear only when set; a listing shows summaries, without {@code templateFunction}, {@code command}
 * and the limits. {@code itemsFailed} leaves out the {@code itemsSkipped} (never run because the task halted).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TaskView(
        String id,
        TaskStatus status,
        String owner,
        String templateFunction,
        String command,
        int chunksToExecute,
        int chunksExecuted,
        long itemsTotal,
        long itemsSucceeded,
        long itemsFailed,
        long itemsSkipped,
        long itemsPending,
        int attempts,
        Long timeoutSeconds,
        Integer maxRetries,
        Instant createdAt,
        Instant updatedAt,
        Instant finishedAt,
        String waitingReason,
        String lastError,
        String halt,
        Boolean halted,
        String haltReason) {

    public static TaskView of(Task task) {
        TaskDefinition definition = task.definition();
        TaskProgress progress = task.progress();
        TaskTimes times = task.times();
        return new TaskView(task.id(), task.status(), definition.owner(), definition.templateFunction(), definition.command(),
                progress.chunksToExecute(), progress.chunksExecuted(), definition.itemsTotal(), progress.itemsSucceeded(),
                progress.itemsFailed(), progress.itemsSkipped(), pending(definition.itemsTotal(), progress), progress.attempts(),
                definition.timeoutSeconds(), definition.maxRetries(),
                times.createdAt(), times.updatedAt(), times.finishedAt(), task.waitingReason(), task.lastError(),
                definition.halt() == null ? null : definition.halt().rule(), task.haltReason() == null ? null : true, task.haltReason());
    }

    static TaskView of(TaskSummary task) {
        TaskProgress progress = task.progress();
        TaskTimes times = task.times();
        return new TaskView(task.id(), task.status(), task.owner(), null, null,
                progress.chunksToExecute(), progress.chunksExecuted(), task.itemsTotal(), progress.itemsSucceeded(), progress.itemsFailed(),
                progress.itemsSkipped(), pending(task.itemsTotal(), progress), progress.attempts(), null, null,
                times.createdAt(), times.updatedAt(), times.finishedAt(), null, null, null, null, null);
    }

    private static long pending(long itemsTotal, TaskProgress progress) {
        return itemsTotal - progress.itemsSucceeded() - progress.itemsFailed() - progress.itemsSkipped();
    }
}
