package io.dts.model;

/**
 * Outcome of running the command for one input item, as stored in Redis and returned by the API.
 *
 * @param item     the input item as passed to bash ({@code null} for a task without inputList)
 * @param exitCode the process exit code; 124 when the item timed out (as coreutils timeout does), 126
 *                 when it could not be started (the reason is in {@code stderr})
 */
public record ItemResult(
        long index,
        String item,
        int exitCode,
        boolean timedOut,
        String stdout,
        boolean stdoutTruncated,
        String stderr,
        boolean stderrTruncated,
        long durationMs,
        int attempts,
        String workerId,
        long finishedAt) {

    public static final int TIMEOUT_EXIT_CODE = 124;
    /** As bash says of a command it found but cannot execute. */
    public static final int NOT_STARTED_EXIT_CODE = 126;

    public boolean succeeded() {
        return exitCode == 0 && !timedOut;
    }
}
