package io.dts.worker.execution;

import io.dts.model.TaskEvent;
import io.dts.worker.config.PubsubProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Announces shard-done and task-done events on the result topic. Redis is the record of progress;
 * these events are notifications, so a failed send is logged and not retried.
 */
@Component
public class TaskEventPublisher {

    private static final Logger log = LoggerFactory.getLogger(TaskEventPublisher.class);

    private final KafkaTemplate<String, Object> kafka;
    private final PubsubProperties pubsub;

    public TaskEventPublisher(KafkaTemplate<String, Object> kafka, PubsubProperties pubsub) {
        this.kafka = kafka;
        this.pubsub = pubsub;
    }

    public void publish(TaskEvent event) {
        try {
            kafka.send(pubsub.result().topic(), event.taskId(), event).whenComplete((ok, error) -> {
                if (error != null) {
                    log.warn("Task {}: {} event not sent: {}", event.taskId(), event.type(), error.getMessage());
                }
            });
        } catch (RuntimeException e) {
            log.warn("Task {}: {} event not sent: {}", event.taskId(), event.type(), e.getMessage());
        }
    }
}
