package io.dts.worker.item;

import java.time.Duration;

/**
 * One run of a user's command for one item: what bash gets as {@code $1}, stdin and {@code DTS_*}.
 *
 * @param command the rendered command, {@code {{item}}} already replaced
 * @param item    {@code null} for a task without inputList: no argument, empty stdin
 */
public record ItemRun(String taskId, int shardIndex, long itemIndex, String command, String item, Duration timeout) {
}
