package io.dts.scheduler.task.domain;

import io.dts.model.TaskStatus;

/**
 * A task in a listing: its status and counts, without its template and command (each up to the
 * command limit), so that a page of a thousand tasks costs kilobytes, not megabytes.
 *
 * @param owner who submitted it; {@code null} for a task saved before tasks had owners
 */
public record TaskSummary(
        String id,
        TaskStatus status,
        String owner,
        long itemsTotal,
        TaskProgress progress,
        TaskTimes times) {
}
