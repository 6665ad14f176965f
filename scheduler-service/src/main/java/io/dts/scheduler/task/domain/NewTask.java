package io.dts.scheduler.task.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A validated, rendered task ready to be saved as {@code QUEUED}.
 *
 * @param items     the input items as bash will see them; empty for a task without inputList
 * @param retention how long the task and its results are kept once it is finished
 */
public record NewTask(
        String id,
        String templateFunction,
        String command,
        List<String> items,
        long timeoutSeconds,
        int maxRetries,
        Duration retention,
        Instant createdAt) {

    public boolean withoutItems() {
        return items.isEmpty();
    }

    /** A task without items still runs its command once. */
    public long itemsTotal() {
        return withoutItems() ? 1 : items.size();
    }
}
