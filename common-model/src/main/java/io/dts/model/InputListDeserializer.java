package io.dts.model;

import java.util.List;

import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ValueDeserializer;

/**
 * Reads an inputList item by item into the text bash gets (a string as-is, any other JSON value as its
 * compact JSON), checking each against the {@link InputLimits} found in the reading mapper's
 * attributes: a request over a limit is refused at the first item that crosses it, before a million
 * JSON nodes are built. The items are kept compact ({@link InputItems}). Without limits in the
 * attributes, nothing is limited.
 */
public final class InputListDeserializer extends ValueDeserializer<List<String>> {

    @Override
    public List<String> deserialize(JsonParser parser, DeserializationContext context) {
        if (!parser.isExpectedStartArrayToken()) {
            return context.reportInputMismatch(this, "inputList must be a JSON array of items");
        }
        InputLimits limits = (InputLimits) context.getAttribute(InputLimits.ATTRIBUTE);
        InputItems items = new InputItems();
        for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
            String item;
            if (token == JsonToken.VALUE_STRING) {
                item = parser.getString();
            } else {
                JsonNode value = context.readTree(parser);
                if (limits != null) {
                    limits.checkDepth("inputList[" + items.size() + "]", value);
                }
                item = value.toString();
            }
            if (limits != null) {
                limits.checkCount(items.size() + 1L);
                limits.checkItem(items.size(), item);
            }
            items.add(item);
        }
        return items;
    }
}
