package io.dts.scheduler.task.domain;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Replaces {{name}} placeholders of a template with values from variableJson when a task is accepted,
 * so that a missing value is a 400 at submit time and never a surprise on a worker. {@code {{item}}}
 * is left in place: each worker replaces it with the shell-quoted item.
 */
public final class TemplateRenderer {

    /** The per-item placeholder, filled in by the worker. */
    public static final String ITEM_PLACEHOLDER = "item";

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_.-]*)\\s*}}");

    private final JsonMapper json;

    public TemplateRenderer(JsonMapper json) {
        this.json = json;
    }

    public String render(String template, JsonNode variableJson) {
        Map<String, JsonNode> variables = variables(variableJson);
        Set<String> missing = new LinkedHashSet<>();
        Matcher matcher = PLACEHOLDER.matcher(template);
        StringBuilder rendered = new StringBuilder();
        while (matcher.find()) {
            String name = matcher.group(1);
            JsonNode value = variables.get(name);
            String replacement;
            if (name.equals(ITEM_PLACEHOLDER)) {
                replacement = "{{item}}";
            } else if (value == null) {
                missing.add("{{" + name + "}}");
                replacement = matcher.group();
            } else {
                replacement = value.isString() ? value.stringValue() : json.writeValueAsString(value);
            }
            matcher.appendReplacement(rendered, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(rendered);
        if (!missing.isEmpty()) {
            throw new InvalidTaskException("variableJson", "no value for " + String.join(", ", missing)
                    + " used in templateFunction; add them to variableJson");
        }
        return rendered.toString();
    }

    private Map<String, JsonNode> variables(JsonNode variableJson) {
        if (variableJson == null || variableJson.isNull() || variableJson.isMissingNode()) {
            return Map.of();
        }
        JsonNode object = variableJson;
        if (variableJson.isString()) {
            if (variableJson.stringValue().isBlank()) {
                return Map.of();
            }
            try {
                object = json.readTree(variableJson.stringValue());
            } catch (JacksonException e) {
                throw new InvalidTaskException("variableJson", "is a string but not valid JSON: " + e.getOriginalMessage());
            }
        }
        if (!object.isObject()) {
            throw new InvalidTaskException("variableJson",
                    "must be a JSON object (or a string holding one), like {\"name\":\"value\"}");
        }
        if (object.has(ITEM_PLACEHOLDER)) {
            throw new InvalidTaskException("variableJson", "'item' is reserved for the per-item value; rename it");
        }
        Map<String, JsonNode> variables = new HashMap<>();
        object.properties().forEach(e -> variables.put(e.getKey(), e.getValue()));
        return variables;
    }
}
