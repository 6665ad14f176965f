package io.dts.model;

import java.nio.charset.StandardCharsets;

/**
 * The {@code {{item}}} placeholder of a rendered command, which each worker replaces per item with the
 * shell-quoted item, and the size a command may have once it is replaced. The scheduler refuses a task
 * whose largest item would not fit; the worker checks again before it builds a command.
 */
public final class ItemPlaceholder {

    /** The placeholder's name in a template: {@code {{item}}}; not a variable a client may set. */
    public static final String NAME = "item";
    public static final String TOKEN = "{{" + NAME + "}}";
    /**
     * Largest command, in UTF-8 bytes, that can run: Linux refuses a single argument of more than 32
     * pages (MAX_ARG_STRLEN, 131,072 bytes with its terminating NUL), and {@code bash -c <command>}
     * passes the command as one.
     */
    public static final int MAX_COMMAND_BYTES = 131_071;

    private ItemPlaceholder() {
    }

    /** {@code it's} becomes {@code 'it'\''s'}: single quotes, each embedded quote closed, escaped and reopened. */
    public static String quote(String item) {
        return "'" + item.replace("'", "'\\''") + "'";
    }

    /** UTF-8 bytes of {@link #quote}{@code (item)}, without building it. */
    public static long quotedBytes(String item) {
        long quotes = item.chars().filter(c -> c == '\'').count();
        return Utf8.length(item) + 2 + 3 * quotes;
    }

    /** How many times {@code command} holds the placeholder. */
    public static int occurrences(String command) {
        int count = 0;
        for (int at = command.indexOf(TOKEN); at >= 0; at = command.indexOf(TOKEN, at + TOKEN.length())) {
            count++;
        }
        return count;
    }

    /** UTF-8 bytes of {@code command} once every placeholder holds {@code item} quoted, without building it. */
    public static long expandedBytes(String command, String item) {
        return expandedBytes(Utf8.length(command), occurrences(command), item);
    }

    /** As {@link #expandedBytes(String, String)} for a command measured once: its UTF-8 size and placeholder count. */
    public static long expandedBytes(long commandBytes, int occurrences, String item) {
        return commandBytes + occurrences * (quotedBytes(item) - TOKEN.length());
    }

    /** The command for one item; {@code null} (a task without inputList) leaves it as it is. */
    public static String expand(String command, String item) {
        return item == null ? command : command.replace(TOKEN, quote(item));
    }
}
