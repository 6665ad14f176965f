package io.dts.scheduler.task.domain;

import java.util.function.Consumer;

import io.dts.model.ItemResult;

/** Where the per-item results of tasks are read (Redis), a page at a time or all in a stream. */
public interface TaskResults {

    /** Every finished item's result of the first {@code itemsTotal}, in index order, a few at a time: constant memory. */
    void forEach(String taskId, long itemsTotal, Consumer<ItemResult> each);

    /**
     * Results of the items {@code [offset, offset + limit)} that have finished, in index order, stopping
     * once they hold {@code maxBytes} (at least one is returned).
     */
    ResultsPage page(String taskId, long offset, int limit, long maxBytes);
}
