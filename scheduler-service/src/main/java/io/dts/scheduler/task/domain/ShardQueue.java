package io.dts.scheduler.task.domain;

import java.util.Collection;

import io.dts.model.ShardPlacement;

/**
 * The shards the workers have yet to finish from the shard topic (Kafka). A shard record is waiting while
 * it is still in the topic and the workers' consumer group has not committed past it. Workers commit a
 * shard's offset once the shard is done and every earlier record of its partition too, and Kafka hands
 * an uncommitted shard to another worker when its worker dies, so a waiting shard is slow (behind a
 * backlog), not lost.
 */
public interface ShardQueue {

    /** A view for one sweep: read from Kafka at its first question, and reused for the next ones. */
    View view();

    interface View {

        /**
         * Whether any of these shard records still waits; false for none, and when Kafka cannot tell
         * (the reconciler then does what it did before it could ask).
         */
        boolean anyWaiting(Collection<ShardPlacement> shards);
    }
}
