package io.dts.scheduler.task.domain;

/** Each owner's tasks not finished yet, counted against {@code scheduler.owner-limits.unfinished-tasks}. */
public interface OwnerTasks {

    /**
     * Counts the task against its owner's unfinished tasks, unless the owner has {@code limit} already (0: no limit);
     * counting a task counted already changes nothing. Done before the task is saved: a count whose save failed is
     * dropped once the owner reaches the limit.
     *
     * @return false at the limit
     */
    boolean claim(String owner, String taskId, int limit);
}
