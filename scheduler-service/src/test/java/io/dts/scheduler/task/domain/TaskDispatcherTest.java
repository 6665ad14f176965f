package io.dts.scheduler.task.domain;

import static io.dts.scheduler.task.domain.Tasks.aTask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.contains;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import io.dts.model.ShardPlacement;
import io.dts.model.TaskShard;
import io.dts.model.TaskStatus;
import io.dts.model.WorkerHeartbeat;
import io.dts.scheduler.config.SchedulerProperties;
import io.dts.scheduler.config.TestSchedulerProperties;
import io.dts.scheduler.worker.WorkerDirectory;
import io.dts.testsupport.SettableClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Sharding and reconciling, as pure decisions over the ports (the Redis and Kafka sides have contract tests of their own). */
class TaskDispatcherTest {

    private static final Instant NOW = Instant.parse("2026-01-01T00:10:00Z");
    private static final ShardQueue.View NOTHING_WAITS = shards -> false;

    private final TaskStore store = mock(TaskStore.class);
    private final TaskStates states = mock(TaskStates.class);
    private final WorkerDirectory workers = mock(WorkerDirectory.class);
    private final List<Sent> sent = new ArrayList<>();
    private final SettableClock clock = new SettableClock(NOW);
    private TaskDispatcher dispatcher;

    private record Sent(TaskShard shard, Integer partition) {
    }

    static SchedulerProperties properties(Map<String, String> overrides) {
        return TestSchedulerProperties.with(overrides);
    }

    private static WorkerHeartbeat worker(String id, int partition, String... running) {
        return new WorkerHeartbeat(id, id + "-instance", "host", 1, 2, 0, 0, 0, List.of(partition), List.of(running), Map.of(), List.of());
    }

    /** Live, but Kafka has not assigned it partitions yet. */
    private static WorkerHeartbeat joining(String id) {
        return new WorkerHeartbeat(id, id + "-instance", "host", 1, 2, 0, 0, 0, List.of(), List.of(), Map.of(), List.of());
    }

    /** Records what it is given; each shard lands at the next offset of its partition. */
    private final TaskPublisher publisher = new TaskPublisher() {
        @Override
        public CompletableFuture<Void> publishTask(io.dts.model.TaskSubmitted task) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<ShardPlacement> publishShard(TaskShard shard, int partition) {
            sent.add(new Sent(shard, partition));
            return CompletableFuture.completedFuture(new ShardPlacement(partition, 100L + sent.size()));
        }
    };

    @BeforeEach
    void dispatcher() {
        dispatcher = new TaskDispatcher(store, states, workers, publisher, properties(Map.of()), clock);
    }

    @Test
    void shards_an_accepted_task_over_the_live_workers_each_on_its_own_partition() {
        Task task = aTask().items(10).build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 3), worker("w2", 7)));
        when(states.startSharding(task.id(), 2)).thenReturn(true);

        dispatcher.dispatch(task.id());

        assertThat(sent).extracting(s -> s.shard().shardIndex()).containsExactly(0, 1);
        assertThat(sent).extracting(Sent::partition).as("one shard per worker").containsExactlyInAnyOrder(3, 7);
        assertThat(sent).extracting(s -> s.shard().endIndex() - s.shard().startIndex()).containsExactly(5L, 5L);
        verify(store).markShardsPublished(task.id(), Map.of(0, new ShardPlacement(3, 101), 1, new ShardPlacement(7, 102)));
    }

    @Test
    void with_several_shards_per_worker_the_ranges_are_dealt_round_robin_so_neighbouring_items_spread_over_the_workers() {
        TaskDispatcher fourPerWorker = new TaskDispatcher(store, states, workers, publisher, properties(Map.of("shards-per-worker", "4")), clock);
        Task task = aTask().items(40).build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 3), worker("w2", 7)));
        when(states.startSharding(task.id(), 8)).thenReturn(true);

        fourPerWorker.dispatch(task.id());

        assertThat(sent).extracting(s -> s.shard().endIndex() - s.shard().startIndex()).containsOnly(5L).hasSize(8);
        // Items 0-19 (say, the slow half) are shards 0-3: two on each worker.
        Map<Integer, Long> firstHalf = sent.stream().filter(s -> s.shard().startIndex() < 20)
                .collect(java.util.stream.Collectors.groupingBy(Sent::partition, java.util.stream.Collectors.counting()));
        assertThat(firstHalf).containsOnlyKeys(3, 7).allSatisfy((partition, shards) -> assertThat(shards).isEqualTo(2L));
    }

    @Test
    void one_item_tasks_spread_over_every_live_worker_instead_of_all_going_to_the_first() {
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 3), worker("w2", 7), worker("w3", 11)));
        when(states.startSharding(anyString(), eq(1))).thenReturn(true);
        for (int i = 0; i < 300; i++) {
            Task task = aTask().items(1).build();
            when(store.find(task.id())).thenReturn(Optional.of(task));
            dispatcher.dispatch(task.id());
        }

        Map<Integer, Long> perPartition = sent.stream().collect(java.util.stream.Collectors.groupingBy(Sent::partition,
                java.util.stream.Collectors.counting()));
        assertThat(perPartition).as("300 one-item tasks over 3 workers").containsOnlyKeys(3, 7, 11)
                .allSatisfy((partition, shards) -> assertThat(shards).isEqualTo(100L));
    }

    @Test
    void a_task_without_a_live_worker_waits_visibly_and_is_not_sharded() {
        Task task = aTask().build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(workers.liveWorkers()).thenReturn(List.of());

        dispatcher.dispatch(task.id());

        verify(states).markWaiting(eq(task.id()), anyString());
        verify(states, never()).startSharding(anyString(), anyInt());
        assertThat(sent).isEmpty();
    }

    @Test
    void a_worker_that_holds_no_shard_partition_yet_is_not_split_over() {
        Task task = aTask().items(10).build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 3), joining("w2")));
        when(states.startSharding(task.id(), 1)).thenReturn(true);

        dispatcher.dispatch(task.id());

        assertThat(sent).extracting(Sent::partition).as("its shard would go to w1's partition anyway").containsExactly(3);
    }

    @Test
    void a_task_waits_visibly_while_no_live_worker_holds_a_shard_partition() {
        Task task = aTask().build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(workers.liveWorkers()).thenReturn(List.of(joining("w1"), joining("w2")));

        dispatcher.dispatch(task.id());

        verify(states).markWaiting(eq(task.id()), contains("partition"));
        verify(states, never()).startSharding(anyString(), anyInt());
        assertThat(sent).isEmpty();
    }

    @Test
    void a_task_another_scheduler_sharded_first_is_not_published_twice() {
        Task task = aTask().build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 0)));
        when(states.startSharding(anyString(), anyInt())).thenReturn(false);

        dispatcher.dispatch(task.id());

        assertThat(sent).isEmpty();
    }

    @Test
    void a_listed_task_that_is_gone_or_no_longer_waiting_gets_its_indexes_repaired() {
        Task running = aTask().status(TaskStatus.INPROGRESS).build();
        when(store.find("gone")).thenReturn(Optional.empty());
        when(store.find(running.id())).thenReturn(Optional.of(running));

        dispatcher.dispatch("gone");
        dispatcher.dispatch(running.id());

        verify(states).repair("gone");
        verify(states).repair(running.id());
        assertThat(sent).isEmpty();
    }

    @Test
    void reconcile_republishes_only_the_unfinished_shards_of_a_task_whose_shards_were_not_all_published() {
        Task task = aTask().status(TaskStatus.INPROGRESS).items(9).shards(3).shardsPublished(false)
                .updatedAt(NOW.minusSeconds(20)).build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(store.doneShards(task.id())).thenReturn(Set.of(1));
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 0)));

        dispatcher.reconcile(task.id(), Duration.ofSeconds(15), Duration.ofMinutes(2), NOTHING_WAITS);

        assertThat(sent).extracting(s -> s.shard().shardIndex()).containsExactly(0, 2);
    }

    @Test
    void reconcile_leaves_a_published_task_that_a_live_worker_runs_alone_however_long_it_is_idle() {
        Task task = aTask().status(TaskStatus.INPROGRESS).shards(1).shardsPublished(true).updatedAt(NOW.minusSeconds(600)).build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 0, task.id())));

        dispatcher.reconcile(task.id(), Duration.ofSeconds(15), Duration.ofMinutes(2), NOTHING_WAITS);
        clock.advance(Duration.ofHours(1));
        dispatcher.reconcile(task.id(), Duration.ofSeconds(15), Duration.ofMinutes(2), NOTHING_WAITS);

        assertThat(sent).isEmpty();
    }

    @Test
    void reconcile_republishes_a_stalled_task_that_no_live_worker_runs() {
        Task task = aTask().status(TaskStatus.INPROGRESS).shards(1).shardsPublished(true).updatedAt(NOW.minusSeconds(121)).build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(store.doneShards(task.id())).thenReturn(Set.of());
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 0)));

        dispatcher.reconcile(task.id(), Duration.ofSeconds(15), Duration.ofMinutes(2), NOTHING_WAITS);

        assertThat(sent).hasSize(1);
    }

    @Test
    void reconcile_leaves_a_stalled_looking_task_alone_while_kafka_says_its_unfinished_shards_still_wait_for_a_worker() {
        ShardPlacement done = new ShardPlacement(3, 41), unfinished = new ShardPlacement(7, 40);
        Task task = aTask().status(TaskStatus.INPROGRESS).shards(2).shardsPublished(true).updatedAt(NOW.minusSeconds(600))
                .shardPlacements(Map.of(0, done, 1, unfinished)).build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(store.doneShards(task.id())).thenReturn(Set.of(0));
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 3), worker("w2", 7)));
        List<List<ShardPlacement>> asked = new ArrayList<>();
        ShardQueue.View behindABacklog = shards -> asked.add(List.copyOf(shards)) && shards.contains(unfinished);

        dispatcher.reconcile(task.id(), Duration.ofSeconds(15), Duration.ofMinutes(2), behindABacklog);

        assertThat(asked).as("a done shard may wait in Kafka's order behind others: only the unfinished one is asked about")
                .containsExactly(List.of(unfinished));
        assertThat(sent).as("10 min without progress, but shard 40 of partition 7 is not finished yet: slow, not lost").isEmpty();

        dispatcher.reconcile(task.id(), Duration.ofSeconds(15), Duration.ofMinutes(2), NOTHING_WAITS);

        assertThat(sent).as("once Kafka says nothing waits, its unfinished shard is published again")
                .extracting(s -> s.shard().shardIndex()).containsExactly(1);
    }

    @Test
    void reconcile_leaves_a_task_whose_last_shard_was_done_since_it_was_read() {
        Task task = aTask().status(TaskStatus.INPROGRESS).shards(2).shardsPublished(true).updatedAt(NOW.minusSeconds(600)).build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(store.doneShards(task.id())).thenReturn(Set.of(0, 1));
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 0)));

        dispatcher.reconcile(task.id(), Duration.ofSeconds(15), Duration.ofMinutes(2), NOTHING_WAITS);

        assertThat(sent).isEmpty();
        verify(store, never()).markShardsPublished(any(), any());
    }

    @Test
    void reconcile_publishes_a_stalled_task_again_once_per_stall_timeout_not_at_every_sweep() {
        Task task = aTask().status(TaskStatus.INPROGRESS).shards(1).updatedAt(NOW.minusSeconds(600))
                .shardsPublishedAt(NOW.minusSeconds(10)).build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 0)));

        dispatcher.reconcile(task.id(), Duration.ofSeconds(15), Duration.ofMinutes(2), NOTHING_WAITS);

        assertThat(sent).as("published 10 s ago: its shards may still wait behind others in Kafka").isEmpty();
    }

    @Test
    void reconcile_repairs_a_finished_task_still_listed_as_running() {
        Task finished = aTask().status(TaskStatus.COMPLETED).build();
        when(store.find(finished.id())).thenReturn(Optional.of(finished));

        dispatcher.reconcile(finished.id(), Duration.ofSeconds(15), Duration.ofMinutes(2), NOTHING_WAITS);

        verify(states).repair(finished.id());
        verify(workers, never()).liveWorkers();
    }

    @Test
    void shards_not_taken_by_kafka_in_time_are_left_to_the_sweeper() {
        Task task = aTask().build();
        when(store.find(task.id())).thenReturn(Optional.of(task));
        when(workers.liveWorkers()).thenReturn(List.of(worker("w1", 0)));
        when(states.startSharding(anyString(), anyInt())).thenReturn(true);
        dispatcher = new TaskDispatcher(store, states, workers, new TaskPublisher() {
            @Override
            public CompletableFuture<Void> publishTask(io.dts.model.TaskSubmitted submitted) {
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public CompletableFuture<ShardPlacement> publishShard(TaskShard shard, int partition) {
                return new CompletableFuture<>(); // never acknowledged
            }
        }, properties(Map.of("shard-publish-timeout", "50ms")), clock);

        dispatcher.dispatch(task.id());

        verify(store, never()).markShardsPublished(any(), any());
    }
}
