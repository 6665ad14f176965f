package io.dts.scheduler.task.domain;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import io.dts.model.TaskStatus;

/** Where tasks, their items and their results are kept (Redis). */
public interface TaskStore {

    /**
     * Saves the task and all its items at once, as {@code QUEUED}: either all of the task is written
     * or none of it (an index entry may then point at nothing; see {@link #repair}).
     */
    void create(NewTask task);

    /**
     * As {@link #create}, unless a task with this id exists (a client chose the id): then nothing is
     * written to it and its fingerprint is returned ("" for a task saved without one).
     */
    Optional<String> createUnlessExists(NewTask task);

    Optional<Task> find(String taskId);

    /** Newest first; {@code status} may be {@code null} for any status, else only the latest 1,000 tasks are searched. */
    List<TaskSummary> recent(TaskStatus status, int limit);

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

    /** Drops tasks older than {@code age} from the recent-tasks index (their keys expire on their own). */
    void forgetFinishedBefore(Duration age);

    /** Records that every shard of the task's current round is on Kafka. */
    void markShardsPublished(String taskId);

    /** Sharded tasks that have not finished, longest running first. */
    List<String> runningTasks(int limit);

    /** Indices of the shards of the current round that are done. */
    Set<Integer> doneShards(String taskId);

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

    /**
     * Results of the items {@code [offset, offset + limit)} that have finished, in index order, stopping
     * once they hold {@code maxBytes} (at least one is returned).
     */
    ResultsPage results(String taskId, long offset, int limit, long maxBytes);

    /**
     * Claims an {@code Idempotency-Key} for a request, atomically, for {@code pending} (long enough to
     * save the task; a claim whose request died expires soon); returns the earlier claim when the key
     * was used before.
     */
    Optional<RequestClaim> claimIdempotencyKey(String key, RequestClaim claim, Duration pending);

    /** Keeps a claimed key for {@code retention}, once its task is saved. */
    void keepIdempotencyKey(String key, Duration retention);

    void releaseIdempotencyKey(String key);

    /** Takes a cluster-wide lock for at most {@code lease} if no one holds it. */
    boolean tryLock(String name, String owner, Duration lease);

    /** Gives the lock back, if {@code owner} still holds it. */
    void unlock(String name, String owner);

}
