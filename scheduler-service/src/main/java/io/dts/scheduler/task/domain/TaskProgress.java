package io.dts.scheduler.task.domain;

/**
 * How far a task has got: its items, the shards of its current round, which round that is, and its publish attempts.
 *
 * @param itemsFailed  items that failed, the skipped ones not included
 * @param itemsSkipped items a halt rule kept from running (they count as failed for retry-failed)
 */
public record TaskProgress(
        int chunksToExecute,
        int chunksExecuted,
        long itemsSucceeded,
        long itemsFailed,
        long itemsSkipped,
        int attempts,
        int round) {
}
