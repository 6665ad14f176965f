package io.dts.scheduler.config;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** Settings that could never work are refused when the scheduler starts, not met later. */
class SchedulerPropertiesTest {

    @Test
    void a_command_limit_over_what_linux_lets_one_argument_be_is_refused() {
        assertThatThrownBy(() -> TestSchedulerProperties.with(Map.of("max-command-size", "131072B")))
                .hasRootCauseMessage("scheduler.max-command-size is 131072 bytes; a command over 131071 bytes cannot run on Linux");
    }

    @Test
    void a_sweep_lease_no_longer_than_a_shard_publish_may_wait_is_refused() {
        assertThatThrownBy(() -> TestSchedulerProperties.with(Map.of("sweep-lease", "30s", "shard-publish-timeout", "30s")))
                .rootCause().hasMessageContaining("scheduler.sweep-lease").hasMessageContaining("shard-publish-timeout");
    }
}
