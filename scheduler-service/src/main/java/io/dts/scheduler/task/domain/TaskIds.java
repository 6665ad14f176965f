package io.dts.scheduler.task.domain;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a task id may be: a UUID. Checked before an id from a request reaches a Redis key or a log
 * line, so no id can name another key, break a hash tag or forge a log line.
 */
public final class TaskIds {

    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    /** A UUID to show in messages that ask for one. */
    public static final String EXAMPLE = "0b8e5a4e-6f0c-4a8e-9a57-1f2d3c4b5a69";

    private TaskIds() {
    }

    /** Lower case, as the scheduler makes them: a client's upper-case UUID names the same task. */
    public static String normalized(String id) {
        return id.toLowerCase(Locale.ROOT);
    }

    public static boolean isValid(String id) {
        return id != null && UUID.matcher(id).matches();
    }
}
