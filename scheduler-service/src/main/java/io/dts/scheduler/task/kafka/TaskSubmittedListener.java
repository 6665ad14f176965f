package io.dts.scheduler.task.kafka;

import io.dts.model.TaskSubmitted;
import io.dts.scheduler.task.domain.TaskDispatcher;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/** Consumes accepted tasks (group {@code pubsub.consumergroup}) and shards them. */
@Component
public class TaskSubmittedListener {

    private final TaskDispatcher dispatcher;

    public TaskSubmittedListener(TaskDispatcher dispatcher) {
        this.dispatcher = dispatcher;
    }

    @KafkaListener(id = "task-submitted", topics = "${pubsub.topic}", groupId = "${pubsub.consumergroup}",
            concurrency = "${pubsub.consumercount}")
    public void onTaskSubmitted(TaskSubmitted task) {
        dispatcher.dispatch(task.taskId());
    }
}
