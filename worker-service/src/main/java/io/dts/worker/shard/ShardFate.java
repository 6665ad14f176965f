package io.dts.worker.shard;

/** What became of a shard this worker was given: {@link ShardListener} acts on it before the offset is committed. */
public enum ShardFate {
    /** Done and recorded, skipped (stale, done elsewhere, its task over) or stopped by a cancel: nothing more to do. */
    FINISHED,
    /** Stopped before its end (the worker is stopping, or its run lost the lease): back on the topic for another worker. */
    HANDED_BACK,
    /** {@code worker.max-shard-deliveries} workers died running it: its unrecorded items are failed, the shard goes to the dead letter topic. */
    QUARANTINED
}
