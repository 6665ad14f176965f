package io.dts.scheduler.task.redis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.dts.model.TaskStatus;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskHash;
import io.dts.redis.TaskRedis;
import io.dts.scheduler.task.domain.TaskPage;
import io.dts.scheduler.task.domain.TaskSummary;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.ZSetOperations;

/** Pages of the recent-tasks index, newest first, as summaries read a batch per round trip. */
class RedisTaskListing {

    /** Most tasks one listing request looks at. */
    static final int RECENT_SCAN = 1_000;
    /** Tasks created in the same millisecond a page may have to step over. */
    private static final int RECENT_SAME_SCORE = 64;
    /** Tasks read per pipelined round trip when listing. */
    private static final int SUMMARY_BATCH = 200;
    /** The fields of the task hash a summary shows. */
    private static final List<Object> SUMMARY_FIELDS = Stream.of(TaskHash.STATUS, TaskHash.ITEMS_TOTAL, TaskHash.CHUNKS_TO_EXECUTE,
            TaskHash.ATTEMPTS, TaskHash.ROUND, TaskHash.CREATED_AT, TaskHash.UPDATED_AT, TaskHash.FINISHED_AT, TaskHash.OWNER)
            .<Object>map(TaskHash.Field::name).toList();
    /** Replies per task in a page's pipeline: its summary fields, then its counts. */
    private static final int PER_TASK = 1 + TaskReads.COUNTS;

    private final TaskRedis tasks;
    private final StringRedisTemplate redis;

    RedisTaskListing(TaskRedis tasks, StringRedisTemplate redis) {
        this.tasks = tasks;
        this.redis = redis;
    }

    /**
     * Walks the recent-tasks index (score: creation time) from the cursor, {@code <score>:<id>} of the last
     * task looked at, a batch at a time, and stops once the page is full or {@link #RECENT_SCAN} tasks were
     * looked at: a page costs the same for 100 tasks or 100,000.
     */
    TaskPage recent(TaskStatus status, String owner, int limit, String cursor) {
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

    /** The summaries of the tasks that exist, in the order given: a pipelined round trip per Redis master and batch. */
    List<TaskSummary> summaries(List<String> ids) {
        if (ids.size() > SUMMARY_BATCH) {
            List<TaskSummary> all = new ArrayList<>(ids.size());
            for (int from = 0; from < ids.size(); from += SUMMARY_BATCH) {
                all.addAll(summaries(ids.subList(from, Math.min(ids.size(), from + SUMMARY_BATCH))));
            }
            return all;
        }
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
                        TaskReads.queueCounts(ops, id);
                    }
                    return null;
                }
            });
            for (int i = 0; i < masterIds.size(); i++) {
                List<?> values = (List<?>) replies.get(PER_TASK * i);
                Map<Object, Object> hash = new HashMap<>();
                for (int field = 0; field < SUMMARY_FIELDS.size(); field++) {
                    hash.put(SUMMARY_FIELDS.get(field), values.get(field));
                }
                TaskStatus status = TaskHash.STATUS.from(hash);
                if (status == null) {
                    continue; // expired, or its save failed half-way
                }
                found.put(masterIds.get(i), new TaskSummary(masterIds.get(i), status, TaskHash.OWNER.from(hash), TaskHash.ITEMS_TOTAL.from(hash),
                        TaskReads.progress(hash, replies.subList(PER_TASK * i + 1, PER_TASK * (i + 1))), TaskReads.times(hash)));
            }
        });
        return ids.stream().map(found::get).filter(Objects::nonNull).toList();
    }
}
