package io.dts.scheduler.task.redis;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import io.dts.model.RedisKeys;
import io.dts.model.ShardHalt;
import io.dts.model.TaskHash;
import io.dts.model.TaskStatus;
import io.dts.redis.RedisTransactions;
import io.dts.redis.TaskLifecycle;
import io.dts.redis.TaskRedis;
import io.dts.scheduler.task.domain.NewTask;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.task.domain.TaskDefinition;
import io.dts.scheduler.task.domain.TaskPage;
import io.dts.scheduler.task.domain.TaskProgress;
import io.dts.scheduler.task.domain.TaskPublisher.ShardPlacement;
import io.dts.scheduler.task.domain.TaskStore;
import io.dts.scheduler.task.domain.TaskSummary;
import io.dts.scheduler.task.domain.TaskTimes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.ZSetOperations;
import org.springframework.stereotype.Repository;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link TaskStore} on Redis; the key layout is in {@link RedisKeys}. A task's own keys are reached
 * through {@link TaskRedis} (one hash slot, transactions allowed), the indexes shared by all tasks
 * through the application's template. Every change of a task's status, and every index write, is
 * the {@link TaskLifecycle}'s (see {@link RedisTaskStates}).
 */
@Repository
public class RedisTaskStore implements TaskStore {

    private static final Logger log = LoggerFactory.getLogger(RedisTaskStore.class);

    /** Most tasks one listing request looks at. */
    static final int RECENT_SCAN = 1_000;
    /** Tasks created in the same millisecond a page may have to step over. */
    private static final int RECENT_SAME_SCORE = 64;
    /** Tasks read per pipelined round trip when listing. */
    private static final int SUMMARY_BATCH = 200;
    private static final List<Object> SUMMARY_FIELDS = List.of(TaskHash.STATUS, TaskHash.ITEMS_TOTAL, TaskHash.CHUNKS_TO_EXECUTE,
            TaskHash.ATTEMPTS, TaskHash.ROUND, TaskHash.CREATED_AT, TaskHash.UPDATED_AT, TaskHash.FINISHED_AT, TaskHash.OWNER);
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
    private final StringRedisTemplate redis;
    private final JsonMapper json;
    private final Clock clock;

    public RedisTaskStore(TaskRedis tasks, TaskLifecycle lifecycle, StringRedisTemplate redis, JsonMapper json, Clock clock) {
        this.tasks = tasks;
        this.lifecycle = lifecycle;
        this.redis = redis;
        this.json = json;
        this.clock = clock;
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
                existing.set(Optional.ofNullable((String) ops.opsForHash().get(key, TaskHash.FINGERPRINT)).orElse(""));
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
        String now = String.valueOf(task.createdAt().toEpochMilli());
        Map<String, String> fields = new HashMap<>();
        fields.put(TaskHash.ID, task.id());
        fields.put(TaskHash.STATUS, TaskStatus.QUEUED.name());
        fields.put(TaskHash.OWNER, task.owner());
        fields.put(TaskHash.TEMPLATE, task.templateFunction());
        fields.put(TaskHash.COMMAND, task.command());
        fields.put(TaskHash.ITEMS_TOTAL, String.valueOf(task.itemsTotal()));
        fields.put(TaskHash.WITHOUT_ITEMS, String.valueOf(task.withoutItems()));
        fields.put(TaskHash.CHUNKS_TO_EXECUTE, "0");
        fields.put(TaskHash.ATTEMPTS, "0");
        fields.put(TaskHash.TIMEOUT_SECONDS, String.valueOf(task.timeoutSeconds()));
        fields.put(TaskHash.MAX_RETRIES, String.valueOf(task.maxRetries()));
        fields.put(TaskHash.ROUND, "1");
        fields.put(TaskHash.RETENTION_SECONDS, String.valueOf(task.retention().toSeconds()));
        fields.put(TaskHash.CREATED_AT, now);
        fields.put(TaskHash.UPDATED_AT, now);
        if (task.fingerprint() != null) {
            fields.put(TaskHash.FINGERPRINT, task.fingerprint());
        }
        if (task.halt() != null) {
            fields.put(TaskHash.HALT_RULE, task.halt().rule());
            fields.put(TaskHash.HALT_THRESHOLD, String.valueOf(task.halt().threshold()));
        }
        // HSET, not HMSET: a transaction body must queue a command with a reply (see RedisTransactions).
        fields.forEach((field, value) -> ops.opsForHash().put(RedisKeys.task(task.id()), field, value));
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
                ops.opsForSet().size(RedisKeys.shardsDone(taskId));
                ops.opsForHash().size(RedisKeys.results(taskId));
                ops.opsForSet().size(RedisKeys.failed(taskId));
                ops.opsForSet().size(RedisKeys.skipped(taskId));
                return null;
            }
        });
        @SuppressWarnings("unchecked")
        Map<String, String> hash = (Map<String, String>) replies.get(0);
        if (hash == null || hash.get(TaskHash.STATUS) == null) { // none, or a stray field written after it expired
            return Optional.empty();
        }
        long shardsDone = (Long) replies.get(1);
        long itemsDone = (Long) replies.get(2);
        long itemsFailed = (Long) replies.get(3);
        long itemsSkipped = (Long) replies.get(4);
        TaskDefinition definition = new TaskDefinition(
                hash.get(TaskHash.OWNER),
                hash.get(TaskHash.TEMPLATE),
                hash.get(TaskHash.COMMAND),
                Long.parseLong(hash.get(TaskHash.ITEMS_TOTAL)),
                Boolean.parseBoolean(hash.get(TaskHash.WITHOUT_ITEMS)),
                Long.parseLong(hash.get(TaskHash.TIMEOUT_SECONDS)),
                Integer.parseInt(hash.get(TaskHash.MAX_RETRIES)),
                halt(hash.get(TaskHash.HALT_RULE), hash.get(TaskHash.HALT_THRESHOLD)));
        TaskProgress progress = new TaskProgress(
                Integer.parseInt(hash.get(TaskHash.CHUNKS_TO_EXECUTE)),
                (int) shardsDone,
                itemsDone - itemsFailed,
                itemsFailed - itemsSkipped,
                itemsSkipped,
                Integer.parseInt(hash.get(TaskHash.ATTEMPTS)),
                Integer.parseInt(hash.get(TaskHash.ROUND)));
        TaskTimes times = new TaskTimes(
                instant(hash.get(TaskHash.CREATED_AT)),
                instant(hash.get(TaskHash.UPDATED_AT)),
                instant(hash.get(TaskHash.FINISHED_AT)));
        return Optional.of(new Task(hash.get(TaskHash.ID), TaskStatus.valueOf(hash.get(TaskHash.STATUS)), definition, progress, times,
                hash.get(TaskHash.WAITING_REASON), hash.get(TaskHash.LAST_ERROR), instant(hash.get(TaskHash.SHARDS_PUBLISHED)),
                shardPlacements(hash.get(TaskHash.SHARD_PLACEMENTS)), "1".equals(hash.get(TaskHash.HALTED)) ? hash.get(TaskHash.HALT_REASON) : null));
    }

    /** The rule as saved: its words ({@code now,fail=3}) and its threshold. */
    private static ShardHalt halt(String rule, String threshold) {
        return rule == null ? null : new ShardHalt(rule, Long.parseLong(threshold), rule.startsWith("now,"));
    }

    /** {@code shard:partition:offset,...} as {@link #markShardsPublished} wrote it; empty when absent. */
    private static Map<Integer, ShardPlacement> shardPlacements(String encoded) {
        if (encoded == null || encoded.isEmpty()) {
            return Map.of();
        }
        return Arrays.stream(encoded.split(",")).map(shard -> shard.split(":")).collect(Collectors.toUnmodifiableMap(
                shard -> Integer.valueOf(shard[0]), shard -> new ShardPlacement(Integer.parseInt(shard[1]), Long.parseLong(shard[2]))));
    }

    private static Instant instant(String epochMillis) {
        return epochMillis == null ? null : Instant.ofEpochMilli(Long.parseLong(epochMillis));
    }

    /**
     * Walks the recent-tasks index (score: creation time) from the cursor, {@code <score>:<id>} of the last
     * task looked at, a batch at a time, and stops once the page is full or {@link #RECENT_SCAN} tasks were
     * looked at: a page costs the same for 100 tasks or 100,000.
     */
    @Override
    public TaskPage recent(TaskStatus status, String owner, int limit, String cursor) {
        Position from = cursor == null ? null : Position.parse(cursor);
        List<TaskSummary> page = new ArrayList<>(limit);
        Position last = from;
        int scanned = 0;
        while (page.size() < limit && scanned < RECENT_SCAN) {
            List<Position> batch = after(last, Math.min(SUMMARY_BATCH, RECENT_SCAN - scanned));
            if (batch.isEmpty()) {
                return new TaskPage(page, null);
            }
            Map<String, TaskSummary> summaries = summaries(batch.stream().map(Position::id).toList()).stream()
                    .collect(Collectors.toMap(TaskSummary::id, summary -> summary));
            for (Position position : batch) {
                last = position;
                scanned++;
                TaskSummary summary = summaries.get(position.id());
                if (summary != null && (status == null || summary.status() == status) && (owner == null || owner.equals(summary.owner()))) {
                    page.add(summary);
                    if (page.size() == limit) {
                        break;
                    }
                }
            }
        }
        return new TaskPage(page, after(last, 1).isEmpty() ? null : last.toString());
    }

    /** The next {@code count} entries of the recent-tasks index after {@code position} (from the newest when null). */
    private List<Position> after(Position position, int count) {
        double max = position == null ? Double.POSITIVE_INFINITY : position.score();
        // Entries of the same score come in reverse order of their ids: those not after the cursor are skipped.
        Set<ZSetOperations.TypedTuple<String>> entries = redis.opsForZSet()
                .reverseRangeByScoreWithScores(RedisKeys.RECENT_TASKS, Double.NEGATIVE_INFINITY, max, 0, count + RECENT_SAME_SCORE);
        List<Position> next = new ArrayList<>(count);
        for (ZSetOperations.TypedTuple<String> entry : entries == null ? Set.<ZSetOperations.TypedTuple<String>>of() : entries) {
            Position candidate = new Position((long) (double) entry.getScore(), entry.getValue());
            if ((position == null || candidate.isAfter(position)) && next.size() < count) {
                next.add(candidate);
            }
        }
        return next;
    }

    /** A place in the recent-tasks index: a creation time and, for ties, the id. */
    private record Position(long score, String id) {

        static Position parse(String cursor) {
            int colon = cursor.indexOf(':');
            return new Position(Long.parseLong(cursor.substring(0, colon)), cursor.substring(colon + 1));
        }

        boolean isAfter(Position other) {
            return score < other.score || (score == other.score && id.compareTo(other.id) < 0);
        }

        @Override
        public String toString() {
            return score + ":" + id;
        }
    }

    /** The summaries of the tasks that exist, in the order given: one pipelined round trip per Redis master. */
    private List<TaskSummary> summaries(List<String> ids) {
        Map<StringRedisTemplate, List<String>> byMaster = ids.stream()
                .collect(Collectors.groupingBy(tasks::forTask, IdentityHashMap::new, Collectors.toList()));
        Map<String, TaskSummary> found = new HashMap<>();
        byMaster.forEach((template, masterIds) -> {
            List<Object> replies = template.executePipelined(new SessionCallback<Object>() {
                @Override
                @SuppressWarnings("unchecked")
                public <K, V> Object execute(RedisOperations<K, V> operations) {
                    RedisOperations<String, String> ops = (RedisOperations<String, String>) operations;
                    for (String id : masterIds) {
                        ops.opsForHash().multiGet(RedisKeys.task(id), SUMMARY_FIELDS);
                        ops.opsForSet().size(RedisKeys.shardsDone(id));
                        ops.opsForHash().size(RedisKeys.results(id));
                        ops.opsForSet().size(RedisKeys.failed(id));
                        ops.opsForSet().size(RedisKeys.skipped(id));
                    }
                    return null;
                }
            });
            for (int i = 0; i < masterIds.size(); i++) {
                @SuppressWarnings("unchecked")
                List<String> fields = (List<String>) replies.get(5 * i);
                if (fields.get(0) == null) {
                    continue; // expired, or its save failed half-way
                }
                long done = (Long) replies.get(5 * i + 2);
                long failed = (Long) replies.get(5 * i + 3);
                long skipped = (Long) replies.get(5 * i + 4);
                TaskProgress progress = new TaskProgress(Integer.parseInt(fields.get(2)), ((Long) replies.get(5 * i + 1)).intValue(),
                        done - failed, failed - skipped, skipped, Integer.parseInt(fields.get(3)), Integer.parseInt(fields.get(4)));
                TaskTimes times = new TaskTimes(instant(fields.get(5)), instant(fields.get(6)), instant(fields.get(7)));
                found.put(masterIds.get(i), new TaskSummary(masterIds.get(i), TaskStatus.valueOf(fields.get(0)), fields.get(8),
                        Long.parseLong(fields.get(1)), progress, times));
            }
        });
        return ids.stream().map(found::get).filter(Objects::nonNull).toList();
    }

    @Override
    public void markShardsPublished(String taskId, Map<Integer, ShardPlacement> placements) {
        String encoded = placements.entrySet().stream().map(shard -> shard.getKey() + ":" + shard.getValue().partition() + ":"
                + shard.getValue().offset()).collect(Collectors.joining(","));
        tasks.forTask(taskId).opsForHash().putAll(RedisKeys.task(taskId),
                Map.of(TaskHash.SHARDS_PUBLISHED, String.valueOf(clock.millis()), TaskHash.SHARD_PLACEMENTS, encoded));
    }

    @Override
    public Set<Integer> doneShards(String taskId) {
        Set<String> members = tasks.forTask(taskId).opsForSet().members(RedisKeys.shardsDone(taskId));
        return members == null ? Set.of() : members.stream().map(Integer::valueOf).collect(Collectors.toSet());
    }
}
