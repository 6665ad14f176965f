package io.dts.scheduler.task.domain;

import java.util.concurrent.CompletableFuture;

import io.dts.model.TaskShard;
import io.dts.model.TaskSubmitted;

/** Sends tasks and shards to the message broker (Kafka). */
public interface TaskPublisher {

    CompletableFuture<Void> publishTask(TaskSubmitted task);

    /**
     * Sends a shard; {@code partition} addresses one worker, {@code null} spreads shards by key.
     */
    CompletableFuture<Void> publishShard(TaskShard shard, Integer partition);
}
