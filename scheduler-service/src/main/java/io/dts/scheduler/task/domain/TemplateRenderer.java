package io.dts.scheduler.task.domain;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.dts.model.InputLimits;
import io.dts.model.ItemPlaceholder;
import io.dts.model.Utf8;
import io.dts.scheduler.config.SchedulerProperties;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Replaces {{name}} placeholders of a template with values from variableJson when a task is accepted,
 * so that a missing value is a 400 at submit time and never a surprise on a worker. {@code {{item}}}
 * is left in place: each worker replaces it with the shell-quoted item. The command's size is counted
 * while it is built, so a value referenced ten thousand times is refused before it takes any memory.
 */
@Component
public class TemplateRenderer {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_.-]*)\\s*}}");

    private final JsonMapper json;
    private final long maxCommandBytes;
    private final InputLimits limits;

    /**
     * @param maxCommandBytes the largest rendered command, in UTF-8 bytes, {{item}} counted as written
     * @param limits          how deep a variable's value may nest
     */
    public TemplateRenderer(JsonMapper json, long maxCommandBytes, InputLimits limits) {
        this.json = json;
        this.maxCommandBytes = maxCommandBytes;
        this.limits = limits;
    }

    @Autowired
    public TemplateRenderer(JsonMapper json, SchedulerProperties properties) {
        this(json, properties.maxCommandSize().toBytes(), properties.inputLimits());
    }

    public String render(String template, JsonNode variableJson) {
        Map<String, String> variables = variables(variableJson);
        Set<String> missing = new LinkedHashSet<>();
        Matcher matcher = PLACEHOLDER.matcher(template);
        StringBuilder rendered = new StringBuilder();
        long bytes = 0;
        int literalFrom = 0;
        while (matcher.find()) {
            String name = matcher.group(1);
            String value = name.equals(ItemPlaceholder.NAME) ? ItemPlaceholder.TOKEN : variables.get(name);
            if (value == null) {
                missing.add("{{" + name + "}}");
                value = matcher.group();
            }
            bytes += Utf8.length(template.substring(literalFrom, matcher.start())) + Utf8.length(value);
            literalFrom = matcher.end();
            if (bytes > maxCommandBytes) {
                throw tooLarge();
            }
            matcher.appendReplacement(rendered, Matcher.quoteReplacement(value));
        }
        if (bytes + Utf8.length(template.substring(literalFrom)) > maxCommandBytes) {
            throw tooLarge();
        }
        matcher.appendTail(rendered);
        if (!missing.isEmpty()) {
            throw new InvalidTaskException("variableJson", "no value for " + String.join(", ", missing)
                    + " used in templateFunction; add them to variableJson");
        }
        if (rendered.indexOf("\0") >= 0) {
            throw new InvalidTaskException("variableJson", "a value holds a NUL byte (\\u0000), which no bash command can hold");
        }
        return rendered.toString();
    }

    private PayloadTooLargeException tooLarge() {
        return new PayloadTooLargeException("The rendered command (templateFunction with the values of variableJson) is over "
                + maxCommandBytes + " bytes (scheduler.max-command-size). Pass large values in a file or as items.");
    }

    /** The variables' values as they go into the command: strings as-is, other values as JSON text. */
    private Map<String, String> variables(JsonNode variableJson) {
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
        limits.checkDepth("variableJson", object);
        if (object.has(ItemPlaceholder.NAME)) {
            throw new InvalidTaskException("variableJson", "'item' is reserved for the per-item value; rename it");
        }
        Map<String, String> variables = new HashMap<>();
        object.properties().forEach(e -> variables.put(e.getKey(),
                e.getValue().isString() ? e.getValue().stringValue() : json.writeValueAsString(e.getValue())));
        return variables;
    }
}
