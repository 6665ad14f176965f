package io.dts.scheduler.task.domain;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a task's item indices into contiguous ranges, sizes differing by at most one: {@code scheduler.shards-per-worker}
 * per live worker, which the dispatcher deals round robin, so that with several a run of slow items next to each other
 * (inputs sorted by size) is spread over the workers instead of landing on one.
 */
public final class ShardPlanner {

    private ShardPlanner() {
    }

    /** Item range {@code [start, end)} of one shard. */
    public record Range(long start, long end) {
    }

    /**
     * @param itemsTotal items of the task (at least 1)
     * @param maxShards  shards wanted (at least 1)
     * @return {@code min(itemsTotal, maxShards)} ranges covering every index exactly once, in order
     */
    public static List<Range> plan(long itemsTotal, int maxShards) {
        if (itemsTotal < 1 || maxShards < 1) {
            throw new IllegalArgumentException("need at least one item and one shard, got " + itemsTotal + " and " + maxShards);
        }
        int shards = (int) Math.min(itemsTotal, maxShards);
        long base = itemsTotal / shards;
        long remainder = itemsTotal % shards;
        List<Range> ranges = new ArrayList<>(shards);
        long start = 0;
        for (int i = 0; i < shards; i++) {
            long size = base + (i < remainder ? 1 : 0);
            ranges.add(new Range(start, start + size));
            start += size;
        }
        return ranges;
    }
}
