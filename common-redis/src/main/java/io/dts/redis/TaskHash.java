package io.dts.redis;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.dts.model.ShardHalt;
import io.dts.model.ShardPlacement;
import io.dts.model.TaskStatus;
import org.springframework.data.redis.core.RedisOperations;

/**
 * The task hash {@link RedisKeys#task}, written by the scheduler and updated by workers: the one place that names
 * its fields and says how each value is written and read. Code that writes a field {@link Field#put puts} it,
 * code that reads one takes it {@link Field#from from} the hash, and the Lua scripts are given the
 * {@link Field#name names}: adding a field is a line here and the code that uses it.
 */
public final class TaskHash {

    public static final Field<String> ID = Field.text("id");
    public static final Field<TaskStatus> STATUS = new Field<>("status", TaskStatus::valueOf, TaskStatus::name);
    /** Who submitted the task: the name of its key, or the subject of its JWT. */
    public static final Field<String> OWNER = Field.text("owner");
    public static final Field<String> TEMPLATE = Field.text("templateFunction");
    public static final Field<String> COMMAND = Field.text("command");
    public static final Field<Long> ITEMS_TOTAL = Field.number("itemsTotal");
    public static final Field<Boolean> WITHOUT_ITEMS = new Field<>("withoutItems", Boolean::valueOf, String::valueOf);
    public static final Field<Integer> CHUNKS_TO_EXECUTE = Field.count("chunksToExecute");
    public static final Field<Integer> ATTEMPTS = Field.count("attempts");
    /** Sharding round: 1, then one more for each retry-failed. */
    public static final Field<Integer> ROUND = Field.count("round");
    /** How long the task's keys live once it is finished. */
    public static final Field<Duration> RETENTION = Field.seconds("retentionSeconds");
    /**
     * {@code null} when the task sets none (the worker's default applies), stored as 0 as earlier versions did,
     * so that a scheduler of one version reads a task another saved.
     */
    public static final Field<Long> TIMEOUT_SECONDS = new Field<>("timeoutSeconds", Long::valueOf, String::valueOf, "0");
    public static final Field<Integer> MAX_RETRIES = Field.count("maxRetries");
    /** Higher runs first among waiting items (0-9); absent (a task of an earlier version) for 0. */
    public static final Field<Integer> PRIORITY = Field.count("priority");
    /** Items of the task that may run at once in the cluster; absent for no cap. */
    public static final Field<Integer> MAX_PARALLEL = Field.count("maxParallel");
    /** Items of the task's owner that may run at once in the cluster, as the scheduler's setting was when it was accepted; absent for none. */
    public static final Field<Integer> OWNER_RUNNING_LIMIT = Field.count("ownerRunningLimit");
    public static final Field<Instant> CREATED_AT = Field.instant("createdAt");
    public static final Field<Instant> UPDATED_AT = Field.instant("updatedAt");
    public static final Field<Instant> FINISHED_AT = Field.instant("finishedAt");
    /** Why an accepted task is not running yet, such as "no live worker"; removed once sharded. */
    public static final Field<String> WAITING_REASON = Field.text("waitingReason");
    public static final Field<String> LAST_ERROR = Field.text("lastError");
    /** Set once every shard of the current round is on Kafka; until then the reconciler may publish them. */
    public static final Field<Instant> SHARDS_PUBLISHED = Field.instant("shardsPublished");
    /** Where that publish put the shards; the reconciler asks Kafka whether the workers have finished them yet. */
    public static final Field<Map<Integer, ShardPlacement>> SHARD_PLACEMENTS =
            new Field<>("shardPlacements", TaskHash::placements, TaskHash::placements);
    /** What the task runs, hashed: a client that names its task id may send the same request again. */
    public static final Field<String> FINGERPRINT = Field.text("fingerprint");
    /** The halt rule as GNU Parallel words it ({@code soon,fail=10%}); absent for never. See {@link #halt}. */
    public static final Field<String> HALT_RULE = Field.text("haltRule");
    /** The failed items that halt the task. */
    public static final Field<Long> HALT_THRESHOLD = Field.number("haltThreshold");
    /** {@code 1} once the task halted; then {@link #HALT_REASON} says why. */
    public static final Field<Boolean> HALTED = new Field<>("halted", "1"::equals, halted -> halted ? "1" : "0");
    public static final Field<String> HALT_REASON = Field.text("haltReason");

    private TaskHash() {
    }

    /** The task's halt rule, from its two fields; {@code null} for never. */
    public static ShardHalt halt(Map<?, ?> hash) {
        String rule = HALT_RULE.from(hash);
        return rule == null ? null : new ShardHalt(rule, HALT_THRESHOLD.from(hash), rule.startsWith("now,"));
    }

    /** Puts {@code halt}'s two fields, none for {@code null} (never). */
    public static void putHalt(Map<String, String> hash, ShardHalt halt) {
        if (halt != null) {
            HALT_RULE.put(hash, halt.rule());
            HALT_THRESHOLD.put(hash, halt.threshold());
        }
    }

    /** {@code shard:partition:offset,...}; empty when none. */
    private static Map<Integer, ShardPlacement> placements(String stored) {
        if (stored.isEmpty()) {
            return Map.of();
        }
        return Arrays.stream(stored.split(",")).map(shard -> shard.split(":")).collect(Collectors.toUnmodifiableMap(
                shard -> Integer.valueOf(shard[0]), shard -> new ShardPlacement(Integer.parseInt(shard[1]), Long.parseLong(shard[2]))));
    }

    private static String placements(Map<Integer, ShardPlacement> placements) {
        return placements.entrySet().stream().map(shard -> shard.getKey() + ":" + shard.getValue().partition() + ":"
                + shard.getValue().offset()).collect(Collectors.joining(","));
    }

    /** One field of the hash: its name and how its value is stored as text. Only this class defines them. */
    public static final class Field<T> {

        private final String name;
        private final Function<String, T> parser;
        private final Function<T, String> formatter;
        /** What stands for {@code null} in the hash, or {@code null} when a null value is simply not written. */
        private final String none;

        private Field(String name, Function<String, T> parser, Function<T, String> formatter, String none) {
            this.name = name;
            this.parser = parser;
            this.formatter = formatter;
            this.none = none;
        }

        private Field(String name, Function<String, T> parser, Function<T, String> formatter) {
            this(name, parser, formatter, null);
        }

        private static Field<String> text(String name) {
            return new Field<>(name, Function.identity(), Function.identity());
        }

        private static Field<Long> number(String name) {
            return new Field<>(name, Long::valueOf, String::valueOf);
        }

        private static Field<Integer> count(String name) {
            return new Field<>(name, Integer::valueOf, String::valueOf);
        }

        private static Field<Duration> seconds(String name) {
            return new Field<>(name, stored -> Duration.ofSeconds(Long.parseLong(stored)), duration -> String.valueOf(duration.toSeconds()));
        }

        /** Epoch milliseconds. */
        private static Field<Instant> instant(String name) {
            return new Field<>(name, stored -> Instant.ofEpochMilli(Long.parseLong(stored)), instant -> String.valueOf(instant.toEpochMilli()));
        }

        /** The field's name in the hash, as HGET and the Lua scripts take it. */
        public String name() {
            return name;
        }

        /** Its value in {@code hash} (as HGETALL answers it), {@code null} when absent. */
        public T from(Map<?, ?> hash) {
            return parse(hash.get(name));
        }

        /** Its value in the hash of task {@code taskId}, read with one HGET; {@code null} when absent. */
        public T read(RedisOperations<String, String> redis, String taskId) {
            return parse(redis.opsForHash().get(RedisKeys.task(taskId), name));
        }

        /** A stored value (as HGET answers it) read, {@code null} when absent. */
        public T parse(Object stored) {
            return stored == null || stored.toString().equals(none) ? null : parser.apply(stored.toString());
        }

        /** The value as stored. */
        public String format(T value) {
            return value == null ? none : formatter.apply(value);
        }

        /** Puts the value into {@code hash}, to be written; nothing for {@code null} unless the field stores a form of it. */
        public void put(Map<String, String> hash, T value) {
            String stored = format(value);
            if (stored != null) {
                hash.put(name, stored);
            }
        }
    }
}
