package io.dts.scheduler.task.domain;

/** Where the per-item results of tasks are read (Redis), a page at a time. */
public interface TaskResults {

    /**
     * Results of the items {@code [offset, offset + limit)} that have finished, in index order, stopping
     * once they hold {@code maxBytes} (at least one is returned).
     */
    ResultsPage page(String taskId, long offset, int limit, long maxBytes);
}
