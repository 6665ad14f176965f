package io.dts.scheduler.task.domain;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.dts.model.ShardPlacement;
import io.dts.model.TaskStatus;

/** Where tasks and their items are kept (Redis). Their status is {@link TaskStates}'s, their results {@link TaskResults}'. */
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

    /**
     * Newest first, from {@code cursor} ({@code null} for the newest); {@code status} and {@code owner} may
     * each be {@code null} for any. One call looks at a bounded number of tasks whatever their total, so a
     * filtered page may hold fewer than {@code limit}, with a cursor to go on from.
     */
    TaskPage recent(TaskStatus status, String owner, int limit, String cursor);

    /** The summaries of those of the tasks that exist, in the order given, read in batches. */
    List<TaskSummary> summaries(List<String> taskIds);

    /** Indices of the shards of the current round that are done. */
    Set<Integer> doneShards(String taskId);

    /** Records that every shard of the task's current round is on Kafka, and where the ones just sent went, by shard index. */
    void markShardsPublished(String taskId, Map<Integer, ShardPlacement> placements);
}
