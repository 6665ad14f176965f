package io.dts.worker.execution;

/** Quotes a value for bash so that it is always one word and never code. */
final class ShellQuoting {

    private ShellQuoting() {
    }

    /** {@code it's} becomes {@code 'it'\''s'}: single quotes, each embedded quote closed, escaped and reopened. */
    static String quote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }
}
