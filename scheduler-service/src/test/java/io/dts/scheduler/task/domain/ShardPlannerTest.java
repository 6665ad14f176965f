package io.dts.scheduler.task.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import io.dts.scheduler.task.domain.ShardPlanner.Range;
import org.junit.jupiter.api.Test;

class ShardPlannerTest {

    @Test
    void a_task_without_items_still_runs_once_as_one_shard() {
        NewTask withoutItems = new NewTask("t", "alice", "date", "date", List.of(), null, 0, null, 0, null, 0, java.time.Duration.ZERO, java.time.Instant.EPOCH);

        assertThat(withoutItems.itemsTotal()).isEqualTo(1);
        assertThat(ShardPlanner.plan(withoutItems.itemsTotal(), 4)).containsExactly(new Range(0, 1));
    }

    @Test
    void one_item_makes_one_shard_whatever_the_workers() {
        assertThat(ShardPlanner.plan(1, 5)).containsExactly(new Range(0, 1));
    }

    @Test
    void fewer_items_than_workers_gives_one_shard_per_item() {
        assertThat(ShardPlanner.plan(3, 8)).containsExactly(new Range(0, 1), new Range(1, 2), new Range(2, 3));
    }

    @Test
    void an_uneven_split_differs_by_at_most_one_item_and_covers_every_index_once() {
        List<Range> plan = ShardPlanner.plan(100, 3);

        assertThat(plan).containsExactly(new Range(0, 34), new Range(34, 67), new Range(67, 100));
    }

    @Test
    void an_even_split_gives_equal_shards() {
        assertThat(ShardPlanner.plan(100, 2)).containsExactly(new Range(0, 50), new Range(50, 100));
    }

    @Test
    void a_million_items_over_seven_workers_keeps_every_index() {
        List<Range> plan = ShardPlanner.plan(1_000_000, 7);

        assertThat(plan).hasSize(7);
        assertThat(plan.get(0).start()).isZero();
        assertThat(plan.get(6).end()).isEqualTo(1_000_000);
        for (int i = 1; i < plan.size(); i++) {
            assertThat(plan.get(i).start()).isEqualTo(plan.get(i - 1).end());
        }
    }

    @Test
    void zero_items_or_zero_workers_is_a_programming_error() {
        assertThatThrownBy(() -> ShardPlanner.plan(0, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ShardPlanner.plan(5, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
