package io.dts.worker.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * The Kafka settings a worker uses, under the same {@code pubsub.*} names as the scheduler.
 *
 * @param namespace Kafka bootstrap servers
 * @param taskShard topic the worker consumes shards from
 * @param result    topic the worker reports shard-done and task-done events to
 */
@Validated
@ConfigurationProperties("pubsub")
public record PubsubProperties(@NotBlank String namespace, @Valid @NotNull Topic taskShard, @Valid @NotNull Topic result) {

    /** Where shards go that must not run again: spring-kafka's dead letter naming, {@code <topic>-dlt}. */
    public String shardDeadLetterTopic() {
        return taskShard.topic() + "-dlt";
    }

    /** @param topic the topic name */
    public record Topic(@NotBlank String topic) {
    }
}
