package io.dts.scheduler.task.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.dts.model.TaskShard;
import io.dts.model.WorkerHeartbeat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Turns an accepted task into shards: counts the live workers, splits the items into one range per
 * worker, marks the task {@code INPROGRESS} (one scheduler wins that race) and sends each shard to
 * the Kafka partition its worker consumes. Safe to call again for the same task.
 */
@Component
public class TaskDispatcher {

    private static final Logger log = LoggerFactory.getLogger(TaskDispatcher.class);
    private static final long SHARD_PUBLISH_TIMEOUT_SECONDS = 30;

    private final TaskStore store;
    private final WorkerDirectory workers;
    private final TaskPublisher publisher;

    public TaskDispatcher(TaskStore store, WorkerDirectory workers, TaskPublisher publisher) {
        this.store = store;
        this.workers = workers;
        this.publisher = publisher;
    }

    public void dispatch(String taskId) {
        Task task = store.find(taskId).orElse(null);
        if (task == null) {
            log.warn("Task {} is not in Redis; nothing to shard", taskId);
            return;
        }
        if (!task.status().awaitsSharding()) {
            log.debug("Task {} is already {}; not sharding again", taskId, task.status());
            return;
        }
        List<WorkerHeartbeat> live = workers.liveWorkers();
        if (live.isEmpty()) {
            log.info("Task {} waits: no live worker", taskId);
            store.markWaiting(taskId, "no live worker; the task is sharded as soon as one sends a heartbeat");
            return;
        }
        List<ShardPlanner.Range> plan = ShardPlanner.plan(task.itemsTotal(), live.size());
        if (!store.startSharding(taskId, plan.size())) {
            log.debug("Task {} was sharded by another scheduler", taskId);
            return;
        }
        List<CompletableFuture<Void>> sends = new ArrayList<>(plan.size());
        for (int i = 0; i < plan.size(); i++) {
            ShardPlanner.Range range = plan.get(i);
            TaskShard shard = new TaskShard(taskId, i, plan.size(), range.start(), range.end(), task.command(),
                    task.withoutItems(), task.timeoutSeconds(), task.maxRetries(), task.round());
            sends.add(publisher.publishShard(shard, partitionOf(live.get(i))));
        }
        try {
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(SHARD_PUBLISH_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            log.info("Task {} sharded into {} shards over {} live workers", taskId, plan.size(), live.size());
        } catch (Exception e) {
            log.error("Task {}: not every shard could be published: {}", taskId, e.getMessage());
        }
    }

    /** The worker's first shard-topic partition, or {@code null} (spread by key) when it reported none. */
    private static Integer partitionOf(WorkerHeartbeat worker) {
        return worker.partitions() == null || worker.partitions().isEmpty() ? null : worker.partitions().get(0);
    }
}
