package io.dts.scheduler.task.domain;

/** No task has this id (or it expired). */
public class TaskNotFoundException extends RuntimeException {

    public TaskNotFoundException(String taskId) {
        super(TaskIds.isValid(taskId) ? "No task with id '" + taskId + "'. It may never have existed or may have expired."
                : "No such task: task ids are UUIDs, like " + TaskIds.EXAMPLE + ".");
    }
}
