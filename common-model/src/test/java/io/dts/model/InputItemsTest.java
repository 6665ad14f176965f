package io.dts.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class InputItemsTest {

    @Test
    void items_come_back_as_added_in_order_through_every_growth() {
        List<String> expected = new ArrayList<>();
        InputItems items = new InputItems();
        for (int i = 0; i < 5_000; i++) {
            String item = switch (i % 4) {
                case 0 -> "";
                case 1 -> "日本語 😀 " + i;
                case 2 -> "x".repeat(i);
                default -> "{\"n\":" + i + "}";
            };
            expected.add(item);
            items.add(item);
        }

        assertThat(items).hasSize(5_000).isEqualTo(expected);
        assertThat(items.get(4_999)).isEqualTo(expected.get(4_999));
        assertThatThrownBy(() -> items.get(5_000)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> items.get(-1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void an_input_list_is_read_into_compact_items_as_bash_gets_them() {
        JsonMapper json = JsonMapper.builder().build();
        MasterTask task = json.readValue("{\"templateFunction\":\"echo\",\"inputList\":[\"a b\",1,{\"k\":[true]},\"\",\"é\"]}", MasterTask.class);

        assertThat(task.inputList()).isInstanceOf(InputItems.class).containsExactly("a b", "1", "{\"k\":[true]}", "", "é");
    }
}
