package io.dts.scheduler.task.domain;

/** A name that stands for one request (an {@code Idempotency-Key}) came back with a different request. */
public class RequestMismatchException extends RuntimeException {

    public RequestMismatchException(String message) {
        super(message);
    }
}
