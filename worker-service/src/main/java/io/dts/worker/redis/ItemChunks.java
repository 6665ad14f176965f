package io.dts.worker.redis;

import java.util.Collections;

import io.dts.model.TaskShard;
import io.dts.worker.redis.ShardProgress.Chunk;
import org.springframework.stereotype.Component;

/** Reads a shard's items from Redis a chunk at a time, with which of them already have a recorded result. */
@Component
public class ItemChunks {

    /** Items read from Redis per round trip. */
    public static final int SIZE = 512;
    /** Recorded bits read per round trip when only the count matters. */
    private static final int BITS = SIZE * 64;

    private final ShardProgress progress;
    private final PatientRedis redis;

    public ItemChunks(ShardProgress progress, PatientRedis redis) {
        this.progress = progress;
        this.redis = redis;
    }

    /** Items {@code [from, from + SIZE)} of the shard, cut at its end. */
    public Chunk read(TaskShard shard, long from) {
        long to = Math.min(shard.endIndex(), from + SIZE);
        Chunk chunk = redis.call(() -> progress.chunk(shard.taskId(), from, to, !shard.withoutItems()));
        // A task without inputList has no items list: its one item is "no item".
        return shard.withoutItems() ? new Chunk(from, Collections.singletonList(null), chunk.recorded()) : chunk;
    }

    /** Whether every item of the shard has a recorded result. */
    public boolean allRecorded(TaskShard shard) {
        for (long from = shard.startIndex(); from < shard.endIndex(); from += BITS) {
            long first = from;
            long to = Math.min(shard.endIndex(), from + BITS);
            if (redis.call(() -> progress.recorded(shard.taskId(), first, to)).cardinality() != to - first) {
                return false;
            }
        }
        return true;
    }
}
