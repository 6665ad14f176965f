package io.dts.scheduler.config;

import java.time.Duration;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * Kafka settings under {@code pubsub.*} (the seed names, kept for users).
 *
 * @param namespace          Kafka bootstrap servers
 * @param topic              topic of accepted tasks
 * @param taskShard          topic of shards for workers
 * @param result             topic of shard-done and task-done events
 * @param consumergroup      consumer group of the schedulers on the task topic
 * @param consumercount      consumer threads per scheduler on the task topic
 * @param workerConsumergroup consumer group of the workers on the shard topic (their {@code worker.consumer-group})
 * @param partitions         partitions of the task and event topics
 * @param shardPartitions    partitions of the shard topic: at least the largest number of workers
 * @param replicationFactor  replication factor of the three topics
 * @param minInsyncReplicas  replicas that must have a record before it counts as written (with acks=all)
 * @param publishAttempts    tries to publish an accepted task before SUBMISSION_FAILED
 * @param publishBackoff     wait after the first failed try; doubles up to {@code publishMaxBackoff}
 * @param publishMaxBackoff  longest wait between two tries
 */
@Validated
@ConfigurationProperties("pubsub")
public record PubsubProperties(
        @NotBlank String namespace,
        @NotBlank String topic,
        @Valid @NotNull Topic taskShard,
        @Valid @NotNull Topic result,
        @NotBlank String consumergroup,
        @Min(1) int consumercount,
        @NotBlank String workerConsumergroup,
        @Min(1) int partitions,
        @Min(1) int shardPartitions,
        @Min(1) short replicationFactor,
        @Min(1) int minInsyncReplicas,
        @Min(1) int publishAttempts,
        @NotNull Duration publishBackoff,
        @NotNull Duration publishMaxBackoff) {

    /** @param topic the topic name */
    public record Topic(@NotBlank String topic) {
    }
}
