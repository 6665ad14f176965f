package io.dts.scheduler.worker;

import java.util.List;

import io.dts.model.WorkerHeartbeat;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** Lists the live workers, as every scheduler sees them in Redis. */
@RestController
public class WorkerController {

    private final WorkerDirectory workers;

    public WorkerController(WorkerDirectory workers) {
        this.workers = workers;
    }

    @GetMapping("/api/workers")
    public List<WorkerHeartbeat> live() {
        return workers.liveWorkers();
    }
}
