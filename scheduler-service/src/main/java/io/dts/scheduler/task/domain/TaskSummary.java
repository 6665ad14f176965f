package io.dts.scheduler.task.domain;

import io.dts.model.TaskStatus;

/**
 * A task in a listing: its status and counts, without its template and command (each up to the
 * command limit), so that a page of a thousand tasks costs kilobytes, not megabytes.
 */
public record TaskSummary(
        String id,
        TaskStatus status,
        long itemsTotal,
        TaskProgress progress,
        TaskTimes times) {
}
