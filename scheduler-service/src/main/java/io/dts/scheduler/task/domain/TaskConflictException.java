package io.dts.scheduler.task.domain;

/** The task's status does not allow the request (cancel a finished task, retry a task that did not fail). */
public class TaskConflictException extends RuntimeException {

    public TaskConflictException(String message) {
        super(message);
    }
}
