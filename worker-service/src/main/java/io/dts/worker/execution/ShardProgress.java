package io.dts.worker.execution;

import java.util.BitSet;
import java.util.List;
import java.util.Optional;

import io.dts.model.ItemResult;
import io.dts.model.TaskStatus;

/** Where a worker reads a shard's items and records its progress (Redis). Every write is idempotent. */
public interface ShardProgress {

    /** The task's status, or empty when the task is gone. */
    Optional<TaskStatus> status(String taskId);

    /** Items {@code [from, to)} of the task, in order. */
    List<String> items(String taskId, long from, long to);

    /** Which items of {@code [from, to)} already have a recorded result; bit {@code i} stands for item {@code from + i}. */
    BitSet recorded(String taskId, long from, long to);

    /** Counts one more delivery of the shard and returns the count, this one included. */
    long countDelivery(String taskId, int shardIndex, int round);

    /** Takes back a delivery counted by {@link #countDelivery}: the shard was handed back, not died on. */
    void uncountDelivery(String taskId, int shardIndex, int round);

    /** Records item results; recording the same item again overwrites it and counts it once. */
    void record(String taskId, List<ItemResult> results);

    /**
     * Marks the shard done, once, and finishes the task when it was the last one of the current
     * round; a shard of an earlier round changes nothing.
     *
     * @return the task's new terminal status when this call finished it
     */
    Optional<TaskStatus> completeShard(String taskId, int shardIndex, int round);
}
