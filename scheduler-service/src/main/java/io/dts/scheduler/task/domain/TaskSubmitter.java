package io.dts.scheduler.task.domain;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executor;

import io.dts.model.TaskStatus;
import io.dts.model.TaskSubmitted;
import io.dts.scheduler.config.PubsubProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;

/**
 * Publishes accepted tasks to Kafka off the request thread, retrying with exponential backoff:
 * {@code RETRYING} while it fails, {@code SUBMITTED} once it succeeds, {@code SUBMISSION_FAILED}
 * after the last attempt. The task is safe in Redis all along, so a client gets its 202 regardless.
 */
@Component
public class TaskSubmitter {

    private static final Logger log = LoggerFactory.getLogger(TaskSubmitter.class);

    private final TaskPublisher publisher;
    private final TaskStates states;
    private final TaskScheduler scheduler;
    private final Executor outcomes;
    private final PubsubProperties pubsub;
    private final Clock clock;

    public TaskSubmitter(TaskPublisher publisher, TaskStates states, TaskScheduler scheduler,
                         @Qualifier("applicationTaskExecutor") Executor outcomes, PubsubProperties pubsub, Clock clock) {
        this.publisher = publisher;
        this.states = states;
        this.scheduler = scheduler;
        this.outcomes = outcomes;
        this.pubsub = pubsub;
        this.clock = clock;
    }

    public void submit(String taskId) {
        scheduler.schedule(() -> attempt(taskId, 1), clock.instant());
    }

    private void attempt(String taskId, int attempt) {
        // Record the outcome off the Kafka producer's I/O thread, which must not wait for Redis.
        publisher.publishTask(new TaskSubmitted(taskId, clock.millis())).whenCompleteAsync((ok, error) -> {
            try {
                if (error == null) {
                    states.transition(taskId, TaskStatus.SUBMITTED, attempt, null);
                } else if (attempt >= pubsub.publishAttempts()) {
                    log.error("Task {} could not be published after {} attempts: {}", taskId, attempt, error.getMessage());
                    states.transition(taskId, TaskStatus.SUBMISSION_FAILED, attempt, "Kafka unreachable: " + error.getMessage());
                } else {
                    Duration backoff = backoff(attempt);
                    log.warn("Task {} publish attempt {} failed ({}); retrying in {} ms", taskId, attempt, error.getMessage(), backoff.toMillis());
                    states.transition(taskId, TaskStatus.RETRYING, attempt, "Kafka unreachable: " + error.getMessage());
                    scheduler.schedule(() -> attempt(taskId, attempt + 1), clock.instant().plus(backoff));
                }
            } catch (RuntimeException e) {
                // Redis is down too; the task stays pending in Redis and a sweeper picks it up later.
                log.error("Task {} publish attempt {}: cannot record the outcome: {}", taskId, attempt, e.getMessage());
            }
        }, outcomes);
    }

    private Duration backoff(int attempt) {
        Duration doubled = pubsub.publishBackoff().multipliedBy(1L << Math.min(attempt - 1, 20));
        return doubled.compareTo(pubsub.publishMaxBackoff()) > 0 ? pubsub.publishMaxBackoff() : doubled;
    }
}
