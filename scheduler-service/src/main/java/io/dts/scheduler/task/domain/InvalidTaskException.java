package io.dts.scheduler.task.domain;

import java.util.List;

/** A submitted task that cannot run as given; {@code errors} names each offending field. */
public class InvalidTaskException extends RuntimeException {

    private final List<FieldError> errors;

    public InvalidTaskException(List<FieldError> errors) {
        super(errors.stream().map(e -> e.field() + ": " + e.message()).reduce((a, b) -> a + "; " + b).orElse("invalid task"));
        this.errors = List.copyOf(errors);
    }

    public InvalidTaskException(String field, String message) {
        this(List.of(new FieldError(field, message)));
    }

    public List<FieldError> errors() {
        return errors;
    }

    /** One offending field and what is wrong with it. */
    public record FieldError(String field, String message) {
    }
}
