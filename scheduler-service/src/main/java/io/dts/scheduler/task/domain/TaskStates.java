package io.dts.scheduler.task.domain;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.dts.model.TaskStatus;

/**
 * Where a task's status lives, and the indexes that find tasks by it: every status change goes
 * through here, guarded by the transition table ({@link TaskStatus#canMoveTo}).
 */
public interface TaskStates {

    /**
     * Moves the task to {@code next} if the transition table allows it from its current status.
     *
     * @param error recorded as the task's last error when not {@code null}
     * @return whether the task moved
     */
    boolean transition(String taskId, TaskStatus next, int attempts, String error);

    /** Moves an unsharded task to {@code INPROGRESS} with its shard count; false if another scheduler did it first. */
    boolean startSharding(String taskId, int shardCount);

    /**
     * Forgets the failed results of a FAILED task and queues it again in a new sharding round, so
     * only those items run again.
     *
     * @return false when the task is not FAILED (any more)
     */
    boolean reopenFailed(String taskId);

    /**
     * Makes the indexes agree with the task's status (drops an entry whose task is gone or in another
     * state, adds a missing one).
     *
     * @return the task's status, or empty when there is no task behind the id (its save failed half-way)
     */
    Optional<TaskStatus> repair(String taskId);

    /** Says, visibly on the task, why an accepted task is not sharded yet, and has it swept again soon. */
    void markWaiting(String taskId, String reason);

    /**
     * Accepted tasks not yet sharded that no scheduler has worked on (created, retried a publish) for
     * {@code age}, and tasks waiting for a worker; oldest first.
     */
    List<String> pendingOlderThan(Duration age, int limit);

    /** Sharded tasks that have not finished, longest running first. */
    List<String> runningTasks(int limit);

    /** Drops tasks older than {@code age} from the recent-tasks index (their keys expire on their own). */
    void forgetFinishedBefore(Duration age);
}
