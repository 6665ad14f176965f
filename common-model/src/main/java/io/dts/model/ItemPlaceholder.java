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
        return utf8Bytes(item) + 2 + 3 * quotes;
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
        int count = occurrences(command);
        return utf8Bytes(command) + count * (quotedBytes(item) - TOKEN.length());
    }

    /** The command for one item; {@code null} (a task without inputList) leaves it as it is. */
    public static String expand(String command, String item) {
        return item == null ? command : command.replace(TOKEN, quote(item));
    }

    public static long utf8Bytes(String text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
