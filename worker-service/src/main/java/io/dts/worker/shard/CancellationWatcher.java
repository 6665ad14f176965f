package io.dts.worker.shard;

import io.dts.model.TaskStatus;
import io.dts.worker.redis.ShardProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Notices that a task this worker runs was cancelled (or has expired) by reading its status every
 * {@code worker.cancel-check-interval}, and stops it here. Polling Redis, unlike a broadcast message,
 * cannot miss a cancel made while the worker was reconnecting.
 */
@Component
public class CancellationWatcher {

    private static final Logger log = LoggerFactory.getLogger(CancellationWatcher.class);

    private final ShardExecutor executor;
    private final ShardProgress progress;

    public CancellationWatcher(ShardExecutor executor, ShardProgress progress) {
        this.executor = executor;
        this.progress = progress;
    }

    @Scheduled(fixedDelayString = "${worker.cancel-check-interval}")
    public void check() {
        for (String taskId : executor.runningTasks()) {
            try {
                if (progress.status(taskId).map(status -> status == TaskStatus.CANCELLED).orElse(true)) {
                    executor.cancel(taskId);
                }
            } catch (RuntimeException e) {
                log.debug("Task {}: cannot check for cancel now: {}", taskId, e.getMessage());
            }
        }
    }
}
