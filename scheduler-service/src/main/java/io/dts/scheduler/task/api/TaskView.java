package io.dts.scheduler.task.api;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.dts.model.TaskStatus;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.task.domain.TaskDefinition;
import io.dts.scheduler.task.domain.TaskProgress;
import io.dts.scheduler.task.domain.TaskSummary;
import io.dts.scheduler.task.domain.TaskTimes;
import io.dts.scheduler.worker.WorkerDirectory;

/**
 * A task as the API shows it, with its {@code owner} (who submitted it). {@code waitingReason},
 * {@code lastError}, {@code halt} (its rule, as GNU Parallel words it), {@code halted} and {@code haltReason}
 * appear only when set; a listing shows summaries, without {@code templateFunction}, {@code command}
 * and the limits. {@code itemsFailed} leaves out the {@code itemsSkipped} (never run because the task halted).
 * {@code itemsRunning} is summed over the live workers' last heartbeats (a task's own view and its live events).
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
        Long itemsRunning,
        int attempts,
        Long timeoutSeconds,
        Integer maxRetries,
        Integer priority,
        Integer maxParallel,
        Instant createdAt,
        Instant updatedAt,
        Instant finishedAt,
        String waitingReason,
        String lastError,
        String halt,
        Boolean halted,
        String haltReason) {

    /** The task, with how many of its items the live workers run now, and why more do not. */
    public static TaskView of(Task task, WorkerDirectory workers) {
        if (task.status().isTerminal()) {
            return of(task, 0, null);
        }
        long running = workers.itemsRunning(task.id());
        return of(task, running, waitingReason(task, running, workers));
    }

    /** A task just accepted: nothing runs yet. */
    static TaskView accepted(Task task) {
        return of(task, 0, task.waitingReason());
    }

    /**
     * The task's own reason (no live worker), else, while it runs and has items waiting, why they wait: its
     * {@code maxParallel}, its owner's running-items limit, or every slot of the cluster busy with items that take
     * their turn first.
     */
    private static String waitingReason(Task task, long running, WorkerDirectory workers) {
        if (task.waitingReason() != null || task.status() != TaskStatus.INPROGRESS) {
            return task.waitingReason();
        }
        TaskDefinition definition = task.definition();
        if (pending(definition.itemsTotal(), task.progress()) <= running) {
            return null;
        }
        if (definition.maxParallel() != null && running >= definition.maxParallel()) {
            return "maxParallel: " + definition.maxParallel() + " of its items run at once, the most it allows";
        }
        Integer ownerLimit = definition.ownerRunningLimit();
        if (ownerLimit != null && ownerRunning(definition.owner(), workers) >= ownerLimit) {
            return "owner limit: " + definition.owner() + " runs " + ownerLimit + " items at once, the most an owner may (scheduler.owner-limits.running-items)";
        }
        boolean everySlotBusy = workers.liveWorkers().stream().allMatch(worker -> worker.busyThreads() >= worker.threads());
        return running == 0 && everySlotBusy
                ? "every slot runs items that take their turn first (a higher priority, or an owner with fewer items running)"
                : null;
    }

    private static long ownerRunning(String owner, WorkerDirectory workers) {
        return workers.liveWorkers().stream().filter(worker -> worker.slots() != null).flatMap(worker -> worker.slots().stream())
                .filter(slot -> slot.owner().equals(owner)).count();
    }

    private static TaskView of(Task task, long itemsRunning, String waitingReason) {
        TaskDefinition definition = task.definition();
        TaskProgress progress = task.progress();
        TaskTimes times = task.times();
        return new TaskView(task.id(), task.status(), definition.owner(), definition.templateFunction(), definition.command(),
                progress.chunksToExecute(), progress.chunksExecuted(), definition.itemsTotal(), progress.itemsSucceeded(),
                progress.itemsFailed(), progress.itemsSkipped(), pending(definition.itemsTotal(), progress), itemsRunning, progress.attempts(),
                definition.timeoutSeconds(), definition.maxRetries(), definition.priority(), definition.maxParallel(),
                times.createdAt(), times.updatedAt(), times.finishedAt(), waitingReason, task.lastError(),
                definition.halt() == null ? null : definition.halt().rule(), task.haltReason() == null ? null : true, task.haltReason());
    }

    static TaskView of(TaskSummary task) {
        TaskProgress progress = task.progress();
        TaskTimes times = task.times();
        return new TaskView(task.id(), task.status(), task.owner(), null, null,
                progress.chunksToExecute(), progress.chunksExecuted(), task.itemsTotal(), progress.itemsSucceeded(), progress.itemsFailed(),
                progress.itemsSkipped(), pending(task.itemsTotal(), progress), null, progress.attempts(), null, null, null, null,
                times.createdAt(), times.updatedAt(), times.finishedAt(), null, null, null, null, null);
    }

    private static long pending(long itemsTotal, TaskProgress progress) {
        return itemsTotal - progress.itemsSucceeded() - progress.itemsFailed() - progress.itemsSkipped();
    }
}
