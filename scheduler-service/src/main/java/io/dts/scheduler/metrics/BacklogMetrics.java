package io.dts.scheduler.metrics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import io.dts.model.WorkerHeartbeat;
import io.dts.scheduler.task.domain.TaskStates;
import io.dts.scheduler.task.domain.TaskStore;
import io.dts.scheduler.task.domain.TaskSummary;
import io.dts.scheduler.worker.WorkerDirectory;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The cluster's backlog, for autoscaling workers on it (a KEDA {@code ScaledObject} on a Prometheus query, see
 * docs/kubernetes.md): {@code dts_items_waiting}, the items of unfinished tasks that no worker runs yet, and
 * {@code dts_items_running}, those the live workers' slots run now (their heartbeats). Counted every
 * {@code scheduler.backlog-interval} over the oldest {@value #MAX_TASKS} unfinished tasks, not at each scrape: a
 * scrape costs nothing, and every scheduler exports the same numbers (take their {@code max}).
 */
@Component
public class BacklogMetrics {

    private static final Logger log = LoggerFactory.getLogger(BacklogMetrics.class);
    /** Unfinished tasks counted at most: the oldest sharded ones, then the oldest accepted ones. */
    static final int MAX_TASKS = 10_000;

    private final TaskStates states;
    private final TaskStore store;
    private final WorkerDirectory workers;
    private final AtomicLong waiting = new AtomicLong();
    private final AtomicLong running = new AtomicLong();

    public BacklogMetrics(TaskStates states, TaskStore store, WorkerDirectory workers, MeterRegistry registry) {
        this.states = states;
        this.store = store;
        this.workers = workers;
        Gauge.builder("dts.items.waiting", waiting, AtomicLong::get)
                .description("Items of unfinished tasks not running yet (every scheduler exports the same count)").register(registry);
        Gauge.builder("dts.items.running", running, AtomicLong::get)
                .description("Items the live workers run now, from their heartbeats").register(registry);
    }

    @Scheduled(fixedDelayString = "${scheduler.backlog-interval}")
    void count() {
        try {
            Set<String> unfinished = new LinkedHashSet<>(states.runningTasks(MAX_TASKS));
            if (unfinished.size() < MAX_TASKS) {
                unfinished.addAll(states.pendingOlderThan(Duration.ZERO, MAX_TASKS - unfinished.size()));
            }
            long left = 0;
            for (TaskSummary task : store.summaries(new ArrayList<>(unfinished))) {
                if (!task.status().isTerminal()) {
                    left += Math.max(0, task.itemsTotal() - finished(task));
                }
            }
            long busy = workers.liveWorkers().stream().mapToLong(WorkerHeartbeat::busyThreads).sum();
            running.set(busy);
            waiting.set(Math.max(0, left - busy));
        } catch (RuntimeException e) {
            // Redis away: the gauges keep their last values until the next count.
            log.debug("Could not count the backlog: {}", e.getMessage());
        }
    }

    private static long finished(TaskSummary task) {
        return task.progress().itemsSucceeded() + task.progress().itemsFailed() + task.progress().itemsSkipped();
    }
}
