package io.dts.scheduler.task.api;

import java.util.List;
import java.util.Map;

import io.dts.scheduler.task.domain.InvalidTaskException;
import io.dts.scheduler.task.domain.InvalidTaskException.FieldError;
import io.dts.scheduler.task.domain.PayloadTooLargeException;
import io.dts.scheduler.task.domain.RequestMismatchException;
import io.dts.scheduler.task.domain.TaskConflictException;
import io.dts.scheduler.task.domain.TaskNotFoundException;
import org.apache.tomcat.util.http.InvalidParameterException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.data.redis.connection.RedisPipelineException;
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
        HttpStatus status = e.getCause() == null || e.getErrorCode() == HttpStatus.PAYLOAD_TOO_LARGE.value()
                ? HttpStatus.PAYLOAD_TOO_LARGE : HttpStatus.BAD_REQUEST;
        return ResponseEntity.status(status).body(problem(status, status == HttpStatus.PAYLOAD_TOO_LARGE ? "Request too large" : "Unreadable form",
                "The form has too many fields or is too large to read (server.tomcat.max-parameter-count, "
                        + "server.tomcat.max-http-form-post-size). Send inputList as one JSON array, or the task as JSON to /api/tasks.", null));
    }

    @ExceptionHandler(RequestMismatchException.class)
    ProblemDetail mismatch(RequestMismatchException e) {
        return problem(HttpStatus.UNPROCESSABLE_CONTENT, "Request does not match its key", e.getMessage(), null);
    }

    /** A body read by hand (the original create path's seed fields) fails like one Spring MVC reads. */
    @ExceptionHandler(JacksonException.class)
    ProblemDetail unreadableJson(JacksonException e) {
        return unreadable(e);
    }

    @ExceptionHandler({RedisConnectionFailureException.class, DataAccessResourceFailureException.class, QueryTimeoutException.class,
            RedisSystemException.class, RedisPipelineException.class})
    ResponseEntity<ProblemDetail> redisDown(RuntimeException e) {
        // The client learns that storage is down, not Redis's own words (addresses, keys): those go to the log.
        log.error("Redis failed: {}", e.getMessage());
        // Retry-After: a Redis restart or a Redis Cluster failover takes seconds.
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header(HttpHeaders.RETRY_AFTER, "2")
                .body(problem(HttpStatus.SERVICE_UNAVAILABLE, "Storage unavailable",
                        "Redis, where tasks are kept, cannot be reached right now; nothing was saved. Retry shortly.", null));
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
        PayloadTooLargeException tooLarge = causeOfType(e, PayloadTooLargeException.class);
        if (tooLarge != null) {
            return ResponseEntity.status(HttpStatus.PAYLOAD_TOO_LARGE).body(tooLarge(tooLarge));
        }
        return ResponseEntity.badRequest().body(unreadable(e));
    }

    private ProblemDetail unreadable(Exception e) {
        UnrecognizedPropertyException unknown = causeOfType(e, UnrecognizedPropertyException.class);
        if (unknown != null) {
            String field = unknown.getPropertyName();
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
            return problem(HttpStatus.BAD_REQUEST, "Malformed JSON", "The body is not valid JSON: " + malformed.getOriginalMessage()
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
        log.warn("{} {}: {}", status.value(), request.getDescription(false), e.getMessage());
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
