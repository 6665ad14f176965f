package io.dts.scheduler.task.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.StringNode;

class TemplateRendererTest {

    private final JsonMapper json = JsonMapper.builder().build();
    private final TemplateRenderer renderer = new TemplateRenderer(json);

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
}
