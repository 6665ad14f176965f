package io.dts.worker.shard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** What a worker reports as running and what it stops: shards counted per task, a cancel only of a running task, the drain. */
class RunningWorkTest {

    private final RunningWork running = new RunningWork();

    @Test
    void a_task_runs_while_any_of_its_shards_runs() {
        running.shardStarted("a");
        running.shardStarted("a");
        running.shardStarted("b");

        running.shardEnded("a");
        assertThat(running.runningTasks()).containsExactlyInAnyOrder("a", "b");

        running.shardEnded("a");
        assertThat(running.runningTasks()).containsExactly("b");
    }

    @Test
    void only_a_running_task_is_cancelled_and_only_once() {
        assertThat(running.cancel("a")).as("not running here").isFalse();
        running.shardStarted("a");

        assertThat(running.cancel("a")).isTrue();
        assertThat(running.cancel("a")).as("its processes are killed once").isFalse();
        assertThat(running.stopping("a")).isTrue();
        assertThat(running.killed("a")).isTrue();
        assertThat(running.stopping("b")).isFalse();
    }

    @Test
    void a_cancel_is_forgotten_with_the_last_shard_of_its_task() {
        running.shardStarted("a");
        running.shardStarted("a");
        running.cancel("a");

        running.shardEnded("a");
        assertThat(running.cancelled("a")).as("a shard of it still runs").isTrue();
        running.shardEnded("a");

        assertThat(running.cancelled("a")).isFalse();
        assertThat(running.stopping("a")).isFalse();
    }

    @Test
    void a_drain_stops_every_task_but_kills_their_items_only_when_told() {
        running.shardStarted("a");

        running.drain();
        assertThat(running.draining()).isTrue();
        assertThat(running.stopping("a")).isTrue();
        assertThat(running.stopping("any other")).isTrue();
        assertThat(running.killed("a")).as("running items still finish and are recorded").isFalse();

        running.itemsKilled();
        assertThat(running.killed("a")).isTrue();
    }

    @Test
    void what_runs_stays_exact_and_no_cancel_outlives_its_task_under_many_slices_at_once() throws Exception {
        int threads = 16;
        int rounds = 1_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> slices = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String task = "task-" + (t % 4);
                slices.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < rounds; i++) {
                        running.shardStarted(task);
                        running.itemStarted(task, "ann", 0, 0);
                        assertThat(running.runningTasks()).contains(task);
                        running.itemEnded(task);
                        running.cancel(task);
                        running.shardEnded(task);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> slice : slices) {
                slice.get();
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(running.busyThreads()).isZero();
        assertThat(running.runningItems()).isEmpty();
        assertThat(running.runningTasks()).isEmpty();
        assertThat(IntStream.range(0, 4).mapToObj(t -> "task-" + t)).noneMatch(running::cancelled);
    }
}
