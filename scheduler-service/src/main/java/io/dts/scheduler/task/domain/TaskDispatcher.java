package io.dts.scheduler.task.domain;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.dts.model.ShardPlacement;
import io.dts.model.TaskShard;
import io.dts.model.TaskStatus;
import io.dts.model.WorkerHeartbeat;
import io.dts.scheduler.config.SchedulerProperties;
import io.dts.scheduler.worker.WorkerDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Turns an accepted task into shards: counts the live workers that hold shard partitions, splits the
 * items into one range per worker, marks the task {@code INPROGRESS} (one scheduler wins that race) and sends each shard to
 * the Kafka partition its worker consumes. Also publishes again the unfinished shards of a task whose
 * shards never all reached Kafka, or that stalled with no live worker running it. Both are safe to
 * repeat: workers skip items already recorded and shards already done, and count each shard once.
 * A listed task in another state than its index says has its indexes repaired.
 */
@Component
public class TaskDispatcher {

    private static final Logger log = LoggerFactory.getLogger(TaskDispatcher.class);

    private final TaskStore store;
    private final TaskStates states;
    private final WorkerDirectory workers;
    private final TaskPublisher publisher;
    private final Duration publishTimeout;
    private final int shardsPerWorker;
    private final Clock clock;
    /** Whose turn it is to take a task's first shard. */
    private final AtomicInteger firstWorker = new AtomicInteger();

    public TaskDispatcher(TaskStore store, TaskStates states, WorkerDirectory workers, TaskPublisher publisher, SchedulerProperties properties, Clock clock) {
        this.store = store;
        this.states = states;
        this.workers = workers;
        this.publisher = publisher;
        this.publishTimeout = properties.shardPublishTimeout();
        this.shardsPerWorker = properties.shardsPerWorker();
        this.clock = clock;
    }

    public void dispatch(String taskId) {
        Task task = store.find(taskId).orElse(null);
        if (task == null || !task.status().awaitsSharding()) {
            // Gone (its save failed half-way), or listed as pending by a step that failed after: fix the indexes.
            log.debug("Task {} is {}; not sharding it", taskId, task == null ? "not in Redis" : task.status());
            states.repair(taskId);
            return;
        }
        List<WorkerHeartbeat> live = workers.liveWorkers();
        List<WorkerHeartbeat> takers = holdingPartitions(live);
        if (takers.isEmpty()) {
            String reason = live.isEmpty() ? "no live worker; the task is sharded as soon as one sends a heartbeat"
                    : "no live worker holds a shard partition yet (Kafka is still assigning them); the task is sharded as soon as one does";
            log.info("Task {} waits: {}", taskId, reason);
            states.markWaiting(taskId, reason);
            return;
        }
        int shards = ShardPlanner.plan(task.definition().itemsTotal(), takers.size() * shardsPerWorker).size();
        if (!states.startSharding(taskId, shards)) {
            log.debug("Task {} was sharded by another scheduler", taskId);
            return;
        }
        publishShards(task, shards, Set.of(), takers);
        log.info("Task {} sharded into {} shards over {} live workers", taskId, shards, takers.size());
    }

    /**
     * Publishes again the unfinished shards of a running task when they never all reached Kafka, or
     * when for {@code stallTimeout} the task made no progress and was not published again, no live
     * worker is running it, and none of its shards still waits in {@code queue} (a shard behind a
     * backlog is slow, not lost: republishing it only made the backlog longer). A republish counts as
     * activity, so it happens at most once per {@code stallTimeout}, not at every sweep.
     */
    public void reconcile(String taskId, Duration publishGrace, Duration stallTimeout, ShardQueue.View queue) {
        Task task = store.find(taskId).orElse(null);
        if (task == null || task.status() != TaskStatus.INPROGRESS) {
            // Finished while its removal from the running index failed, or gone: fix the indexes.
            states.repair(taskId);
            return;
        }
        Duration idle = Duration.between(task.times().updatedAt(), clock.instant());
        Instant published = task.shardsPublishedAt();
        Instant lastActivity = published == null || published.isBefore(task.times().updatedAt()) ? task.times().updatedAt() : published;
        List<WorkerHeartbeat> live = workers.liveWorkers();
        boolean unpublished = published == null && idle.compareTo(publishGrace) > 0;
        boolean stalled = Duration.between(lastActivity, clock.instant()).compareTo(stallTimeout) > 0
                && live.stream().noneMatch(w -> w.runningTasks() != null && w.runningTasks().contains(taskId));
        List<WorkerHeartbeat> takers = holdingPartitions(live);
        if (takers.isEmpty() || !(unpublished || stalled)) {
            return;
        }
        Set<Integer> done = store.doneShards(taskId);
        int shards = task.progress().chunksToExecute();
        if (done.size() >= shards) {
            return; // its last shard was done after the task was read: it is finishing, not stalled
        }
        // Only the unfinished shards count: a done one may wait in Kafka's order behind others, and must not hide a lost one.
        List<ShardPlacement> unfinished = task.shardPlacements().entrySet().stream().filter(shard -> !done.contains(shard.getKey()))
                .map(Map.Entry::getValue).toList();
        if (queue.anyWaiting(unfinished)) {
            log.debug("Task {}: no progress for {} s, but its shards still wait in Kafka for a worker; not published again",
                    taskId, idle.toSeconds());
            return;
        }
        log.warn("Task {}: publishing its {} unfinished shards again ({})", taskId, shards - done.size(),
                unpublished ? "not all were published" : "no progress for " + idle.toSeconds() + " s and no live worker runs it");
        publishShards(task, shards, done, takers);
    }

    /**
     * The live workers a task is split over: those Kafka has given shard partitions. A worker beats as soon as it
     * starts, before the group assigns it any; split over it then, its shard went to no partition of its own and
     * ran on another worker.
     */
    private static List<WorkerHeartbeat> holdingPartitions(List<WorkerHeartbeat> live) {
        return live.stream().filter(worker -> worker.partitions() != null && !worker.partitions().isEmpty()).toList();
    }

    private void publishShards(Task task, int shards, Set<Integer> skip, List<WorkerHeartbeat> takers) {
        TaskDefinition definition = task.definition();
        List<ShardPlanner.Range> plan = ShardPlanner.plan(definition.itemsTotal(), shards);
        // Shard i goes to worker (first + i), first taking turns: tasks of fewer shards than workers (one-item
        // tasks) spread over all workers instead of all going to the first one.
        int first = Math.floorMod(firstWorker.getAndIncrement(), takers.size());
        Map<Integer, CompletableFuture<ShardPlacement>> sends = new HashMap<>();
        for (int i = 0; i < plan.size(); i++) {
            if (skip.contains(i)) {
                continue;
            }
            ShardPlanner.Range range = plan.get(i);
            TaskShard shard = new TaskShard(task.id(), i, plan.size(), range.start(), range.end(), definition.command(),
                    definition.withoutItems(), definition.timeoutSeconds(), definition.maxRetries(), task.progress().round(), definition.halt());
            sends.put(i, publisher.publishShard(shard, takers.get((first + i) % takers.size()).partitions().get(0)));
        }
        try {
            CompletableFuture.allOf(sends.values().toArray(CompletableFuture[]::new)).get(publishTimeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<Integer, ShardPlacement> placements = new HashMap<>();
            sends.forEach((index, sent) -> placements.put(index, sent.join()));
            store.markShardsPublished(task.id(), placements);
        } catch (Exception e) {
            log.error("Task {}: not every shard could be published ({}); the sweeper will publish them again", task.id(), e.getMessage());
        }
    }
}
