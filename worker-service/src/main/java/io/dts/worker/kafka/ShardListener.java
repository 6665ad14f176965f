package io.dts.worker.kafka;

import java.util.concurrent.CompletableFuture;

import io.dts.model.ShardSignature;
import io.dts.model.TaskShard;
import io.dts.worker.config.PubsubProperties;
import io.dts.worker.shard.ShardExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.stereotype.Component;

/**
 * Takes shards from Kafka. The listener returns at once with a future, so the consumer thread keeps
 * polling (no rebalance however long a shard runs); spring-kafka commits a shard's offset only when
 * its future completes, which is after its results are in Redis, and pauses the consumer meanwhile.
 * A shard handed back by a stopping worker is put back on the topic before its offset is committed.
 * A shard without the {@link ShardSignature} of the key schedulers and workers share never runs: it goes
 * to the dead letter topic as it came.
 */
@Component
public class ShardListener {

    private static final Logger log = LoggerFactory.getLogger(ShardListener.class);

    private final ShardExecutor executor;
    private final KafkaTemplate<String, Object> kafka;
    private final PubsubProperties pubsub;
    private final ShardSignature signature;

    public ShardListener(ShardExecutor executor, KafkaTemplate<String, Object> kafka, PubsubProperties pubsub, ShardSignature signature) {
        this.executor = executor;
        this.kafka = kafka;
        this.pubsub = pubsub;
        this.signature = signature;
    }

    @KafkaListener(id = "shards", topics = "${pubsub.task-shard.topic}", groupId = "${worker.consumer-group}")
    public CompletableFuture<Void> onShard(TaskShard shard, @Header(name = ShardSignature.HEADER, required = false) byte[] signed) {
        if (!signature.verify(shard, signed)) {
            log.warn("Task {} shard {}: {} signature, not run; sent to the dead letter topic", shard.taskId(), shard.shardIndex(),
                    signed == null ? "no" : "a wrong");
            return send(pubsub.shardDeadLetterTopic(), shard, false);
        }
        return executor.execute(shard).thenCompose(fate -> switch (fate) {
            case FINISHED -> CompletableFuture.completedFuture(null);
            case HANDED_BACK -> handBack(shard);
            case QUARANTINED -> deadLetter(shard);
        });
    }

    /** Its items are recorded as failed already; the shard itself is kept on the dead letter topic for a person to look at. */
    private CompletableFuture<Void> deadLetter(TaskShard shard) {
        return send(pubsub.shardDeadLetterTopic(), shard, true);
    }

    private CompletableFuture<Void> handBack(TaskShard shard) {
        log.info("Task {} shard {}: handed back to Kafka for another worker", shard.taskId(), shard.shardIndex());
        return send(pubsub.taskShard().topic(), shard, true);
    }

    private CompletableFuture<Void> send(String topic, TaskShard shard, boolean signed) {
        ProducerRecord<String, Object> record = new ProducerRecord<>(topic, shard.taskId() + "/" + shard.shardIndex(), shard);
        if (signed) {
            record.headers().add(ShardSignature.HEADER, signature.sign(shard));
        }
        return kafka.send(record).thenApply(sent -> null);
    }
}
