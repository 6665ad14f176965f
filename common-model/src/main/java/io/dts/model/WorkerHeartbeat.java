package io.dts.model;

import java.util.List;
import java.util.Map;

/**
 * What a live worker publishes about itself every heartbeat interval.
 *
 * @param instanceId   random id of this worker process, new at each start (the id may be reused by a restart)
 * @param partitions   the shard-topic partitions this worker consumes, so a scheduler can address it
 * @param runningTasks tasks with a shard running here now, so a stalled task is not re-dispatched while alive
 * @param runningItems items running here now, by task (a task's live progress sums them over the workers)
 * @param slots        what each busy slot (a thread running an item) runs now; absent from a worker of an earlier version
 */
public record WorkerHeartbeat(
        String id,
        String instanceId,
        String host,
        long pid,
        int threads,
        int busyThreads,
        long startedAt,
        long lastHeartbeat,
        List<Integer> partitions,
        List<String> runningTasks,
        Map<String, Integer> runningItems,
        List<Slot> slots) {

    /** A busy slot: the item it runs, whose task it is ({@code ""} for a task saved without an owner), and since when (epoch ms). */
    public record Slot(String taskId, String owner, long itemIndex, long since) {
    }
}
