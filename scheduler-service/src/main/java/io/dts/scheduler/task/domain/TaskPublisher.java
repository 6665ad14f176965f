package io.dts.scheduler.task.domain;

import java.util.concurrent.CompletableFuture;

import io.dts.model.ShardPlacement;
import io.dts.model.TaskShard;
import io.dts.model.TaskSubmitted;

/** Sends tasks and shards to the message broker (Kafka). */
public interface TaskPublisher {

    CompletableFuture<Void> publishTask(TaskSubmitted task);

    /** Sends a shard to a partition of the worker that is to run it; completes with where Kafka put it. */
    CompletableFuture<ShardPlacement> publishShard(TaskShard shard, int partition);
}
