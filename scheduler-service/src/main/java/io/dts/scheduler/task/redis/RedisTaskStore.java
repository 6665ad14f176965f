package io.dts.scheduler.task.redis;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import io.dts.model.ShardPlacement;
import io.dts.model.TaskStatus;
import io.dts.redis.RedisKeys;
import io.dts.redis.RedisTransactions;
import io.dts.redis.TaskHash;
import io.dts.redis.TaskLifecycle;
import io.dts.redis.TaskRedis;
import io.dts.scheduler.task.domain.NewTask;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.task.domain.TaskDefinition;
import io.dts.scheduler.task.domain.TaskPage;
import io.dts.scheduler.task.domain.TaskStore;
import io.dts.scheduler.task.domain.TaskSummary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.stereotype.Repository;

/**
 * {@link TaskStore} on Redis; the key layout is in {@link RedisKeys}, the task hash's fields in {@link TaskHash}. A task's own keys are reached
 * through {@link TaskRedis} (one hash slot, transactions allowed), the indexes shared by all tasks
 * through the application's template. Every change of a task's status, and every index write, is
 * the {@link TaskLifecycle}'s (see {@link RedisTaskStates}).
 */
@Repository
public class RedisTaskStore implements TaskStore {

    private static final Logger log = LoggerFactory.getLogger(RedisTaskStore.class);

    /** Items per RPUSH when saving a task, to keep each command a reasonable size. */
    private static final int PUSH_CHUNK = 10_000;
    /**
     * RPUSHes per round trip when a task's items are uploaded ahead of its transaction: a task with more
     * than one chunk of items would otherwise hold every item twice more (as bytes, then as queued
     * commands) until EXEC.
     */
    private static final int UPLOAD_WINDOW = 10;
    /** How long an upload outlives a scheduler that died writing it; refreshed by every window. */
    private static final Duration UPLOAD_TTL = Duration.ofHours(1);

    private final TaskRedis tasks;
    private final TaskLifecycle lifecycle;
    private final Clock clock;
    private final RedisTaskListing listing;

    public RedisTaskStore(TaskRedis tasks, TaskLifecycle lifecycle, StringRedisTemplate redis, Clock clock) {
        this.tasks = tasks;
        this.lifecycle = lifecycle;
        this.clock = clock;
        this.listing = new RedisTaskListing(tasks, redis);
    }

    @Override
    public void create(NewTask task) {
        lifecycle.admit(task.id(), task.createdAt().toEpochMilli(), false);
        // One round trip for the task's own keys: the transaction is pipelined.
        saveWithItems(task, upload -> tasks.forTask(task.id()).executePipelined(new SessionCallback<Object>() {
            @Override
            @SuppressWarnings("unchecked")
            public <K, V> Object execute(RedisOperations<K, V> operations) {
                RedisOperations<String, String> ops = (RedisOperations<String, String>) operations;
                ops.multi();
                writeTask(ops, task, upload);
                ops.exec();
                return null;
            }
        }));
    }

    @Override
    public Optional<String> createUnlessExists(NewTask task) {
        String key = RedisKeys.task(task.id());
        // Only if new: an index entry of a task that exists already keeps its place.
        lifecycle.admit(task.id(), task.createdAt().toEpochMilli(), true);
        AtomicReference<String> existing = new AtomicReference<>();
        saveWithItems(task, upload -> RedisTransactions.watchAndUpdate(tasks.forTask(task.id()), List.of(key), ops -> {
            if (Boolean.TRUE.equals(ops.hasKey(key))) {
                existing.set(Optional.ofNullable(TaskHash.FINGERPRINT.read(ops, task.id())).orElse(""));
                return Optional.empty();
            }
            existing.set(null);
            ops.multi();
            writeTask(ops, task, upload);
            return Optional.of(Boolean.TRUE);
        }));
        return Optional.ofNullable(existing.get());
    }

    /**
     * Runs {@code save}, the task's transaction, with the key its items were uploaded to, or {@code null}
     * when they fit in the transaction (one chunk or less). A larger task's items go to a key of their own
     * first, a window of chunks per round trip, for the transaction to rename: it stays all or nothing,
     * while the scheduler holds one window of commands at a time. Whatever is left of the upload after the
     * save (a refused or failed one) is deleted, and expires if the scheduler dies first.
     */
    private void saveWithItems(NewTask task, Consumer<String> save) {
        List<String> items = task.items();
        // Another request for the same client-chosen id may be uploading too: each upload has a key of its own.
        String upload = items.size() <= PUSH_CHUNK ? null : RedisKeys.itemsUpload(task.id(), UUID.randomUUID().toString());
        try {
            for (int window = 0; upload != null && window < items.size(); window += PUSH_CHUNK * UPLOAD_WINDOW) {
                int from = window;
                int to = Math.min(items.size(), window + PUSH_CHUNK * UPLOAD_WINDOW);
                tasks.forTask(task.id()).executePipelined(new SessionCallback<Object>() {
                    @Override
                    @SuppressWarnings("unchecked")
                    public <K, V> Object execute(RedisOperations<K, V> operations) {
                        RedisOperations<String, String> ops = (RedisOperations<String, String>) operations;
                        pushItems(ops, upload, items, from, to);
                        ops.expire(upload, UPLOAD_TTL);
                        return null;
                    }
                });
            }
            save.accept(upload);
        } finally {
            discardUpload(task.id(), upload);
        }
    }

    /** After the transaction the upload was renamed; after a failure it is deleted, or left to expire if Redis is away. */
    private void discardUpload(String taskId, String upload) {
        if (upload == null) {
            return;
        }
        try {
            tasks.forTask(taskId).delete(upload);
        } catch (RuntimeException e) {
            log.warn("Could not delete the upload {} (it expires in {}): {}", upload, UPLOAD_TTL, e.getMessage());
        }
    }

    private static void pushItems(RedisOperations<String, String> ops, String key, List<String> items, int from, int to) {
        for (int chunk = from; chunk < to; chunk += PUSH_CHUNK) {
            ops.opsForList().rightPushAll(key, items.subList(chunk, Math.min(to, chunk + PUSH_CHUNK)));
        }
    }

    /** Queues the writes of a new task's hash and items (inside a transaction), the items from {@code upload} when not null. */
    private static void writeTask(RedisOperations<String, String> ops, NewTask task, String upload) {
        Map<String, String> hash = new HashMap<>();
        TaskHash.ID.put(hash, task.id());
        TaskHash.STATUS.put(hash, TaskStatus.QUEUED);
        TaskHash.OWNER.put(hash, task.owner());
        TaskHash.TEMPLATE.put(hash, task.templateFunction());
        TaskHash.COMMAND.put(hash, task.command());
        TaskHash.ITEMS_TOTAL.put(hash, task.itemsTotal());
        TaskHash.WITHOUT_ITEMS.put(hash, task.withoutItems());
        TaskHash.CHUNKS_TO_EXECUTE.put(hash, 0);
        TaskHash.ATTEMPTS.put(hash, 0);
        TaskHash.TIMEOUT_SECONDS.put(hash, task.timeoutSeconds());
        TaskHash.MAX_RETRIES.put(hash, task.maxRetries());
        TaskHash.PRIORITY.put(hash, task.priority());
        TaskHash.MAX_PARALLEL.put(hash, task.maxParallel());
        TaskHash.OWNER_RUNNING_LIMIT.put(hash, task.ownerRunningLimit() > 0 ? task.ownerRunningLimit() : null);
        TaskHash.ROUND.put(hash, 1);
        TaskHash.RETENTION.put(hash, task.retention());
        TaskHash.CREATED_AT.put(hash, task.createdAt());
        TaskHash.UPDATED_AT.put(hash, task.createdAt());
        TaskHash.FINGERPRINT.put(hash, task.fingerprint());
        TaskHash.putHalt(hash, task.halt());
        // HSET, not HMSET: a transaction body must queue a command with a reply (see RedisTransactions).
        hash.forEach((field, value) -> ops.opsForHash().put(RedisKeys.task(task.id()), field, value));
        if (upload == null) {
            pushItems(ops, RedisKeys.items(task.id()), task.items(), 0, task.items().size());
        } else {
            ops.rename(upload, RedisKeys.items(task.id()));
            ops.persist(RedisKeys.items(task.id()));
        }
    }

    @Override
    public Optional<Task> find(String taskId) {
        List<Object> replies = tasks.forTask(taskId).executePipelined(new SessionCallback<Object>() {
            @Override
            @SuppressWarnings("unchecked")
            public <K, V> Object execute(RedisOperations<K, V> operations) {
                RedisOperations<String, String> ops = (RedisOperations<String, String>) operations;
                ops.opsForHash().entries(RedisKeys.task(taskId));
                TaskReads.queueCounts(ops, taskId);
                return null;
            }
        });
        Map<?, ?> hash = (Map<?, ?>) replies.get(0);
        TaskStatus status = TaskHash.STATUS.from(hash);
        if (status == null) { // none, or a stray field written after it expired
            return Optional.empty();
        }
        TaskDefinition definition = new TaskDefinition(
                TaskHash.OWNER.from(hash),
                TaskHash.TEMPLATE.from(hash),
                TaskHash.COMMAND.from(hash),
                TaskHash.ITEMS_TOTAL.from(hash),
                TaskHash.WITHOUT_ITEMS.from(hash),
                TaskHash.TIMEOUT_SECONDS.from(hash),
                TaskHash.MAX_RETRIES.from(hash),
                TaskHash.halt(hash),
                Optional.ofNullable(TaskHash.PRIORITY.from(hash)).orElse(0),
                TaskHash.MAX_PARALLEL.from(hash),
                TaskHash.OWNER_RUNNING_LIMIT.from(hash));
        return Optional.of(new Task(TaskHash.ID.from(hash), status, definition,
                TaskReads.progress(hash, replies.subList(1, 1 + TaskReads.COUNTS)), TaskReads.times(hash),
                TaskHash.WAITING_REASON.from(hash), TaskHash.LAST_ERROR.from(hash), TaskHash.SHARDS_PUBLISHED.from(hash),
                Optional.ofNullable(TaskHash.SHARD_PLACEMENTS.from(hash)).orElse(Map.of()),
                Boolean.TRUE.equals(TaskHash.HALTED.from(hash)) ? TaskHash.HALT_REASON.from(hash) : null));
    }

    @Override
    public TaskPage recent(TaskStatus status, String owner, int limit, String cursor) {
        return listing.recent(status, owner, limit, cursor);
    }

    @Override
    public List<TaskSummary> summaries(List<String> taskIds) {
        return listing.summaries(taskIds);
    }

    @Override
    public void markShardsPublished(String taskId, Map<Integer, ShardPlacement> placements) {
        Map<String, String> hash = new HashMap<>();
        TaskHash.SHARDS_PUBLISHED.put(hash, clock.instant());
        TaskHash.SHARD_PLACEMENTS.put(hash, placements);
        tasks.forTask(taskId).opsForHash().putAll(RedisKeys.task(taskId), hash);
    }

    @Override
    public Set<Integer> doneShards(String taskId) {
        Set<String> members = tasks.forTask(taskId).opsForSet().members(RedisKeys.shardsDone(taskId));
        return members == null ? Set.of() : members.stream().map(Integer::valueOf).collect(Collectors.toSet());
    }
}
