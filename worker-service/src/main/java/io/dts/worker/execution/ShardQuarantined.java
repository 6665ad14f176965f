package io.dts.worker.execution;

import io.dts.model.TaskShard;

/**
 * A shard taken from Kafka more often than {@code worker.max-shard-deliveries}: each worker that ran
 * it died. Its unrecorded items are recorded as failed and the shard is marked done; it goes to the
 * dead letter topic instead of to the next worker.
 */
public class ShardQuarantined extends RuntimeException {

    public ShardQuarantined(TaskShard shard, long deliveries) {
        super("Task " + shard.taskId() + " shard " + shard.shardIndex() + " quarantined after " + deliveries + " deliveries");
    }
}
