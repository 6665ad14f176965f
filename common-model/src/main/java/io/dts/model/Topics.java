package io.dts.model;

/** Default Kafka topic and group names; each service binds the actual names from {@code pubsub.*}. */
public final class Topics {

    public static final String TASKS = "distributed_task";
    public static final String SHARDS = "distributed_task_shard";
    public static final String EVENTS = "distributed_task_completed";
    public static final String SCHEDULER_GROUP = "task-subscribers";
    public static final String WORKER_GROUP = "task-workers";

    private Topics() {
    }
}
