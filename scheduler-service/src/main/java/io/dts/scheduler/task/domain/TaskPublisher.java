package io.dts.scheduler.task.domain;

import java.util.concurrent.CompletableFuture;

import io.dts.model.TaskShard;
import io.dts.model.TaskSubmitted;

/** Sends tasks and shards to the message broker (Kafka). */
public interface TaskPublisher {

    CompletableFuture<Void> publishTask(TaskSubmitted task);

    /**
     * Sends a shard; {@code partition} addresses one worker, {@code null} spreads shards by key. Completes
     * with where Kafka put it.
     */
    CompletableFuture<ShardPlacement> publishShard(TaskShard shard, Integer partition);

    /** A shard record's place on the shard topic. */
    record ShardPlacement(int partition, long offset) {
    }
}
