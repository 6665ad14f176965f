package io.dts.scheduler.task.domain;

import io.dts.model.ShardHalt;

/**
 * What a task runs and for whom, fixed when it is accepted: its owner, template, the rendered command,
 * its item count and limits.
 *
 * @param owner who submitted it; {@code null} for a task saved before tasks had owners
 * @param timeoutSeconds per-item limit; {@code null} when the request set none (the worker's default applies)
 * @param halt  when to stop it early; {@code null} for never
 * @param priority 0-9, higher first among waiting items (0 for a task saved before tasks had one)
 * @param maxParallel items of it that may run at once in the cluster; {@code null} for no cap
 * @param ownerRunningLimit items of its owner that may run at once in the cluster, as accepted; {@code null} for none
 */
public record TaskDefinition(
        String owner,
        String templateFunction,
        String command,
        long itemsTotal,
        boolean withoutItems,
        Long timeoutSeconds,
        int maxRetries,
        ShardHalt halt,
        int priority,
        Integer maxParallel,
        Integer ownerRunningLimit) {
}
