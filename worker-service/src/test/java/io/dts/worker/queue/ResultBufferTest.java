package io.dts.worker.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import io.dts.model.ItemResult;
import io.dts.testsupport.SettableClock;
import org.junit.jupiter.api.Test;
import org.springframework.dao.QueryTimeoutException;

/** When a slice's results are written: a full batch, or the interval since the last write, and never one twice. */
class ResultBufferTest {

    private static final int BATCH = 3;
    private static final Duration INTERVAL = Duration.ofMillis(200);

    private final SettableClock clock = new SettableClock();
    private final List<List<Long>> written = new ArrayList<>();
    private final ResultBuffer buffer = new ResultBuffer(batch -> written.add(indices(batch)), BATCH, INTERVAL, clock);

    private static ItemResult aResult(long index) {
        return ItemResult.ran(index, "item-" + index, 0, false, "", false, "", false, 1, 1, "w", 0);
    }

    private static List<Long> indices(List<ItemResult> results) {
        return results.stream().map(ItemResult::index).toList();
    }

    private void finish(long... indices) {
        LongStream.of(indices).forEach(index -> {
            buffer.add(aResult(index));
            buffer.flushIfDue();
        });
    }

    @Test
    void results_wait_until_a_batch_is_full_then_go_in_one_write() {
        finish(0, 1);
        assertThat(written).isEmpty();

        finish(2, 3);

        assertThat(written).containsExactly(List.of(0L, 1L, 2L));
    }

    @Test
    void results_below_a_batch_go_once_the_interval_has_passed_since_the_last_write() {
        finish(0);
        clock.advance(INTERVAL.minusMillis(1));
        buffer.flushIfDue();
        assertThat(written).isEmpty();

        clock.advance(Duration.ofMillis(1));
        buffer.flushIfDue();
        finish(1);
        clock.advance(INTERVAL.minusMillis(1));
        buffer.flushIfDue();

        assertThat(written).as("the interval counts from the last write").containsExactly(List.of(0L));
    }

    @Test
    void flush_writes_what_is_left_and_nothing_when_nothing_is_left() {
        finish(0, 1);

        buffer.flush();
        buffer.flush();

        assertThat(written).containsExactly(List.of(0L, 1L));
    }

    @Test
    void a_write_that_fails_keeps_its_results_for_the_next_one() {
        List<List<Long>> tries = new ArrayList<>();
        ResultBuffer failingOnce = new ResultBuffer(batch -> {
            tries.add(indices(batch));
            if (tries.size() == 1) {
                throw new QueryTimeoutException("Redis did not answer");
            }
        }, BATCH, INTERVAL, clock);
        failingOnce.add(aResult(0));

        assertThatThrownBy(failingOnce::flush).isInstanceOf(QueryTimeoutException.class);
        failingOnce.add(aResult(1));
        failingOnce.flush();

        assertThat(tries).containsExactly(List.of(0L), List.of(0L, 1L));
    }
}
