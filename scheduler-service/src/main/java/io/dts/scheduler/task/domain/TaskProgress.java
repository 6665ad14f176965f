package io.dts.scheduler.task.domain;

/** How far a task has got: its items, the shards of its current round, which round that is, and its publish attempts. */
public record TaskProgress(
        int chunksToExecute,
        int chunksExecuted,
        long itemsSucceeded,
        long itemsFailed,
        int attempts,
        int round) {
}
