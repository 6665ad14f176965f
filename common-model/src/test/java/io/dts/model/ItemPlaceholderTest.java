package io.dts.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class ItemPlaceholderTest {

    @Test
    void the_expanded_size_is_counted_exactly_without_building_the_command() {
        String command = "cp {{item}} /out/{{item}}.bak # é";
        for (String item : new String[] {"a", "it's", "'''", "日本語 😀", ""}) {
            int built = ItemPlaceholder.expand(command, item).getBytes(StandardCharsets.UTF_8).length;

            assertThat(ItemPlaceholder.expandedBytes(command, item)).as(item).isEqualTo(built);
        }
    }

    @Test
    void a_quoted_item_is_one_word_and_a_task_without_items_keeps_its_command() {
        assertThat(ItemPlaceholder.quote("it's")).isEqualTo("'it'\\''s'");
        assertThat(ItemPlaceholder.expand("echo {{item}}", null)).isEqualTo("echo {{item}}");
        assertThat(ItemPlaceholder.occurrences("{{item}}{{item}} {{ item}}")).isEqualTo(2);
    }
}
