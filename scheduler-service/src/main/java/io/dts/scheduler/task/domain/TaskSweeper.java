package io.dts.scheduler.task.domain;

import java.util.UUID;

import io.dts.scheduler.config.SchedulerProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Makes sure no task is stranded: shards accepted tasks that the Kafka path has not (no live worker
 * yet, a scheduler that died before publishing, a publish that kept failing), reconciles running
 * tasks whose shards were not all published or that stalled (Kafka is asked once a sweep, and only when
 * a task looks stalled, which shards still wait there), and repairs index entries that disagree with
 * their task's status. One scheduler of the cluster sweeps at a time, under a Redis lock: the
 * sweep renews its lease before each task (one task may wait up to 3 s for that look at Kafka, then
 * {@code shard-publish-timeout} for its publish: less than the lease), stops when the lock was lost, and gives it back when done; the lock of a
 * scheduler that died frees itself when its lease ends.
 */
@Component
public class TaskSweeper {

    private static final Logger log = LoggerFactory.getLogger(TaskSweeper.class);
    private static final String LOCK = "task-sweeper";

    private final TaskStates states;
    private final ClusterLock lock;
    private final TaskDispatcher dispatcher;
    private final ShardQueue shardQueue;
    private final SchedulerProperties properties;
    private final String owner = UUID.randomUUID().toString();

    public TaskSweeper(TaskStates states, ClusterLock lock, TaskDispatcher dispatcher, ShardQueue shardQueue, SchedulerProperties properties) {
        this.states = states;
        this.lock = lock;
        this.dispatcher = dispatcher;
        this.shardQueue = shardQueue;
        this.properties = properties;
    }

    @Scheduled(fixedDelayString = "${scheduler.sweep-interval}", initialDelayString = "${scheduler.sweep-interval}")
    public void sweep() {
        try {
            if (!lock.tryLock(LOCK, owner, properties.sweepLease())) {
                return;
            }
        } catch (RuntimeException e) {
            log.warn("Task sweep skipped: {}", e.getMessage());
            return;
        }
        try {
            for (String taskId : states.pendingOlderThan(properties.sweepGrace(), properties.sweepBatch())) {
                if (!lock.renew(LOCK, owner, properties.sweepLease())) {
                    return;
                }
                dispatcher.dispatch(taskId);
            }
            ShardQueue.View queue = shardQueue.view();
            for (String taskId : states.runningTasks(properties.sweepBatch())) {
                if (!lock.renew(LOCK, owner, properties.sweepLease())) {
                    return;
                }
                dispatcher.reconcile(taskId, properties.sweepGrace(), properties.stallTimeout(), queue);
            }
            states.forgetFinishedBefore(properties.retention());
        } catch (RuntimeException e) {
            log.warn("Task sweep stopped: {}", e.getMessage());
        } finally {
            try {
                lock.unlock(LOCK, owner);
            } catch (RuntimeException e) {
                log.warn("Task sweep lock not given back (it ends with its lease): {}", e.getMessage());
            }
        }
    }
}
