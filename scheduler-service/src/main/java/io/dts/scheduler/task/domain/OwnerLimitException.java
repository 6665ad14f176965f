package io.dts.scheduler.task.domain;

/** The owner is at one of its limits (scheduler.owner-limits.*): a 429 that names it. */
public class OwnerLimitException extends RuntimeException {

    public OwnerLimitException(String message) {
        super(message);
    }
}
