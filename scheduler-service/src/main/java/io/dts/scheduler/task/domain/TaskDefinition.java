package io.dts.scheduler.task.domain;

/** What a task runs, fixed when it is accepted: its template, the rendered command, its item count and limits. */
public record TaskDefinition(
        String templateFunction,
        String command,
        long itemsTotal,
        boolean withoutItems,
        long timeoutSeconds,
        int maxRetries) {
}
