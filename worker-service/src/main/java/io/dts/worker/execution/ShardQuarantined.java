package io.dts.worker.execution;

import io.dts.model.TaskShard;

/**
 * A shard that {@code worker.max-shard-deliveries} workers died running: its unrecorded items are
 * recorded as failed and the shard is marked done; it goes to the dead letter topic instead of to the
 * next worker.
 */
public class ShardQuarantined extends RuntimeException {

    public ShardQuarantined(TaskShard shard, int deaths) {
        super("Task " + shard.taskId() + " shard " + shard.shardIndex() + " quarantined: " + deaths + " workers died running it");
    }
}
