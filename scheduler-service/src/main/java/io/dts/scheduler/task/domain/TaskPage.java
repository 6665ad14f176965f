package io.dts.scheduler.task.domain;

import java.util.List;

/**
 * One page of a listing, newest first.
 *
 * @param next where the next page starts (a cursor to pass back), or {@code null} when the listing is done
 */
public record TaskPage(List<TaskSummary> tasks, String next) {
}
