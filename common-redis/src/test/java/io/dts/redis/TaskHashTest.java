package io.dts.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import io.dts.model.ShardHalt;
import io.dts.model.ShardPlacement;
import io.dts.model.TaskStatus;
import org.junit.jupiter.api.Test;

/** The task hash's codec: every kind of field is read back as it was put, and absent reads as {@code null}. */
class TaskHashTest {

    @Test
    void each_kind_of_field_reads_back_what_was_put() {
        Map<String, String> hash = new HashMap<>();
        TaskHash.STATUS.put(hash, TaskStatus.INPROGRESS);
        TaskHash.ITEMS_TOTAL.put(hash, 5_000_000_000L);
        TaskHash.WITHOUT_ITEMS.put(hash, true);
        TaskHash.ROUND.put(hash, 3);
        TaskHash.RETENTION.put(hash, Duration.ofDays(7));
        TaskHash.CREATED_AT.put(hash, Instant.ofEpochMilli(1_765_000_000_123L));
        TaskHash.HALTED.put(hash, true);
        Map<Integer, ShardPlacement> placements = Map.of(0, new ShardPlacement(3, 41), 7, new ShardPlacement(0, 9_000_000_000L));
        TaskHash.SHARD_PLACEMENTS.put(hash, placements);

        assertThat(TaskHash.STATUS.from(hash)).isEqualTo(TaskStatus.INPROGRESS);
        assertThat(TaskHash.ITEMS_TOTAL.from(hash)).isEqualTo(5_000_000_000L);
        assertThat(TaskHash.WITHOUT_ITEMS.from(hash)).isTrue();
        assertThat(TaskHash.ROUND.from(hash)).isEqualTo(3);
        assertThat(TaskHash.RETENTION.from(hash)).isEqualTo(Duration.ofDays(7));
        assertThat(TaskHash.CREATED_AT.from(hash)).isEqualTo(Instant.ofEpochMilli(1_765_000_000_123L));
        assertThat(TaskHash.HALTED.from(hash)).isTrue();
        assertThat(TaskHash.SHARD_PLACEMENTS.from(hash)).isEqualTo(placements);
        // Stored as the Lua scripts and older readers expect them.
        assertThat(hash).containsEntry("status", "INPROGRESS").containsEntry("retentionSeconds", "604800")
                .containsEntry("createdAt", "1765000000123").containsEntry("halted", "1");
    }

    @Test
    void an_absent_field_reads_as_null_and_null_is_not_written() {
        Map<String, String> hash = new HashMap<>();
        TaskHash.LAST_ERROR.put(hash, null);
        TaskHash.putHalt(hash, null);

        assertThat(hash).isEmpty();
        assertThat(TaskHash.STATUS.from(hash)).isNull();
        assertThat(TaskHash.FINISHED_AT.from(hash)).isNull();
        assertThat(TaskHash.halt(hash)).isNull();
    }

    @Test
    void no_timeout_is_null_in_code_and_stored_as_the_0_every_version_reads() {
        Map<String, String> hash = new HashMap<>();
        TaskHash.TIMEOUT_SECONDS.put(hash, null);
        assertThat(hash).containsExactly(Map.entry("timeoutSeconds", "0"));
        assertThat(TaskHash.TIMEOUT_SECONDS.from(hash)).isNull();

        TaskHash.TIMEOUT_SECONDS.put(hash, 30L);
        assertThat(TaskHash.TIMEOUT_SECONDS.from(hash)).isEqualTo(30L);
        assertThat(TaskHash.TIMEOUT_SECONDS.from(Map.of())).isNull();
    }

    @Test
    void the_halt_rule_is_two_fields_read_back_as_one() {
        Map<String, String> hash = new HashMap<>();
        TaskHash.putHalt(hash, new ShardHalt("now,fail=3", 3, true));

        assertThat(hash).containsOnlyKeys("haltRule", "haltThreshold");
        assertThat(TaskHash.halt(hash)).isEqualTo(new ShardHalt("now,fail=3", 3, true));
    }
}
