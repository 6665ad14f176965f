package io.dts.scheduler.task.kafka;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

import io.dts.model.ShardPlacement;
import io.dts.model.ShardSignature;
import io.dts.model.TaskShard;
import io.dts.model.TaskSubmitted;
import io.dts.scheduler.config.PubsubProperties;
import io.dts.scheduler.task.domain.TaskPublisher;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;
import org.springframework.stereotype.Component;

/**
 * {@link TaskPublisher} on Kafka; the task id is the record key of both tasks and shards. Every shard
 * carries its {@link ShardSignature} in a header: workers run no other.
 */
@Component
public class KafkaTaskPublisher implements TaskPublisher {

    private final KafkaTemplate<String, Object> kafka;
    private final PubsubProperties pubsub;
    private final ShardSignature signature;

    public KafkaTaskPublisher(KafkaTemplate<String, Object> kafka, PubsubProperties pubsub, ShardSignature signature) {
        this.kafka = kafka;
        this.pubsub = pubsub;
        this.signature = signature;
    }

    @Override
    public CompletableFuture<Void> publishTask(TaskSubmitted task) {
        return send(() -> kafka.send(pubsub.topic(), task.taskId(), task), sent -> null);
    }

    @Override
    public CompletableFuture<ShardPlacement> publishShard(TaskShard shard, int partition) {
        String key = shard.taskId() + "/" + shard.shardIndex();
        ProducerRecord<String, Object> record = new ProducerRecord<>(pubsub.taskShard().topic(), partition, key, shard);
        record.headers().add(ShardSignature.HEADER, signature.sign(shard));
        return send(() -> kafka.send(record),
                sent -> new ShardPlacement(sent.getRecordMetadata().partition(), sent.getRecordMetadata().offset()));
    }

    /** A send that fails before it is queued (no metadata while Kafka is down) fails the future too. */
    private static <T> CompletableFuture<T> send(Supplier<CompletableFuture<SendResult<String, Object>>> send,
                                                 Function<SendResult<String, Object>, T> result) {
        try {
            return send.get().thenApply(result);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
