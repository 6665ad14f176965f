package io.dts.worker.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import io.dts.model.TaskShard;
import io.dts.worker.redis.ShardProgress.Scheduling;
import io.dts.worker.queue.ItemQueue.Item;
import io.dts.worker.queue.ItemQueue.Turn;
import io.dts.worker.queue.ItemQueue.Waiting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which waiting item a free slot takes: priority, then fair share between owners, then round robin between tasks. */
class ItemQueueTest {

    private final Map<String, Double> elsewhere = new HashMap<>();
    private final ItemQueue queue = new ItemQueue(Clock.systemUTC(), owner -> elsewhere.getOrDefault(owner, 0.0));

    @AfterEach
    void close() {
        queue.close();
    }

    private Waiting aShard(String task, Scheduling scheduling, int items) {
        Waiting run = queue.open(new TaskShard(task, 0, 1, 0, items, "true", false, null, 0, 1, null), scheduling, item -> { });
        IntStream.range(0, items).forEach(i -> queue.offer(run, new Item(i, task + "-" + i)));
        queue.allOffered(run);
        return run;
    }

    private static Scheduling of(String owner) {
        return new Scheduling(owner, 0, null, null);
    }

    /** Takes {@code n} items without ending any: what {@code n} free slots would run. */
    private List<String> take(int n) {
        List<String> taken = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            taken.add(queue.take().item().value());
        }
        return taken;
    }

    @Test
    void a_one_item_task_that_comes_after_a_long_one_runs_at_the_next_free_slot() {
        aShard("long", of("ann"), 50);
        assertThat(take(2)).containsExactly("long-0", "long-1");

        aShard("small", of("ann"), 1);

        assertThat(take(1)).containsExactly("small-0");
    }

    @Test
    void a_tasks_shards_not_served_yet_start_in_index_order_whatever_order_they_came_in() {
        Scheduling ann = of("ann");
        for (int shard : new int[] {2, 0, 1}) {
            Waiting run = queue.open(new TaskShard("task", shard, 3, shard * 10L, shard * 10L + 1, "true", false, null, 0, 1, null), ann,
                    item -> { });
            queue.offer(run, new Item(shard * 10L, "item-" + shard * 10));
            queue.allOffered(run);
        }

        assertThat(take(3)).containsExactly("item-0", "item-10", "item-20");
    }

    @Test
    void higher_priority_items_are_taken_first_whatever_came_first() {
        aShard("low", new Scheduling("ann", 0, null, null), 3);
        aShard("high", new Scheduling("bob", 7, null, null), 2);

        assertThat(take(4)).containsExactly("high-0", "high-1", "low-0", "low-1");
    }

    @Test
    void two_owners_get_equal_slots_whatever_the_number_of_tasks_each_has() {
        aShard("ann-1", of("ann"), 10);
        aShard("ann-2", of("ann"), 10);
        aShard("ann-3", of("ann"), 10);
        aShard("bob-1", of("bob"), 10);

        List<String> taken = take(8);

        assertThat(taken.stream().filter(item -> item.startsWith("bob"))).hasSize(4);
        assertThat(taken.stream().filter(item -> item.startsWith("ann"))).as("round robin between ann's tasks")
                .contains("ann-1-0", "ann-2-0", "ann-3-0");
    }

    @Test
    void an_owner_with_items_running_on_other_workers_waits_for_the_one_without() {
        elsewhere.put("ann", 3.0);
        aShard("ann-1", of("ann"), 10);
        aShard("bob-1", of("bob"), 10);

        assertThat(take(4)).containsExactly("bob-1-0", "bob-1-1", "bob-1-2", "ann-1-0");
    }

    @Test
    void a_task_at_its_max_parallel_here_lets_other_tasks_take_the_free_slots() {
        aShard("capped", new Scheduling("ann", 9, 2, null), 10);
        aShard("other", of("bob"), 10);

        List<Turn> turns = IntStream.range(0, 4).mapToObj(i -> queue.take()).toList();

        assertThat(turns).extracting(turn -> turn.item().value()).containsExactly("capped-0", "capped-1", "other-0", "other-1");
        queue.ended(turns.get(0));
        assertThat(take(1)).as("a slot of the capped task freed").containsExactly("capped-2");
    }

    @Test
    void an_item_put_back_waits_its_pause_then_is_taken_before_the_shards_next_ones() throws Exception {
        aShard("capped", new Scheduling("ann", 0, 5, null), 3);
        Turn first = queue.take();

        long before = System.nanoTime();
        queue.putBack(first, 300);
        Turn again = CompletableFuture.supplyAsync(queue::take).get(5, TimeUnit.SECONDS);

        assertThat(again.item().value()).isEqualTo("capped-0");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before)).isGreaterThanOrEqualTo(250);
    }

    @Test
    void a_shard_is_done_once_every_offered_item_ran_and_its_dropped_items_never_run() throws Exception {
        Waiting run = aShard("task", of("ann"), 5);
        Turn running = queue.take();
        CompletableFuture<Void> done = CompletableFuture.runAsync(() -> queue.awaitDone(run));

        queue.drop(run);
        Thread.sleep(100);
        assertThat(done).as("an item still runs").isNotDone();
        queue.ended(running);

        done.get(5, TimeUnit.SECONDS);
        aShard("next", of("ann"), 1);
        assertThat(take(1)).containsExactly("next-0");
    }

    @Test
    void a_shard_reads_ahead_only_a_few_items_however_many_it_has() throws Exception {
        Waiting run = queue.open(new TaskShard("big", 0, 1, 0, 1_000_000, "true", false, null, 0, 1, null), of("ann"), item -> { });
        CompletableFuture<Integer> offered = CompletableFuture.supplyAsync(() -> {
            int i = 0;
            while (queue.offer(run, new Item(i, "big-" + i))) {
                i++;
            }
            return i;
        });

        Thread.sleep(200);
        assertThat(offered).as("the coordinator waits for slots to take items").isNotDone();
        queue.drop(run);
        assertThat(offered.get(5, TimeUnit.SECONDS)).isLessThanOrEqualTo(64);
    }
}
