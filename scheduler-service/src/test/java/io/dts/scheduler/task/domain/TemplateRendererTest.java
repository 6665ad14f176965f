package io.dts.scheduler.task.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.StringNode;

class TemplateRendererTest {

    private final JsonMapper json = JsonMapper.builder().build();
    private final TemplateRenderer renderer = new TemplateRenderer(json, 1_000, new io.dts.model.InputLimits(10, 100, 32));

    @Test
    void replaces_placeholders_from_a_variable_json_string() {
        String rendered = renderer.render("convert {{src}}/$1 -resize {{size}} {{ dst }}/$1",
                StringNode.valueOf("{\"src\":\"/in\",\"dst\":\"/out\",\"size\":\"50%\"}"));

        assertThat(rendered).isEqualTo("convert /in/$1 -resize 50% /out/$1");
    }

    @Test
    void renders_non_string_values_as_their_json_text() {
        JsonNode variables = json.readTree("{\"n\":3,\"flag\":true,\"list\":[1,2]}");

        assertThat(renderer.render("x {{n}} {{flag}} {{list}}", variables)).isEqualTo("x 3 true [1,2]");
    }

    @Test
    void leaves_the_item_placeholder_for_the_worker() {
        assertThat(renderer.render("echo {{item}} {{a}}", json.readTree("{\"a\":\"b\"}"))).isEqualTo("echo {{item}} b");
    }

    @Test
    void a_template_without_placeholders_needs_no_variables() {
        assertThat(renderer.render("echo $1", null)).isEqualTo("echo $1");
    }

    @Test
    void names_every_placeholder_without_a_value() {
        assertThatThrownBy(() -> renderer.render("{{a}} {{b}} {{c}}", json.readTree("{\"b\":\"x\"}")))
                .isInstanceOf(InvalidTaskException.class)
                .hasMessageContaining("{{a}}").hasMessageContaining("{{c}}").hasMessageNotContaining("{{b}}");
    }

    @Test
    void refuses_variable_json_that_is_not_an_object() {
        assertThatThrownBy(() -> renderer.render("echo", json.readTree("[1,2]")))
                .isInstanceOf(InvalidTaskException.class).hasMessageContaining("must be a JSON object");
        assertThatThrownBy(() -> renderer.render("echo", StringNode.valueOf("{not json")))
                .isInstanceOf(InvalidTaskException.class).hasMessageContaining("not valid JSON");
    }

    @Test
    void an_expansion_bomb_is_refused_while_rendering_before_the_command_is_built() {
        String template = "{{v}}".repeat(10_000);
        JsonNode variables = json.createObjectNode().put("v", "x".repeat(1_000_000));

        assertThatThrownBy(() -> renderer.render(template, variables))
                .isInstanceOf(PayloadTooLargeException.class).hasMessageContaining("scheduler.max-command-size");
    }

    @Test
    void a_command_of_exactly_the_limit_renders_and_one_byte_more_does_not() {
        JsonNode variables = json.createObjectNode().put("v", "é".repeat(10));

        assertThat(renderer.render("x".repeat(980) + "{{v}}", variables)).hasSize(990);
        assertThatThrownBy(() -> renderer.render("x".repeat(981) + "{{v}}", variables)).isInstanceOf(PayloadTooLargeException.class);
    }

    @Test
    void a_nul_byte_in_a_value_is_a_400_naming_variable_json() {
        assertThatThrownBy(() -> renderer.render("echo {{v}}", json.createObjectNode().put("v", "a\u0000b")))
                .isInstanceOf(InvalidTaskException.class).hasMessageContaining("variableJson").hasMessageContaining("NUL");
    }
}
