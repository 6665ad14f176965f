package io.dts.scheduler.task.domain;

import java.time.Instant;

/** When a task was created, last changed and finished ({@code null} until it is). */
public record TaskTimes(Instant createdAt, Instant updatedAt, Instant finishedAt) {
}
