package io.dts.scheduler.task.domain;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.dts.scheduler.config.SchedulerProperties;
import org.junit.jupiter.api.Test;
import org.mockito.InOrder;

/** One sweeper at a time, under a lock it renews before each task and gives back. */
class TaskSweeperTest {

    private final TaskStates states = mock(TaskStates.class);
    private final ClusterLock lock = mock(ClusterLock.class);
    private final TaskDispatcher dispatcher = mock(TaskDispatcher.class);
    private final SchedulerProperties properties = TaskDispatcherTest.properties(Map.of("sweep-lease", "10s"));
    private final ShardQueue shardQueue = mock(ShardQueue.class);
    private final ShardQueue.View queue = shards -> false;
    private final TaskSweeper sweeper = new TaskSweeper(states, lock, dispatcher, shardQueue, properties);

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
        when(lock.renew(eq("task-sweeper"), anyString(), eq(Duration.ofSeconds(10)))).thenReturn(true);
        when(states.pendingOlderThan(any(), anyInt())).thenReturn(List.of("p1", "p2"));
        when(states.runningTasks(anyInt())).thenReturn(List.of("r1", "r2"));
        when(shardQueue.view()).thenReturn(queue);

        sweeper.sweep();

        InOrder order = inOrder(dispatcher, states, lock);
        order.verify(dispatcher).dispatch("p1");
        order.verify(dispatcher).dispatch("p2");
        order.verify(dispatcher).reconcile(eq("r1"), any(), any(), eq(queue));
        order.verify(dispatcher).reconcile(eq("r2"), any(), any(), eq(queue));
        order.verify(states).forgetFinishedBefore(properties.retention());
        order.verify(lock).unlock(eq("task-sweeper"), anyString());
        verify(shardQueue).view(); // one look at Kafka a sweep, shared by its tasks
    }

    @Test
    void it_renews_the_lease_before_each_task_and_stops_once_the_lock_is_lost() {
        when(lock.tryLock(anyString(), anyString(), any())).thenReturn(true);
        when(states.pendingOlderThan(any(), anyInt())).thenReturn(List.of("first", "second"));
        // Held for the first task; lost (its lease ran out while a publish waited) before the second.
        when(lock.renew(anyString(), anyString(), any())).thenReturn(true, false);

        sweeper.sweep();

        verify(dispatcher).dispatch("first");
        verify(dispatcher, never()).dispatch("second");
        verify(states, never()).runningTasks(anyInt());
    }

    @Test
    void a_failing_sweep_gives_the_lock_back() {
        when(lock.tryLock(anyString(), anyString(), any())).thenReturn(true);
        when(lock.renew(anyString(), anyString(), any())).thenReturn(true);
        when(states.pendingOlderThan(any(), anyInt())).thenReturn(List.of("p1"));
        doThrow(new IllegalStateException("Redis went away")).when(dispatcher).dispatch("p1");

        sweeper.sweep();

        verify(lock).unlock(anyString(), anyString());
    }
}
