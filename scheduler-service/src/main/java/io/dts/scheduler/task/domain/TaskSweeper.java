package io.dts.scheduler.task.domain;

import java.util.UUID;

import io.dts.scheduler.config.SchedulerProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Makes sure no task is stranded: shards accepted tasks that the Kafka path has not (no live worker
 * yet, a scheduler that died before publishing, a publish that kept failing), and reconciles running
 * tasks whose shards were not all published or that stalled. One scheduler of the cluster sweeps at a
 * time, under a Redis lock.
 */
@Component
public class TaskSweeper {

    private static final Logger log = LoggerFactory.getLogger(TaskSweeper.class);
    private static final int BATCH = 100;

    private final TaskStore store;
    private final TaskDispatcher dispatcher;
    private final SchedulerProperties properties;
    private final String owner = UUID.randomUUID().toString();

    public TaskSweeper(TaskStore store, TaskDispatcher dispatcher, SchedulerProperties properties) {
        this.store = store;
        this.dispatcher = dispatcher;
        this.properties = properties;
    }

    @Scheduled(fixedDelayString = "${scheduler.sweep-interval}", initialDelayString = "${scheduler.sweep-interval}")
    public void sweep() {
        try {
            if (!store.tryLock("task-sweeper", owner, properties.sweepInterval())) {
                return;
            }
            for (String taskId : store.pendingOlderThan(properties.sweepGrace(), BATCH)) {
                dispatcher.dispatch(taskId);
            }
            for (String taskId : store.runningTasks(BATCH)) {
                dispatcher.reconcile(taskId, properties.sweepGrace(), properties.stallTimeout());
            }
            store.forgetFinishedBefore(properties.retention());
        } catch (RuntimeException e) {
            log.warn("Task sweep skipped: {}", e.getMessage());
        }
    }
}
