package io.dts.scheduler.task.kafka;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.dts.model.ShardPlacement;
import io.dts.scheduler.config.PubsubProperties;
import io.dts.scheduler.task.domain.ShardQueue;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * {@link ShardQueue} on Kafka: the shard topic's partitions, then at once their first and next offsets
 * and the offsets the workers' consumer group ({@code pubsub.worker-consumergroup}) committed there,
 * all within {@link #DEADLINE_MS}, so a sweep holding its lock is not kept long by a slow Kafka.
 */
@Component
public class KafkaShardQueue implements ShardQueue {

    private static final Logger log = LoggerFactory.getLogger(KafkaShardQueue.class);
    private static final int DEADLINE_MS = 3_000;

    private final Admin admin;
    private final String topic;
    private final String workerGroup;

    public KafkaShardQueue(Admin admin, PubsubProperties pubsub) {
        this.admin = admin;
        this.topic = pubsub.taskShard().topic();
        this.workerGroup = pubsub.workerConsumergroup();
    }

    @Override
    public View view() {
        return new View() {
            /** By partition; read at the first question, empty when Kafka could not tell. */
            private Map<Integer, Positions> partitions;

            @Override
            public boolean anyWaiting(Collection<ShardPlacement> shards) {
                if (shards.isEmpty()) {
                    return false;
                }
                if (partitions == null) {
                    partitions = read();
                }
                return shards.stream().anyMatch(shard -> {
                    Positions positions = partitions.get(shard.partition());
                    return positions != null && positions.waiting(shard.offset());
                });
            }
        };
    }

    /**
     * A partition of the shard topic: the offset of its first record still kept, the offset its next one
     * will get, and the next offset the workers will take there ({@code -1} before their first commit).
     */
    private record Positions(long first, long next, long committed) {

        /** Still kept, and the workers have not committed past it: no worker has finished it yet. */
        boolean waiting(long offset) {
            return offset >= first && offset < next && committed <= offset;
        }
    }

    private Map<Integer, Positions> read() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
        try {
            List<TopicPartition> partitions = get(admin.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs(DEADLINE_MS))
                    .allTopicNames(), deadline).get(topic).partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            KafkaFuture<Map<TopicPartition, ListOffsetsResultInfo>> first = offsets(partitions, OffsetSpec.earliest());
            KafkaFuture<Map<TopicPartition, ListOffsetsResultInfo>> next = offsets(partitions, OffsetSpec.latest());
            KafkaFuture<Map<TopicPartition, OffsetAndMetadata>> committed = admin.listConsumerGroupOffsets(workerGroup,
                    new ListConsumerGroupOffsetsOptions().timeoutMs(DEADLINE_MS)).partitionsToOffsetAndMetadata();
            Map<TopicPartition, ListOffsetsResultInfo> firsts = get(first, deadline);
            Map<TopicPartition, ListOffsetsResultInfo> nexts = get(next, deadline);
            // A partition the group never committed on maps to null, or is missing.
            Map<TopicPartition, OffsetAndMetadata> commits = get(committed, deadline);
            if (partitions.stream().allMatch(p -> commits.get(p) == null)) {
                // A misspelt group looks exactly like this, and would hold every stalled task back for the topic's retention.
                log.warn("The workers' group '{}' has committed nothing on {}: is pubsub.worker-consumergroup their worker.consumer-group? "
                        + "Stalled tasks are published again", workerGroup, topic);
                return Map.of();
            }
            return partitions.stream().collect(Collectors.toMap(TopicPartition::partition, p -> new Positions(firsts.get(p).offset(),
                    nexts.get(p).offset(), commits.get(p) == null ? -1 : commits.get(p).offset())));
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn("Could not read where the workers stand on {} ({}); stalled tasks are published again", topic, e.toString());
            return Map.of();
        }
    }

    private KafkaFuture<Map<TopicPartition, ListOffsetsResultInfo>> offsets(List<TopicPartition> partitions, OffsetSpec spec) {
        return admin.listOffsets(partitions.stream().collect(Collectors.toMap(Function.identity(), p -> spec)),
                new ListOffsetsOptions().timeoutMs(DEADLINE_MS)).all();
    }

    private static <T> T get(KafkaFuture<T> future, long deadline) throws Exception {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new TimeoutException("no answer within " + DEADLINE_MS + " ms");
        }
        return future.get(left, TimeUnit.NANOSECONDS);
    }
}
