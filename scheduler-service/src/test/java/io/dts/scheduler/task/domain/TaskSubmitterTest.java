package io.dts.scheduler.task.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.dts.model.ShardPlacement;
import io.dts.model.TaskShard;
import io.dts.model.TaskStatus;
import io.dts.model.TaskSubmitted;
import io.dts.scheduler.config.PubsubProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mockito.Mockito;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/** The publish retry policy, with a broker that fails on purpose (the real outage is in the end-to-end tests). */
class TaskSubmitterTest {

    private final ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
    private final TaskStates states = Mockito.mock(TaskStates.class);
    private final List<String> transitions = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        scheduler.shutdown();
    }

    private TaskSubmitter submitter(int failuresBeforeSuccess) {
        scheduler.initialize();
        Mockito.when(states.transition(Mockito.anyString(), Mockito.any(), Mockito.anyInt(), Mockito.any())).thenAnswer(call -> {
            transitions.add(call.getArgument(1) + "#" + call.getArgument(2));
            return true;
        });
        AtomicInteger calls = new AtomicInteger();
        TaskPublisher publisher = new TaskPublisher() {
            @Override
            public CompletableFuture<Void> publishTask(TaskSubmitted task) {
                return calls.incrementAndGet() <= failuresBeforeSuccess
                        ? CompletableFuture.failedFuture(new IllegalStateException("broker down"))
                        : CompletableFuture.completedFuture(null);
            }

            @Override
            public CompletableFuture<ShardPlacement> publishShard(TaskShard shard, int partition) {
                throw new UnsupportedOperationException();
            }
        };
        PubsubProperties pubsub = new PubsubProperties("k", "t", new PubsubProperties.Topic("s"), new PubsubProperties.Topic("r"),
                "g", 1, "w", 1, 1, (short) 1, 1, 10, Duration.ofMillis(1), Duration.ofMillis(4));
        return new TaskSubmitter(publisher, states, scheduler, Runnable::run, pubsub, Clock.systemUTC());
    }

    @Test
    void a_task_is_retrying_while_kafka_fails_and_submitted_once_it_answers() {
        submitter(3).submit("t1");

        await().atMost(Duration.ofSeconds(5)).until(() -> transitions.contains(TaskStatus.SUBMITTED + "#4"));
        assertThat(transitions).containsExactly("RETRYING#1", "RETRYING#2", "RETRYING#3", "SUBMITTED#4");
    }

    @Test
    void after_the_tenth_failed_attempt_the_task_is_submission_failed() {
        submitter(Integer.MAX_VALUE).submit("t2");

        await().atMost(Duration.ofSeconds(5)).until(() -> transitions.contains(TaskStatus.SUBMISSION_FAILED + "#10"));
        assertThat(transitions).hasSize(10).endsWith("SUBMISSION_FAILED#10").allMatch(t -> !t.startsWith("SUBMITTED"));
    }
}
