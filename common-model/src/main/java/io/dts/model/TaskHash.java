package io.dts.model;

/** Field names of the task hash {@link RedisKeys#task}, written by the scheduler and updated by workers. */
public final class TaskHash {

    public static final String ID = "id";
    public static final String STATUS = "status";
    /** Who submitted the task: the name of its key, or the subject of its JWT. */
    public static final String OWNER = "owner";
    public static final String TEMPLATE = "templateFunction";
    public static final String COMMAND = "command";
    public static final String ITEMS_TOTAL = "itemsTotal";
    public static final String WITHOUT_ITEMS = "withoutItems";
    public static final String CHUNKS_TO_EXECUTE = "chunksToExecute";
    public static final String ATTEMPTS = "attempts";
    /** Sharding round: 1, then one more for each retry-failed. */
    public static final String ROUND = "round";
    /** How long the task's keys live once it is finished. */
    public static final String RETENTION_SECONDS = "retentionSeconds";
    public static final String TIMEOUT_SECONDS = "timeoutSeconds";
    public static final String MAX_RETRIES = "maxRetries";
    /** Epoch milliseconds. */
    public static final String CREATED_AT = "createdAt";
    public static final String UPDATED_AT = "updatedAt";
    public static final String FINISHED_AT = "finishedAt";
    /** Why an accepted task is not running yet, such as "no live worker"; removed once sharded. */
    public static final String WAITING_REASON = "waitingReason";
    public static final String LAST_ERROR = "lastError";
    /** Set once every shard of the current round is on Kafka; until then the reconciler may publish them. */
    public static final String SHARDS_PUBLISHED = "shardsPublished";
    /**
     * Where that publish put the shards, as {@code shard:partition:offset,...}; the reconciler asks Kafka
     * whether the workers have finished them yet.
     */
    public static final String SHARD_PLACEMENTS = "shardPlacements";
    /** What the task runs, hashed: a client that names its task id may send the same request again. */
    public static final String FINGERPRINT = "fingerprint";

    private TaskHash() {
    }
    /** The halt rule as GNU Parallel words it ({@code soon,fail=10%}); absent for never. */
    public static final String HALT_RULE = "haltRule";
    /** The failed items that halt the task. */
    public static final String HALT_THRESHOLD = "haltThreshold";
    /** {@code 1} when the task halted; then {@link #HALT_REASON} says why. */
    public static final String HALTED = "halted";
    public static final String HALT_REASON = "haltReason";
}
