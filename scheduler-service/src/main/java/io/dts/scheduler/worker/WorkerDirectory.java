package io.dts.scheduler.worker;

import java.util.List;

import io.dts.model.WorkerHeartbeat;

/** The workers whose heartbeat is recent, as every scheduler sees them (Redis). */
public interface WorkerDirectory {

    /** Live workers ordered by id. */
    List<WorkerHeartbeat> liveWorkers();

    /** Items of the task running now, summed over the live workers' last heartbeats. */
    default long itemsRunning(String taskId) {
        return liveWorkers().stream()
                .mapToLong(worker -> worker.runningItems() == null ? 0 : worker.runningItems().getOrDefault(taskId, 0))
                .sum();
    }
}
