package io.dts.scheduler.task.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.dts.scheduler.task.api.TaskView;

/**
 * One event of a task's stream: the task as the API shows it, and what only a live view knows.
 *
 * @param itemsPerSecond items finished per second since the stream began
 * @param etaSeconds     the pending items at that rate; absent until there is a rate
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LiveTask(@JsonUnwrapped TaskView task, double itemsPerSecond, Long etaSeconds) {
}
