package io.dts.model;

/** Record on the result topic: a shard finished, or a whole task reached a terminal status. */
public record TaskEvent(Type type, String taskId, int shardIndex, TaskStatus status, String workerId, long at) {

    public enum Type { SHARD_DONE, TASK_DONE }
}
