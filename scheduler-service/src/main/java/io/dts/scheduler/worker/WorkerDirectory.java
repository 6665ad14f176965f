package io.dts.scheduler.worker;

import java.util.List;

import io.dts.model.WorkerHeartbeat;

/** The workers whose heartbeat is recent, as every scheduler sees them (Redis). */
public interface WorkerDirectory {

    /** Live workers ordered by id. */
    List<WorkerHeartbeat> liveWorkers();
}
