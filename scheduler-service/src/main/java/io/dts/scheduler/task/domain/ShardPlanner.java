package io.dts.scheduler.task.domain;

import java.util.ArrayList;
import java.util.List;

/** Splits a task's item indices into contiguous ranges, one per live worker, sizes differing by at most one. */
public final class ShardPlanner {

    private ShardPlanner() {
    }

    /** Item range {@code [start, end)} of one shard. */
    public record Range(long start, long end) {
    }

    /**
     * @param itemsTotal items of the task (at least 1)
     * @param workers    live workers (at least 1)
     * @return {@code min(itemsTotal, workers)} ranges covering every index exactly once, in order
     */
    public static List<Range> plan(long itemsTotal, int workers) {
        if (itemsTotal < 1 || workers < 1) {
            throw new IllegalArgumentException("need at least one item and one worker, got " + itemsTotal + " and " + workers);
        }
        int shards = (int) Math.min(itemsTotal, workers);
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
