package io.dts.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Outcome of running the command for one input item, as stored in Redis and returned by the API.
 *
 * @param item     the input item as passed to bash ({@code null} for a task without inputList)
 * @param exitCode the process exit code; 124 when the item timed out (as coreutils timeout does), 126
 *                 when it could not be started (the reason is in {@code stderr}); none when skipped
 * @param skipped  the item never ran (or was killed) because its task halted; {@code retry-failed} runs it
 */
public record ItemResult(
        long index,
        String item,
        @JsonInclude(JsonInclude.Include.NON_NULL) Integer exitCode,
        boolean timedOut,
        String stdout,
        boolean stdoutTruncated,
        String stderr,
        boolean stderrTruncated,
        long durationMs,
        int attempts,
        String workerId,
        long finishedAt,
        boolean skipped) {

    public static final int TIMEOUT_EXIT_CODE = 124;
    /** As bash says of a command it found but cannot execute. */
    public static final int NOT_STARTED_EXIT_CODE = 126;

    /** A run of an item that finished (or did not finish) as it did. */
    public static ItemResult ran(long index, String item, int exitCode, boolean timedOut, String stdout, boolean stdoutTruncated,
                                 String stderr, boolean stderrTruncated, long durationMs, int attempts, String workerId, long finishedAt) {
        return new ItemResult(index, item, exitCode, timedOut, stdout, stdoutTruncated, stderr, stderrTruncated, durationMs, attempts,
                workerId, finishedAt, false);
    }

    /** An item its halted task never ran, or killed: no exit code, no output. */
    public static ItemResult skipped(long index, String item, String workerId, long finishedAt) {
        return new ItemResult(index, item, null, false, "", false, "", false, 0, 0, workerId, finishedAt, true);
    }

    public boolean succeeded() {
        return !skipped && exitCode != null && exitCode == 0 && !timedOut;
    }
}
