package io.dts.scheduler.task.domain;

import java.util.UUID;

import io.dts.scheduler.config.SchedulerProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Shards accepted tasks that the Kafka path has not: tasks that waited for a live worker, and tasks
 * whose scheduler died or whose publish kept failing. One scheduler of the cluster sweeps at a time,
 * under a Redis lock.
 */
@Component
public class PendingTaskSweeper {

    private static final Logger log = LoggerFactory.getLogger(PendingTaskSweeper.class);
    private static final int BATCH = 100;

    private final TaskStore store;
    private final TaskDispatcher dispatcher;
    private final SchedulerProperties properties;
    private final String owner = UUID.randomUUID().toString();

    public PendingTaskSweeper(TaskStore store, TaskDispatcher dispatcher, SchedulerProperties properties) {
        this.store = store;
        this.dispatcher = dispatcher;
        this.properties = properties;
    }

    @Scheduled(fixedDelayString = "${scheduler.sweep-interval}", initialDelayString = "${scheduler.sweep-interval}")
    public void sweep() {
        try {
            if (!store.tryLock("pending-sweeper", owner, properties.sweepInterval())) {
                return;
            }
            for (String taskId : store.pendingOlderThan(properties.sweepGrace(), BATCH)) {
                dispatcher.dispatch(taskId);
            }
            store.forgetFinishedBefore(properties.retention());
        } catch (RuntimeException e) {
            log.warn("Pending-task sweep skipped: {}", e.getMessage());
        }
    }
}
