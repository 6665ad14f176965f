package io.dts.scheduler.task.domain;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.dts.scheduler.config.SchedulerProperties;
import org.junit.jupiter.api.Test;
import org.mockito.InOrder;

/** One sweeper at a time, under a lock it gives back, and never past half its lease. */
class TaskSweeperTest {

    private final TaskStates states = mock(TaskStates.class);
    private final ClusterLock lock = mock(ClusterLock.class);
    private final TaskDispatcher dispatcher = mock(TaskDispatcher.class);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    /** A 10 s lease: the sweep starts no task after 5 s. */
    private final SchedulerProperties properties = TaskDispatcherTest.properties(Map.of("sweep-lease", "10s"));
    private final TaskSweeper sweeper = new TaskSweeper(states, lock, dispatcher, properties, clock);

    @Test
    void without_the_lock_it_touches_nothing() {
        when(lock.tryLock(anyString(), anyString(), any())).thenReturn(false);

        sweeper.sweep();

        verifyNoInteractions(states, dispatcher);
        verify(lock, never()).unlock(anyString(), anyString());
    }

    @Test
    void with_the_lock_it_shards_pending_tasks_reconciles_running_ones_and_gives_the_lock_back() {
        when(lock.tryLock(eq("task-sweeper"), anyString(), eq(Duration.ofSeconds(10)))).thenReturn(true);
        when(states.pendingOlderThan(any(), anyInt())).thenReturn(List.of("p1", "p2"));
        when(states.runningTasks(anyInt())).thenReturn(List.of("r1"));

        sweeper.sweep();

        InOrder order = inOrder(dispatcher, states, lock);
        order.verify(dispatcher).dispatch("p1");
        order.verify(dispatcher).dispatch("p2");
        order.verify(dispatcher).reconcile(eq("r1"), any(), any());
        order.verify(states).forgetFinishedBefore(properties.retention());
        order.verify(lock).unlock(eq("task-sweeper"), anyString());
    }

    @Test
    void it_starts_no_task_past_half_its_lease_and_still_gives_the_lock_back() {
        when(lock.tryLock(anyString(), anyString(), any())).thenReturn(true);
        when(states.pendingOlderThan(any(), anyInt())).thenReturn(List.of("slow", "next"));
        doAnswer(call -> {
            clock.advance(Duration.ofSeconds(6)); // a shard publish that waited for Kafka
            return null;
        }).when(dispatcher).dispatch("slow");

        sweeper.sweep();

        verify(dispatcher, never()).dispatch("next");
        verify(states, never()).runningTasks(anyInt());
        verify(lock).unlock(anyString(), anyString());
    }

    @Test
    void a_failing_sweep_gives_the_lock_back() {
        when(lock.tryLock(anyString(), anyString(), any())).thenReturn(true);
        when(states.pendingOlderThan(any(), anyInt())).thenReturn(List.of("p1"));
        doThrow(new IllegalStateException("Redis went away")).when(dispatcher).dispatch("p1");

        sweeper.sweep();

        verify(lock).unlock(anyString(), anyString());
    }
}
