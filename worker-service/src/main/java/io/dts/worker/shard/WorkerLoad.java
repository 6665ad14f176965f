package io.dts.worker.shard;

import java.util.List;
import java.util.Map;
import java.util.Set;

import io.dts.model.WorkerHeartbeat;

/** How busy this worker is right now, as its heartbeat reports it to the schedulers. */
public interface WorkerLoad {

    /** Threads running an item now. */
    int busyThreads();

    /** Tasks with a shard running on this worker now. */
    Set<String> runningTasks();

    /** Items running on this worker now, by task. */
    Map<String, Integer> runningItems();

    /** What each busy slot runs now. */
    List<WorkerHeartbeat.Slot> slots();
}
