package io.dts.scheduler.task.domain;

import java.util.List;

import io.dts.model.ItemResult;

/**
 * One page of a task's results.
 *
 * @param results    the finished items of the page, in index order
 * @param nextOffset the first item index the page did not look at, where the next page starts;
 *                   {@code null} when the task has no items past the page
 */
public record ResultsPage(List<ItemResult> results, Long nextOffset) {
}
