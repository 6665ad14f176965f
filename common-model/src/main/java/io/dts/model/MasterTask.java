package io.dts.model;

import java.util.List;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.annotation.JsonDeserialize;

/**
 * What a client submits: a bash template, the values of its {{placeholders}}, and the items to run it
 * for. See DESIGN.md for the wire format.
 *
 * @param variableJson   a JSON object, or a string holding one; {@code null} means no variables
 * @param inputList      the items as bash gets them: a string item as sent, any other JSON value as its
 *                       compact JSON text (read item by item, see {@link InputListDeserializer})
 * @param timeoutSeconds per-item limit, at most 7 days; {@code null} (the one spelling of "none set", down to the
 *                       worker) takes the worker's {@code worker.default-timeout}
 * @param maxRetries     extra attempts per failed item, at most 100; {@code null} means none
 * @param halt           when to stop early; {@code null} means never
 * @param priority       0-9, higher runs first among waiting items; {@code null} means 0. The highest a caller may
 *                       use depends on its role (the scheduler's {@code scheduler.max-priority.*})
 * @param maxParallel    at most this many of the task's items run at once in the cluster, 1 to 100,000; {@code null}
 *                       means no cap but the slots
 */
public record MasterTask(
        @NotBlank(message = "must be a non-blank bash command") String templateFunction,
        JsonNode variableJson,
        @JsonDeserialize(using = InputListDeserializer.class) List<String> inputList,
        @Positive @Max(MAX_TIMEOUT_SECONDS) Long timeoutSeconds,
        @PositiveOrZero @Max(MAX_RETRIES) Integer maxRetries,
        HaltRule halt,
        @Min(0) @Max(MAX_PRIORITY) Integer priority,
        @Positive @Max(MAX_PARALLEL) Integer maxParallel) {

    public static final long MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;
    public static final int MAX_RETRIES = 100;
    public static final int MAX_PRIORITY = 9;
    public static final int MAX_PARALLEL = 100_000;
}
