package io.dts.model;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import tools.jackson.databind.JsonNode;

/**
 * The bounds on what a task's inputs may be: how many items, how large one item, how deep a JSON
 * value (an item or a variable) may nest, and no NUL byte, which no bash argument can hold. One
 * place for the rule, used while a request is read ({@link InputListDeserializer}) and on every
 * other path into a task.
 *
 * @param maxItems     most items in one inputList
 * @param maxItemBytes largest item, in UTF-8 bytes of the text bash gets
 * @param maxDepth     deepest nesting of a JSON item or variable
 */
public record InputLimits(int maxItems, long maxItemBytes, int maxDepth) {

    /** The attribute of a reading mapper under which {@link InputListDeserializer} finds the limits. */
    public static final String ATTRIBUTE = "dts.input-limits";

    public void checkCount(long items) {
        if (items > maxItems) {
            throw new Exceeded(Exceeded.Kind.TOO_MANY_ITEMS, "inputList",
                    "inputList has more than " + maxItems + " items");
        }
    }

    /** Checks item {@code index} as bash will get it. */
    public void checkItem(int index, String item) {
        long bytes = Utf8.length(item);
        if (bytes > maxItemBytes) {
            throw new Exceeded(Exceeded.Kind.ITEM_TOO_LARGE, "inputList[" + index + "]",
                    "inputList[" + index + "] is " + bytes + " bytes; the limit is " + maxItemBytes);
        }
        if (item.indexOf('\0') >= 0) {
            throw new Exceeded(Exceeded.Kind.INVALID, "inputList[" + index + "]",
                    "holds a NUL byte (\\u0000), which bash cannot pass as an argument");
        }
    }

    /** Checks every item, for inputs that did not come through {@link InputListDeserializer}. */
    public void checkItems(List<String> items) {
        checkCount(items.size());
        for (int i = 0; i < items.size(); i++) {
            checkItem(i, items.get(i));
        }
    }

    public void checkDepth(String field, JsonNode value) {
        Deque<JsonNode> level = new ArrayDeque<>(List.of(value));
        for (int depth = 0; !level.isEmpty(); depth++) {
            if (depth > maxDepth) {
                throw new Exceeded(Exceeded.Kind.INVALID, field, "is nested deeper than " + maxDepth + " levels");
            }
            Deque<JsonNode> next = new ArrayDeque<>();
            level.forEach(node -> next.addAll(node.values()));
            level = next;
        }
    }

    /** An input over a limit ({@link Kind#TOO_MANY_ITEMS}, {@link Kind#ITEM_TOO_LARGE}) or invalid. */
    public static final class Exceeded extends RuntimeException {

        public enum Kind { TOO_MANY_ITEMS, ITEM_TOO_LARGE, INVALID }

        private final Kind kind;
        private final String field;

        public Exceeded(Kind kind, String field, String message) {
            super(message);
            this.kind = kind;
            this.field = field;
        }

        public Kind kind() {
            return kind;
        }

        public String field() {
            return field;
        }
    }
}
