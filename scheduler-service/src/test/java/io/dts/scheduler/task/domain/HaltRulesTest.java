package io.dts.scheduler.task.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dts.model.HaltRule;
import io.dts.model.ShardHalt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HaltRulesTest {

    @Test
    void a_count_halts_at_that_many_failures_and_a_percentage_at_its_share_of_the_items_rounded_up() {
        assertThat(HaltRules.of(new HaltRule("soon", 5), 1000)).isEqualTo(new ShardHalt("soon,fail=5", 5, false));
        assertThat(HaltRules.of(new HaltRule("now", "10%"), 25)).isEqualTo(new ShardHalt("now,fail=10%", 3, true));
        assertThat(HaltRules.of(new HaltRule("soon", "0.5%"), 10)).as("at least one").isEqualTo(new ShardHalt("soon,fail=0.5%", 1, false));
        assertThat(HaltRules.of(new HaltRule("soon", "100%"), 7)).isEqualTo(new ShardHalt("soon,fail=100%", 7, false));
        assertThat(HaltRules.of(null, 10)).isNull();
    }

    @Test
    void a_when_other_than_soon_or_now_is_refused_naming_halt_when() {
        assertThatThrownBy(() -> HaltRules.of(new HaltRule("later", 1), 10)).isInstanceOf(InvalidTaskException.class)
                .hasMessageContaining("halt.when");
        assertThatThrownBy(() -> HaltRules.of(new HaltRule(null, 1), 10)).hasMessageContaining("halt.when");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "0%", "100.5%", "101%", "ten", "10", "10 %", "%", "1e3%"})
    void failures_that_are_not_a_positive_count_or_a_percentage_up_to_100_are_refused_naming_halt_failures(String failures) {
        Object value = failures.matches("-?\\d+") ? (Object) Integer.valueOf(failures) : failures;
        if (failures.equals("10")) {
            value = "10"; // a number sent as a string is not a count
        }
        Object sent = value;

        assertThatThrownBy(() -> HaltRules.of(new HaltRule("soon", sent), 10)).isInstanceOf(InvalidTaskException.class)
                .hasMessageContaining("halt.failures");
    }

    @Test
    void a_missing_or_fractional_count_is_refused() {
        assertThatThrownBy(() -> HaltRules.of(new HaltRule("now", null), 10)).hasMessageContaining("halt.failures");
        assertThatThrownBy(() -> HaltRules.of(new HaltRule("now", 2.5), 10)).hasMessageContaining("halt.failures");
    }
}
