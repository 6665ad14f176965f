package io.dts.worker.redis;

import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;

import io.dts.model.ItemResult;
import io.dts.model.ShardHalt;
import io.dts.model.TaskStatus;

/** Where a worker reads a shard's items and records its progress (Redis). Every write is idempotent. */
public interface ShardProgress {

    /** The task's status, or empty when the task is gone. */
    Optional<TaskStatus> status(String taskId);

    /**
     * Where a shard stands before it runs, in one read: the task's status and current round, whether
     * the shard is done, and how many runs of it (of round {@code round}) ended with their worker process.
     *
     * @return empty when the task is gone
     */
    Optional<ShardState> state(String taskId, int shardIndex, int round);

    /**
     * @param status       the task's status
     * @param round        the task's current round; 0 when it has none
     * @param done         the shard is in the task's done set
     * @param deadHolders  runs of this shard and round still registered (by {@link #hold}, or by {@link ShardSplits#steal}) whose worker
     *                     process is no longer alive: workers that died (or lost Redis for good) running it
     * @param liveHolders  runs of this shard and round registered (as above) whose worker process is
     *                     alive and whose lease has not run out: a run that still goes, here or on another worker
     * @param scheduling   how the task's items take their turns on the workers' slots
     */
    record ShardState(TaskStatus status, int round, boolean done, int deadHolders, int liveHolders, Scheduling scheduling) {
    }

    /**
     * @param owner       who submitted the task; fair share is between owners
     * @param priority    0-9, higher first
     * @param maxParallel items of the task that may run at once in the cluster; {@code null} for no cap
     * @param ownerRunningLimit items of the owner that may run at once in the cluster; {@code null} for no limit
     */
    record Scheduling(String owner, int priority, Integer maxParallel, Integer ownerRunningLimit) {

        /** A task saved by an earlier version: no owner, priority 0, no cap. */
        public static final Scheduling DEFAULT = new Scheduling("", 0, null, null);
    }

    /**
     * Registers a run of the shard by the worker process {@code instanceId}, with a lease of {@code lease} (Redis's
     * time), unless a live run of the shard and round holds it: check and registration are one step. The
     * registration outlives the process if it dies before {@link #release}; one whose lease runs out while its
     * process lives holds nothing and is dropped.
     *
     * @return the registration, to give to {@link #renew} and {@link #release}; empty when a live run holds the shard
     */
    Optional<String> hold(String taskId, int shardIndex, int round, String instanceId, Duration lease);

    /**
     * Extends a registration's lease by {@code lease} from now.
     *
     * @return false when it is not registered any more or its lease ran out: another run may hold the shard now
     */
    boolean renew(String taskId, String holder, Duration lease);

    /** Removes a registration made by {@link #hold}: the run ended without its process dying. */
    void release(String taskId, String holder);

    /**
     * Items {@code [from, to)} of the task, in order (none when {@code withItems} is false, for a task
     * without inputList), with which of them already have a recorded result: one read.
     */
    Chunk chunk(String taskId, long from, long to, boolean withItems);

    /**
     * @param from     the index of the chunk's first item in the task
     * @param items    the items, in order; a {@code null} item stands for "no item"
     * @param recorded bit {@code i} set when item {@code from + i} has a recorded result
     */
    record Chunk(long from, List<String> items, BitSet recorded) {
    }

    /** Which items of {@code [from, to)} already have a recorded result; bit {@code i} stands for item {@code from + i}. */
    BitSet recorded(String taskId, long from, long to);

    /** Records item results; recording the same item again overwrites it and counts it once. */
    void record(String taskId, List<ItemResult> results);

    /**
     * Marks the shard done, once, and finishes the task when it was the last one of the current
     * round; a shard of an earlier round changes nothing.
     *
     * @return the task's new terminal status when this call finished it
     */
    Optional<TaskStatus> completeShard(String taskId, int shardIndex, int round);

    /**
     * Counts an item that failed for good against the task's halt rule; see TaskLifecycle.
     *
     * @return true when the task is halted
     */
    boolean countHaltFailure(String taskId, long itemIndex, ShardHalt halt);

    /** True once the task halted in its current round. */
    boolean halted(String taskId);
}
