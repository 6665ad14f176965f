package io.dts.scheduler.task.api;

/**
 * A client's own text (a field name, a value it sent) as it may appear in an answer or a log line:
 * at most 80 characters, control characters (CR, LF, ESC...) shown as '?', so no request can forge a
 * log line or make an error message as large as itself.
 */
final class ClientText {

    private static final int MAX_CHARS = 80;

    private ClientText() {
    }

    static String shown(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder shown = new StringBuilder(Math.min(text.length(), MAX_CHARS + 1));
        text.codePoints().limit(MAX_CHARS).forEach(c -> shown.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return text.codePointCount(0, text.length()) > MAX_CHARS ? shown.append('…').toString() : shown.toString();
    }
}
