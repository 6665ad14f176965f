package io.dts.scheduler.task.domain;

/** A request over one of the configured size limits (body, item count, item size). */
public class PayloadTooLargeException extends RuntimeException {

    public PayloadTooLargeException(String message) {
        super(message);
    }
}
