package io.dts.worker.kafka;

import io.dts.model.TaskEvent;
import io.dts.worker.config.PubsubProperties;
import io.dts.worker.shard.TaskEvents;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/** The worker's {@link TaskEvents}, on the result topic. */
@Component
public class TaskEventPublisher implements TaskEvents {

    private static final Logger log = LoggerFactory.getLogger(TaskEventPublisher.class);

    private final KafkaTemplate<String, Object> kafka;
    private final PubsubProperties pubsub;

    public TaskEventPublisher(KafkaTemplate<String, Object> kafka, PubsubProperties pubsub) {
        this.kafka = kafka;
        this.pubsub = pubsub;
    }

    @Override
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
