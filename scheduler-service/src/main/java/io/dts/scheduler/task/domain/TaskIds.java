package io.dts.scheduler.task.domain;

import java.util.regex.Pattern;

/**
 * What a task id may be: a UUID. Checked before an id from a request reaches a Redis key or a log
 * line, so no id can name another key, break a hash tag or forge a log line.
 */
public final class TaskIds {

    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private TaskIds() {
    }

    public static boolean isValid(String id) {
        return id != null && UUID.matcher(id).matches();
    }
}
