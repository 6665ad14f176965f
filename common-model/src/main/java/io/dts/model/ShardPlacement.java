package io.dts.model;

/** A shard record's place on the shard topic: where the scheduler published it. */
public record ShardPlacement(int partition, long offset) {
}
