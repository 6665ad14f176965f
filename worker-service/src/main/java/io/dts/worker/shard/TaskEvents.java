package io.dts.worker.shard;

import io.dts.model.TaskEvent;

/**
 * Where the worker announces that a shard or a task is done. Redis is the record of progress; these are
 * notifications, so one that cannot be sent is logged and not retried (TaskEventPublisher, on Kafka).
 */
public interface TaskEvents {

    void publish(TaskEvent event);
}
