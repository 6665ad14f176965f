package io.dts.scheduler.task.kafka;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

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
 * {@link ShardQueue} on Kafka: the shard topic's partitions (their first and next offsets) and the
 * offsets the workers' consumer group ({@code pubsub.worker-consumergroup}) committed there, read with
 * four admin requests at once.
 */
@Component
public class KafkaShardQueue implements ShardQueue {

    private static final Logger log = LoggerFactory.getLogger(KafkaShardQueue.class);
    private static final int TIMEOUT_MS = 5_000;

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
            /** By partition; read at the first question, empty when Kafka could not answer. */
            private Map<Integer, Positions> partitions;

            @Override
            public boolean anyWaiting(Map<Integer, Long> offsets) {
                if (offsets.isEmpty()) {
                    return false;
                }
                if (partitions == null) {
                    partitions = read();
                }
                return offsets.entrySet().stream().anyMatch(shard -> {
                    Positions positions = partitions.get(shard.getKey());
                    return positions != null && positions.waiting(shard.getValue());
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
        try {
            List<TopicPartition> partitions = get(admin.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs(TIMEOUT_MS))
                    .allTopicNames()).get(topic).partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            KafkaFuture<Map<TopicPartition, ListOffsetsResultInfo>> first = offsets(partitions, OffsetSpec.earliest());
            KafkaFuture<Map<TopicPartition, ListOffsetsResultInfo>> next = offsets(partitions, OffsetSpec.latest());
            KafkaFuture<Map<TopicPartition, OffsetAndMetadata>> committed = admin.listConsumerGroupOffsets(workerGroup,
                    new ListConsumerGroupOffsetsOptions().timeoutMs(TIMEOUT_MS)).partitionsToOffsetAndMetadata();
            Map<TopicPartition, ListOffsetsResultInfo> firsts = get(first);
            Map<TopicPartition, ListOffsetsResultInfo> nexts = get(next);
            // A partition the group never committed on maps to null.
            Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>(get(committed));
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
                new ListOffsetsOptions().timeoutMs(TIMEOUT_MS)).all();
    }

    private static <T> T get(KafkaFuture<T> future) throws Exception {
        return future.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }
}
