package io.dts.scheduler.task.api;

import java.util.List;
import java.util.Map;

import io.dts.model.InputLimits;
import io.dts.scheduler.task.domain.InvalidTaskException;
import io.dts.scheduler.task.domain.InvalidTaskException.FieldError;
import io.dts.scheduler.task.domain.OwnerLimitException;
import io.dts.scheduler.task.domain.PayloadTooLargeException;
import io.dts.scheduler.task.domain.RequestMismatchException;
import io.dts.scheduler.task.domain.TaskConflictException;
import io.dts.scheduler.task.domain.TaskNotFoundException;
import org.apache.tomcat.util.http.InvalidParameterException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * Every error of the API as {@code application/problem+json} (RFC 9457) with a {@code detail} a person
 * can act on; validation errors also list the offending fields under {@code errors}. 4xx are logged at
 * WARN, 5xx at ERROR, and no stack trace reaches a client.
 */
@RestControllerAdvice
public class ProblemDetailsAdvice extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemDetailsAdvice.class);

    @ExceptionHandler(InvalidTaskException.class)
    ProblemDetail invalidTask(InvalidTaskException e) {
        return problem(HttpStatus.BAD_REQUEST, "Invalid task", e.getMessage(), e.errors());
    }

    @ExceptionHandler(PayloadTooLargeException.class)
    ProblemDetail tooLarge(PayloadTooLargeException e) {
        return problem(HttpStatus.PAYLOAD_TOO_LARGE, "Request too large", e.getMessage(), null);
    }

    /** An input over a limit while it was read or checked: a 413 naming the property, or a 400 naming the field. */
    @ExceptionHandler(InputLimits.Exceeded.class)
    ResponseEntity<ProblemDetail> inputLimit(InputLimits.Exceeded e) {
        return switch (e.kind()) {
            case TOO_MANY_ITEMS -> ResponseEntity.status(HttpStatus.PAYLOAD_TOO_LARGE).body(problem(HttpStatus.PAYLOAD_TOO_LARGE,
                    "Request too large", e.getMessage() + " (scheduler.max-items). Split the work into several tasks.", null));
            case ITEM_TOO_LARGE -> ResponseEntity.status(HttpStatus.PAYLOAD_TOO_LARGE).body(problem(HttpStatus.PAYLOAD_TOO_LARGE,
                    "Request too large", e.getMessage() + " (scheduler.max-item-size). Pass large data by path instead.", null));
            case INVALID -> ResponseEntity.badRequest().body(invalidTask(new InvalidTaskException(e.field(), e.getMessage())));
        };
    }

    /** Retry-After: a task of the owner's may finish any moment; a client that waits a little gets in. */
    @ExceptionHandler(OwnerLimitException.class)
    ResponseEntity<ProblemDetail> ownerLimit(OwnerLimitException e) {
        return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS).header(HttpHeaders.RETRY_AFTER, "5")
                .body(problem(HttpStatus.TOO_MANY_REQUESTS, "Owner limit reached", e.getMessage(), null));
    }

    @ExceptionHandler(TaskNotFoundException.class)
    ProblemDetail notFound(TaskNotFoundException e) {
        return problem(HttpStatus.NOT_FOUND, "Task not found", e.getMessage(), null);
    }

    @ExceptionHandler(TaskConflictException.class)
    ProblemDetail conflict(TaskConflictException e) {
        return problem(HttpStatus.CONFLICT, "Task state conflict", e.getMessage(), null);
    }

    /**
     * Tomcat refused to parse a form. It says so without a cause when a limit is crossed (fields over
     * server.tomcat.max-parameter-count, body over max-http-form-post-size), with one for bad encoding.
     */
    @ExceptionHandler(InvalidParameterException.class)
    ResponseEntity<ProblemDetail> unparsableForm(InvalidParameterException e) {
        if (e.getCause() == null || e.getErrorCode() == HttpStatus.PAYLOAD_TOO_LARGE.value()) {
            return ResponseEntity.status(HttpStatus.PAYLOAD_TOO_LARGE).body(problem(HttpStatus.PAYLOAD_TOO_LARGE, "Request too large",
                    "The request has too many fields or is too large to read (server.tomcat.max-parameter-count, "
                            + "server.tomcat.max-http-form-post-size). Send inputList as one JSON array, or the task as JSON to /api/tasks.", null));
        }
        return ResponseEntity.badRequest().body(problem(HttpStatus.BAD_REQUEST, "Unreadable form",
                "The form's encoding is broken (a bad %-escape or character set); encode it as application/x-www-form-urlencoded.", null));
    }

    @ExceptionHandler(RequestMismatchException.class)
    ProblemDetail mismatch(RequestMismatchException e) {
        return problem(HttpStatus.UNPROCESSABLE_CONTENT, "Request does not match its key", e.getMessage(), null);
    }

    /**
     * Redis failed (down, failing over, redirecting): the client learns that storage is unavailable, not
     * Redis's own words (addresses, keys), which go to the log.
     */
    @ExceptionHandler(DataAccessException.class)
    ResponseEntity<ProblemDetail> redisDown(DataAccessException e) {
        log.error("503 Redis failed: {}", e.getMessage());
        // Retry-After: a Redis restart or a Redis Cluster failover takes seconds.
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
                "Redis, where tasks are kept, cannot be reached right now; a submit was not saved. Retry shortly.");
        problem.setTitle("Storage unavailable");
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header(HttpHeaders.RETRY_AFTER, "2").body(problem);
    }

    @ExceptionHandler(Exception.class)
    ProblemDetail unexpected(Exception e) {
        log.error("Unexpected error", e);
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, "Internal error",
                "The scheduler failed unexpectedly (" + e.getClass().getSimpleName() + "); see its log.", null);
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        // Our own refusals, thrown while the body was read (its size, its items, the seed's id).
        PayloadTooLargeException tooLarge = causeOfType(e, PayloadTooLargeException.class);
        if (tooLarge != null) {
            return ResponseEntity.status(HttpStatus.PAYLOAD_TOO_LARGE).body(tooLarge(tooLarge));
        }
        InputLimits.Exceeded exceeded = causeOfType(e, InputLimits.Exceeded.class);
        if (exceeded != null) {
            ResponseEntity<ProblemDetail> answer = inputLimit(exceeded);
            return ResponseEntity.status(answer.getStatusCode()).body(answer.getBody());
        }
        InvalidTaskException invalid = causeOfType(e, InvalidTaskException.class);
        if (invalid != null) {
            return ResponseEntity.badRequest().body(invalidTask(invalid));
        }
        return ResponseEntity.badRequest().body(unreadable(e));
    }

    private ProblemDetail unreadable(HttpMessageNotReadableException e) {
        UnrecognizedPropertyException unknown = causeOfType(e, UnrecognizedPropertyException.class);
        if (unknown != null) {
            String field = ClientText.shown(unknown.getPropertyName());
            return problem(HttpStatus.BAD_REQUEST, "Unknown field", "Unknown field '" + field + "'; the known fields are "
                    + unknown.getKnownPropertyIds(), List.of(new FieldError(field, "unknown field")));
        }
        MismatchedInputException mismatch = causeOfType(e, MismatchedInputException.class);
        if (mismatch != null) {
            String field = fieldPath(mismatch);
            String expected = mismatch.getTargetType() == null ? "another type" : mismatch.getTargetType().getSimpleName();
            return problem(HttpStatus.BAD_REQUEST, "Wrong type", "Field '" + field + "' has the wrong type: expected "
                    + expected, List.of(new FieldError(field, "expected " + expected)));
        }
        StreamReadException malformed = causeOfType(e, StreamReadException.class);
        if (malformed != null) {
            return problem(HttpStatus.BAD_REQUEST, "Malformed JSON", "The body is not valid JSON: " + ClientText.shown(malformed.getOriginalMessage())
                    + (malformed.getLocation() == null ? "" : " (line " + malformed.getLocation().getLineNr()
                    + ", column " + malformed.getLocation().getColumnNr() + ")"), null);
        }
        return problem(HttpStatus.BAD_REQUEST, "Unreadable request", "The request body is missing or cannot be read as a task.", null);
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        List<FieldError> errors = e.getBindingResult().getFieldErrors().stream()
                .map(f -> new FieldError(f.getField(), f.getDefaultMessage())).toList();
        return ResponseEntity.badRequest().body(problem(HttpStatus.BAD_REQUEST, "Invalid task",
                errors.stream().map(f -> f.field() + ": " + f.message()).reduce((a, b) -> a + "; " + b).orElse("invalid"), errors));
    }

    /** Problems from Spring MVC itself (wrong method, media type, missing parameter...) are logged like ours. */
    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception e, Object body, HttpHeaders headers,
                                                             HttpStatusCode status, WebRequest request) {
        log.warn("{} {}: {}", status.value(), ClientText.shown(request.getDescription(false)), ClientText.shown(e.getMessage()));
        return super.handleExceptionInternal(e, body, headers, status, request);
    }

    private static ProblemDetail problem(HttpStatus status, String title, String detail, List<FieldError> errors) {
        if (status.is5xxServerError()) {
            log.error("{} {}", status.value(), detail);
        } else {
            log.warn("{} {}", status.value(), detail);
        }
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setTitle(title);
        if (errors != null) {
            problem.setProperty("errors", errors.stream().map(f -> Map.of("field", f.field(), "message", f.message())).toList());
        }
        return problem;
    }

    private static String fieldPath(JacksonException e) {
        StringBuilder path = new StringBuilder();
        for (JacksonException.Reference ref : e.getPath()) {
            if (ref.getPropertyName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(ref.getPropertyName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.isEmpty() ? "(body)" : path.toString();
    }

    private static <T extends Throwable> T causeOfType(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
