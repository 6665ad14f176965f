package io.dts.redis;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import io.dts.model.ShardHalt;
import io.dts.model.TaskStatus;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * The one owner of a task's state in Redis, for scheduler and workers alike: every status change
 * (publish outcome, sharding, shard done and task finished, cancel, retry-failed), the indexes that
 * find tasks by state, and the expiry of a finished task. Each change is one server-side script
 * guarded by the transition table ({@link TaskStatus#canMoveTo}).
 *
 * <p>The indexes ({@code tasks:pending}: awaiting sharding, {@code tasks:running}: INPROGRESS) live
 * outside the task's hash slot, so they cannot join its script. The index a task enters is written
 * before its status changes (and again, if missing, after), and the index it leaves is cleaned after;
 * a failure in between leaves an entry that points at a task in another state, which {@link #repair}
 * drops. A removal is checked afterwards against the status then: when another scheduler moved the
 * task back into that index meanwhile, the entry is put back. So neither a failure nor another
 * scheduler's change in between leaves a task that no index finds, and every step is safe to repeat.
 */
public class TaskLifecycle {

    /** Called between two steps of an index change; tests use it to put another scheduler's change in between. */
    @FunctionalInterface
    interface Interleaving {
        Interleaving NONE = taskId -> { };

        void between(String taskId);
    }

    private static final RedisScript<Long> MOVE_TO = LuaScripts.load("move-to.lua", Long.class);
    private static final RedisScript<String> COMPLETE_SHARD = LuaScripts.load("complete-shard.lua", String.class);
    private static final RedisScript<Long> REOPEN_FAILED = LuaScripts.load("reopen-failed.lua", Long.class);
    private static final RedisScript<Long> COUNT_HALT_FAILURE = LuaScripts.load("count-halt-failure.lua", Long.class);
    /** For each status, the statuses a task may move to it from, as the scripts take them (",A,B,"). */
    private static final Map<TaskStatus, String> MOVABLE_FROM = Arrays.stream(TaskStatus.values()).collect(Collectors.toMap(
            next -> next,
            next -> Arrays.stream(TaskStatus.values()).filter(status -> status.canMoveTo(next)).map(Enum::name)
                    .collect(Collectors.joining(",", ",", ",")),
            (a, b) -> a, () -> new EnumMap<>(TaskStatus.class)));

    private final TaskRedis tasks;
    private final StringRedisTemplate redis;
    private final Clock clock;
    private final Interleaving interleaving;

    public TaskLifecycle(TaskRedis tasks, StringRedisTemplate redis, Clock clock) {
        this(tasks, redis, clock, Interleaving.NONE);
    }

    TaskLifecycle(TaskRedis tasks, StringRedisTemplate redis, Clock clock, Interleaving interleaving) {
        this.tasks = tasks;
        this.redis = redis;
        this.clock = clock;
        this.interleaving = interleaving;
    }

    /**
     * Lists a new task (recent and pending), before its hash is written. With {@code onlyIfNew}, an
     * existing entry keeps its place (a client re-sending the id of a task it made).
     */
    public void admit(String taskId, long createdAtMillis, boolean onlyIfNew) {
        redis.executePipelined(new SessionCallback<Object>() {
            @Override
            @SuppressWarnings("unchecked")
            public <K, V> Object execute(RedisOperations<K, V> operations) {
                RedisOperations<String, String> ops = (RedisOperations<String, String>) operations;
                if (onlyIfNew) {
                    ops.opsForZSet().addIfAbsent(RedisKeys.RECENT_TASKS, taskId, createdAtMillis);
                    ops.opsForZSet().addIfAbsent(RedisKeys.PENDING_TASKS, taskId, createdAtMillis);
                } else {
                    ops.opsForZSet().add(RedisKeys.RECENT_TASKS, taskId, createdAtMillis);
                    ops.opsForZSet().add(RedisKeys.PENDING_TASKS, taskId, createdAtMillis);
                }
                return null;
            }
        });
    }

    /**
     * Moves the task to {@code next} if the transition table allows it from its current status, with
     * {@code fields} set on its hash; a finished task's keys expire after its retention.
     *
     * @return whether the task moved
     */
    public boolean moveTo(String taskId, TaskStatus next, Map<String, String> fields) {
        enter(taskId, next);
        List<String> deletes = new ArrayList<>();
        if (!next.awaitsSharding()) {
            deletes.add(TaskHash.WAITING_REASON.name());
        }
        if (next == TaskStatus.INPROGRESS) {
            deletes.add(TaskHash.SHARDS_PUBLISHED.name());
            deletes.add(TaskHash.SHARD_PLACEMENTS.name());
        }
        Map<String, String> set = new HashMap<>(fields);
        Instant now = clock.instant();
        TaskHash.STATUS.put(set, next);
        TaskHash.UPDATED_AT.put(set, now);
        if (next.isTerminal()) {
            TaskHash.FINISHED_AT.put(set, now);
        }
        List<String> args = new ArrayList<>(List.of(TaskHash.STATUS.name(), MOVABLE_FROM.get(next),
                next.isTerminal() ? TaskHash.RETENTION.name() : "", String.valueOf(deletes.size())));
        args.addAll(deletes);
        set.forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        boolean moved = Long.valueOf(1).equals(tasks.forTask(taskId).execute(MOVE_TO, RedisKeys.allOf(taskId), args.toArray()));
        if (moved) {
            interleaving.between(taskId);
            entered(taskId, next);
            leave(taskId, next);
        }
        return moved;
    }

    /** Moves an unsharded task to {@code INPROGRESS} with its shard count; false if another scheduler did it first. */
    public boolean startSharding(String taskId, int shardCount) {
        return moveTo(taskId, TaskStatus.INPROGRESS, Map.of(TaskHash.CHUNKS_TO_EXECUTE.name(), TaskHash.CHUNKS_TO_EXECUTE.format(shardCount)));
    }

    /**
     * Marks a shard of the task's current round done, once, and finishes the task when it was the last
     * one: FAILED when an item failed, else COMPLETED.
     *
     * @return the task's new status when this call finished it
     */
    public Optional<TaskStatus> completeShard(String taskId, int shardIndex, int round) {
        List<String> keys = keysStartingWith(taskId, RedisKeys.task(taskId), RedisKeys.shardsDone(taskId), RedisKeys.failed(taskId));
        String finished = tasks.forTask(taskId).execute(COMPLETE_SHARD, keys, String.valueOf(shardIndex), String.valueOf(round),
                String.valueOf(clock.millis()), TaskHash.STATUS.name(), TaskHash.ROUND.name(), TaskHash.CHUNKS_TO_EXECUTE.name(), TaskHash.RETENTION.name(),
                TaskHash.UPDATED_AT.name(), TaskHash.FINISHED_AT.name(), MOVABLE_FROM.get(TaskStatus.COMPLETED), MOVABLE_FROM.get(TaskStatus.FAILED));
        if (finished == null || finished.isEmpty()) {
            return Optional.empty();
        }
        TaskStatus status = TaskStatus.valueOf(finished);
        leave(taskId, status);
        return Optional.of(status);
    }

    /**
     * Queues a FAILED task again, as a new round, for its failed items only.
     *
     * @return false when the task is not FAILED (any more)
     */
    public boolean reopenFailed(String taskId) {
        enter(taskId, TaskStatus.QUEUED);
        List<String> keys = keysStartingWith(taskId, RedisKeys.task(taskId), RedisKeys.failed(taskId), RedisKeys.results(taskId),
                RedisKeys.recorded(taskId), RedisKeys.shardsDone(taskId), RedisKeys.skipped(taskId), RedisKeys.haltFailures(taskId));
        boolean reopened = Long.valueOf(1).equals(tasks.forTask(taskId).execute(REOPEN_FAILED, keys, MOVABLE_FROM.get(TaskStatus.QUEUED),
                String.valueOf(clock.millis()), TaskHash.STATUS.name(), TaskHash.ROUND.name(), TaskHash.CHUNKS_TO_EXECUTE.name(), TaskHash.UPDATED_AT.name(),
                TaskHash.FINISHED_AT.name(), TaskHash.SHARDS_PUBLISHED.name(), TaskHash.SHARD_PLACEMENTS.name(), TaskHash.HALTED.name(), TaskHash.HALT_REASON.name()));
        if (reopened) {
            entered(taskId, TaskStatus.QUEUED);
            String owner = TaskHash.OWNER.read(tasks.forTask(taskId), taskId);
            if (owner != null) {
                // Unfinished again, whatever the owner's limit: it is the same task.
                redis.opsForZSet().add(RedisKeys.ownerUnfinished(owner), taskId, clock.millis());
            }
        }
        return reopened;
    }

    /**
     * Counts a failed item (its retries used up) against the task's halt rule, at once, not with the next
     * result batch, and halts the task when the count reaches the rule's threshold: from then on no
     * worker starts another of its items. Counting the same item again changes nothing.
     *
     * @return true when the task is halted (by this failure or an earlier one)
     */
    public boolean countHaltFailure(String taskId, long itemIndex, ShardHalt halt) {
        return Long.valueOf(1).equals(tasks.forTask(taskId).execute(COUNT_HALT_FAILURE,
                List.of(RedisKeys.task(taskId), RedisKeys.haltFailures(taskId)), String.valueOf(itemIndex),
                String.valueOf(halt.threshold()), "halt " + halt.rule(), TaskHash.HALTED.name(), TaskHash.HALT_REASON.name(), TaskHash.ITEMS_TOTAL.name()));
    }

    /** True once the task halted in its current round. */
    public boolean halted(String taskId) {
        return Boolean.TRUE.equals(TaskHash.HALTED.read(tasks.forTask(taskId), taskId));
    }

    /** Says, visibly on the task, why an accepted task is not sharded yet, and has it swept again at once. */
    public void markWaiting(String taskId, String reason) {
        tasks.forTask(taskId).opsForHash().put(RedisKeys.task(taskId), TaskHash.WAITING_REASON.name(), reason);
        // Score 0: the sweeper tries it again at its next round, without waiting for the grace.
        redis.opsForZSet().add(RedisKeys.PENDING_TASKS, taskId, 0);
    }

    /**
     * Makes the indexes agree with the task's status: drops an entry whose task is gone or in another
     * state (a step that failed half-way, a finished task that stayed listed), adds a missing one.
     *
     * @return the task's status, or empty when it is gone
     */
    public Optional<TaskStatus> repair(String taskId) {
        TaskStatus current = status(taskId);
        if (current == null) {
            redis.opsForZSet().remove(RedisKeys.PENDING_TASKS, taskId);
            redis.opsForZSet().remove(RedisKeys.RUNNING_TASKS, taskId);
            return Optional.empty();
        }
        interleaving.between(taskId);
        entered(taskId, current);
        leave(taskId, current);
        return Optional.of(current);
    }

    /**
     * Accepted tasks not yet sharded that no scheduler has touched (created, retried a publish) for
     * {@code age}, and tasks waiting for a worker; oldest first.
     */
    public List<String> pendingOlderThan(Duration age, int limit) {
        Set<String> ids = redis.opsForZSet().rangeByScore(RedisKeys.PENDING_TASKS, 0, clock.millis() - age.toMillis(), 0, limit);
        return ids == null ? List.of() : List.copyOf(ids);
    }

    /** Listed as running, longest first; a sweep that repairs them moves stale entries out of the way. */
    public List<String> runningTasks(int limit) {
        Set<String> ids = redis.opsForZSet().range(RedisKeys.RUNNING_TASKS, 0, limit - 1);
        return ids == null ? List.of() : List.copyOf(ids);
    }

    /** Drops tasks older than {@code age} from the recent-tasks index (their keys expire on their own). */
    public void forgetCreatedBefore(Duration age) {
        redis.opsForZSet().removeRangeByScore(RedisKeys.RECENT_TASKS, 0, clock.millis() - age.toMillis());
    }

    /** Before the status changes: the index of the status the task enters. */
    private void enter(String taskId, TaskStatus next) {
        if (next.awaitsSharding()) {
            // Score now: a scheduler is working on it, so the sweeper leaves it alone for a grace period.
            redis.opsForZSet().add(RedisKeys.PENDING_TASKS, taskId, clock.millis());
        } else if (next == TaskStatus.INPROGRESS) {
            redis.opsForZSet().add(RedisKeys.RUNNING_TASKS, taskId, clock.millis());
        }
    }

    /** After the status changed: in the index of its status, in case a concurrent {@link #leave} took it out in between. */
    private void entered(String taskId, TaskStatus now) {
        if (now.awaitsSharding()) {
            redis.opsForZSet().addIfAbsent(RedisKeys.PENDING_TASKS, taskId, clock.millis());
        } else if (now == TaskStatus.INPROGRESS) {
            redis.opsForZSet().addIfAbsent(RedisKeys.RUNNING_TASKS, taskId, clock.millis());
        }
    }

    /** After the status changed: out of the indexes of the statuses it left. */
    private void leave(String taskId, TaskStatus now) {
        if (now.isTerminal()) {
            String owner = TaskHash.OWNER.read(tasks.forTask(taskId), taskId);
            if (owner != null) {
                redis.opsForZSet().remove(RedisKeys.ownerUnfinished(owner), taskId);
            }
        }
        if (!now.awaitsSharding()) {
            removeUnlessBack(RedisKeys.PENDING_TASKS, taskId, TaskStatus::awaitsSharding);
        }
        if (now != TaskStatus.INPROGRESS) {
            removeUnlessBack(RedisKeys.RUNNING_TASKS, taskId, status -> status == TaskStatus.INPROGRESS);
        }
    }

    /**
     * Removes the task from the index, then reads its status: if another scheduler moved it into this index's
     * status since this one's change, the entry removed was that one's, and it is put back. Whoever moves a task
     * into an index adds it again after the move ({@link #entered}), so in every order one of the two re-adds it.
     */
    private void removeUnlessBack(String index, String taskId, Predicate<TaskStatus> belongs) {
        Long removed = redis.opsForZSet().remove(index, taskId);
        if (removed == null || removed == 0) {
            return;
        }
        TaskStatus status = status(taskId);
        if (status != null && belongs.test(status)) {
            redis.opsForZSet().addIfAbsent(index, taskId, clock.millis());
        }
    }

    /** The task's status, {@code null} when it is gone. */
    private TaskStatus status(String taskId) {
        return TaskHash.STATUS.read(tasks.forTask(taskId), taskId);
    }

    /** Every key of the task, the given ones first in their order, as the scripts take them. */
    private static List<String> keysStartingWith(String taskId, String... first) {
        Set<String> keys = new LinkedHashSet<>(List.of(first));
        keys.addAll(RedisKeys.allOf(taskId));
        return List.copyOf(keys);
    }
}
