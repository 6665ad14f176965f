package io.dts.model;

import java.util.List;

/**
 * What a live worker publishes about itself every heartbeat interval.
 *
 * @param partitions   the shard-topic partitions this worker consumes, so a scheduler can address it
 * @param runningTasks tasks with a shard running here now, so a stalled task is not re-dispatched while alive
 */
public record WorkerHeartbeat(
        String id,
        String host,
        long pid,
        int threads,
        int busyThreads,
        long startedAt,
        long lastHeartbeat,
        List<Integer> partitions,
        List<String> runningTasks) {
}
