package io.dts.redis;

import java.util.List;

/**
 * Every Redis key of the system, built in one place. All keys of one task share the hash tag
 * {@code {taskId}}, so they live in one Redis Cluster slot and MULTI/EXEC stays valid there.
 */
public final class RedisKeys {

    /** Sorted set of task ids scored by creation time, for listing recent tasks. */
    public static final String RECENT_TASKS = "tasks:recent";
    /** Sorted set of accepted task ids not yet sharded, scored by creation time; swept by schedulers. */
    public static final String PENDING_TASKS = "tasks:pending";
    /** Sorted set of sharded, unfinished task ids scored by when they were sharded; watched by the reconciler. */
    public static final String RUNNING_TASKS = "tasks:running";
    /**
     * Sorted set of the shard runs whose unclaimed items an idle worker may take ({@link #splits}), as
     * {@code <taskId>/<round>/<shardIndex>}, highest priority first, then oldest. A member whose split is gone is
     * removed by the first worker that finds it so.
     */
    public static final String SPLITS_OPEN = "tasks:splits-open";
    /** Sorted set of worker ids scored by their last heartbeat (epoch ms). */
    public static final String WORKERS = "workers";

    private RedisKeys() {
    }

    /** Hash: the task's fields (status, command, counts, timestamps). */
    public static String task(String taskId) {
        return "task:{" + taskId + "}";
    }

    /** List: the input items, in order; index i is item i. */
    public static String items(String taskId) {
        return task(taskId) + ":items";
    }

    /**
     * List with TTL: the items of a large task on their way into Redis, renamed to {@link #items} by the
     * transaction that saves the task; {@code upload} tells two requests for one task id apart.
     */
    public static String itemsUpload(String taskId, String upload) {
        return task(taskId) + ":items-upload:" + upload;
    }

    /** Hash: item index to {@link io.dts.model.ItemResult} JSON. Its size is the number of finished items. */
    public static String results(String taskId) {
        return task(taskId) + ":results";
    }

    /** Bitmap: bit i set once item i has a recorded result, read by a redelivered shard to skip it. */
    public static String recorded(String taskId) {
        return task(taskId) + ":recorded";
    }

    /** Set: indices of items whose recorded result is a failure. */
    public static String failed(String taskId) {
        return task(taskId) + ":failed";
    }

    /** Set: indices of shards whose every item is recorded. */
    public static String shardsDone(String taskId) {
        return task(taskId) + ":shards-done";
    }

    /** Set of the indices of the items recorded as skipped because the task halted (a subset of {@link #failed}). */
    public static String skipped(String taskId) {
        return task(taskId) + ":skipped";
    }

    /** Set of the indices of the items that failed for good, counted as they fail, against the task's halt rule. */
    public static String haltFailures(String taskId) {
        return task(taskId) + ":halt-failures";
    }

    /**
     * Hash: one field {@code <round>/<shardIndex>/<instanceId>/<nonce>} per run of a shard in progress, the end
     * of its lease in epoch ms. A worker process adds the field before it runs the shard, unless a live run of
     * the shard holds it (a worker that takes items of a live run's split adds one beside it: {@link #splits}),
     * renews the lease while the run goes, and removes the field however the run ends. A
     * field left behind by an instance that is no longer alive ({@link #workerInstance}) is a worker that died
     * running the shard, and a shard that enough workers died running is quarantined; one whose lease ran out
     * while its instance lives is a removal that failed, and holds nothing.
     */
    public static String deliveries(String taskId) {
        return task(taskId) + ":deliveries";
    }

    /**
     * Hash: the split of each shard run that lets idle workers take part of it (work stealing), fields
     * {@code <round>/<shardIndex>/} followed by {@code owner} (the run's {@link #deliveries} field), {@code claimed}
     * (the end of the items the owner claimed), {@code end} (the end of the items left to it; idle workers take
     * from there down), {@code slots} (the owner's), {@code shard} and {@code signature} (the shard as the owner got it, signed, for a thief to
     * check). Written by the owner when its run starts, removed when it ends.
     */
    public static String splits(String taskId) {
        return task(taskId) + ":splits";
    }

    /**
     * Sorted set: one member per item of a task with a {@code maxParallel} running now anywhere, scored by the end of
     * its lease (Redis's time, epoch ms). A slot adds one before the item starts unless the set holds
     * {@code maxParallel} live members, renews it while the item runs and removes it when the item ends; a dead
     * worker's members run out.
     */
    public static String runningItems(String taskId) {
        return task(taskId) + ":running";
    }

    /**
     * Sorted set: the owner's tasks not finished yet, scored by when they were accepted; checked against
     * {@code scheduler.owner-limits.unfinished-tasks} at each submit. A task leaves it when it finishes (and one
     * left behind by a step that failed half-way is dropped when the owner is at the limit).
     */
    public static String ownerUnfinished(String owner) {
        return "tasks:unfinished:" + owner;
    }

    /** Sorted set: the owner's items running now anywhere, as {@link #runningItems} is a task's; for {@code scheduler.owner-limits.running-items}. */
    public static String ownerRunningItems(String owner) {
        return "tasks:running-items:" + owner;
    }

    /** Every key of one task, to expire them together when it finishes. */
    public static List<String> allOf(String taskId) {
        return List.of(task(taskId), items(taskId), results(taskId), recorded(taskId), failed(taskId), shardsDone(taskId),
                deliveries(taskId), skipped(taskId), haltFailures(taskId), runningItems(taskId), splits(taskId));
    }

    /** String with TTL: the latest {@link io.dts.model.WorkerHeartbeat} JSON of one worker; gone when it dies. */
    public static String worker(String workerId) {
        return "worker:" + workerId;
    }

    /**
     * String with TTL, refreshed with the heartbeat: the worker id of one worker process, by the random id
     * it took at start-up (worker ids repeat across restarts, instance ids never); gone when it dies.
     */
    public static String workerInstance(String instanceId) {
        return "worker-instance:" + instanceId;
    }

    /** String with TTL: held by the one scheduler that sweeps pending tasks right now. */
    public static String lock(String name) {
        return "lock:" + name;
    }

    /**
     * String: the task id that an owner's Idempotency-Key was first used for, and the request's fingerprint.
     * Each owner has keys of its own; a key holds no space, so the last space ends the owner.
     */
    public static String idempotencyKey(String owner, String key) {
        return "idempotency:" + owner + " " + key;
    }

}
