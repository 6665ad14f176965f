package io.dts.model;

/** Record on the task topic: the task is saved in Redis and waits to be sharded. */
public record TaskSubmitted(String taskId, long submittedAt) {
}
