package io.dts.worker.execution;

import io.dts.model.TaskShard;

/** A shard this worker stopped before its end because it is shutting down; another worker must finish it. */
public class ShardHandedBack extends RuntimeException {

    public ShardHandedBack(TaskShard shard) {
        super("Task " + shard.taskId() + " shard " + shard.shardIndex() + " handed back: the worker is stopping");
    }
}
