package io.dts.worker.shard;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.dts.model.WorkerHeartbeat;
import org.springframework.stereotype.Component;

/**
 * What this worker runs right now and what of it must stop: shards per task, threads busy with an
 * item, tasks cancelled while their shards run, and the drain of a stopping worker.
 */
@Component
public class RunningWork implements WorkerLoad {

    /** Changed only inside the map's per-key atomic updates, so a shard starting as another of its task ends is not lost. */
    private final Map<String, Integer> shardsPerTask = new ConcurrentHashMap<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    private final AtomicInteger busyThreads = new AtomicInteger();
    private final Map<String, Integer> itemsPerTask = new ConcurrentHashMap<>();
    /** The item each busy slot runs, by the slot's thread. */
    private final Map<Thread, WorkerHeartbeat.Slot> slots = new ConcurrentHashMap<>();
    /** Set when the worker stops: running items finish and are recorded, no new item starts. */
    private volatile boolean draining;
    /** Set when the drain kills the items still running: their outcomes are the kill's, not the items'. */
    private volatile boolean itemsKilled;

    @Override
    public Set<String> runningTasks() {
        return Set.copyOf(shardsPerTask.keySet());
    }

    @Override
    public Map<String, Integer> runningItems() {
        return Map.copyOf(itemsPerTask);
    }

    @Override
    public List<WorkerHeartbeat.Slot> slots() {
        return List.copyOf(slots.values());
    }

    @Override
    public int busyThreads() {
        return busyThreads.get();
    }

    void shardStarted(String taskId) {
        shardsPerTask.merge(taskId, 1, Integer::sum);
    }

    /** When the task's last shard here ends the task is forgotten, its cancel too: only running tasks are kept. */
    void shardEnded(String taskId) {
        shardsPerTask.computeIfPresent(taskId, (id, count) -> {
            if (count > 1) {
                return count - 1;
            }
            cancelled.remove(id);
            return null;
        });
    }

    /** Called on the slot's thread, as is {@link #itemEnded}. */
    void itemStarted(String taskId, String owner, long itemIndex, long now) {
        busyThreads.incrementAndGet();
        itemsPerTask.merge(taskId, 1, Integer::sum);
        slots.put(Thread.currentThread(), new WorkerHeartbeat.Slot(taskId, owner, itemIndex, now));
    }

    void itemEnded(String taskId) {
        slots.remove(Thread.currentThread());
        busyThreads.decrementAndGet();
        itemsPerTask.computeIfPresent(taskId, (id, count) -> count > 1 ? count - 1 : null);
    }

    /** @return true when the task has a shard running here and was not cancelled yet: its processes are to be killed */
    boolean cancel(String taskId) {
        AtomicBoolean first = new AtomicBoolean();
        // Under the task's entry, so that a cancel cannot outlive the task's last shard ending at the same time.
        shardsPerTask.computeIfPresent(taskId, (id, count) -> {
            first.set(cancelled.add(id));
            return count;
        });
        return first.get();
    }

    boolean cancelled(String taskId) {
        return cancelled.contains(taskId);
    }

    void drain() {
        draining = true;
    }

    boolean draining() {
        return draining;
    }

    /** Called before the drain kills the items still running, so that none of their outcomes is recorded. */
    void itemsKilled() {
        itemsKilled = true;
    }

    /** No new item of the task is to start here. */
    boolean stopping(String taskId) {
        return draining || cancelled.contains(taskId);
    }

    /** The task's running items were killed here (a cancel, or a drain past its timeout): their outcomes are not theirs. */
    boolean killed(String taskId) {
        return cancelled.contains(taskId) || itemsKilled;
    }
}
