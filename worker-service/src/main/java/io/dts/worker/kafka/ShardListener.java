package io.dts.worker.kafka;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import io.dts.model.ShardSignature;
import io.dts.model.TaskShard;
import io.dts.worker.config.PubsubProperties;
import io.dts.worker.shard.ShardExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.Acknowledgment;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.stereotype.Component;
import org.springframework.util.backoff.BackOff;
import org.springframework.util.backoff.BackOffExecution;
import org.springframework.util.backoff.ExponentialBackOff;

/**
 * Takes shards from Kafka. The listener returns at once, so the consumer thread keeps polling (no rebalance however
 * long a shard runs) and keeps taking shards while others run ({@link HeldShards}); a shard's offset is committed
 * only once its results are in Redis. A shard that cannot be recorded (Redis gone for longer than the worker waits)
 * is tried again with a growing pause for about a minute, then goes to the dead letter topic. A shard handed back by
 * a stopping worker is put back on the topic before its offset is committed. A shard without the
 * {@link ShardSignature} of the key schedulers and workers share never runs: it goes to the dead letter topic as it came.
 */
@Component
public class ShardListener {

    private static final Logger log = LoggerFactory.getLogger(ShardListener.class);

    private final ShardExecutor executor;
    private final KafkaTemplate<String, Object> kafka;
    private final PubsubProperties pubsub;
    private final ShardSignature signature;
    private final HeldShards held;
    private final BackOff retries;

    public ShardListener(ShardExecutor executor, KafkaTemplate<String, Object> kafka, PubsubProperties pubsub, ShardSignature signature,
                         HeldShards held) {
        this.executor = executor;
        this.kafka = kafka;
        this.pubsub = pubsub;
        this.signature = signature;
        this.held = held;
        ExponentialBackOff backOff = new ExponentialBackOff(1_000, 2);
        backOff.setMaxInterval(10_000);
        backOff.setMaxElapsedTime(60_000);
        this.retries = backOff;
    }

    @KafkaListener(id = HeldShards.LISTENER_ID, topics = "${pubsub.task-shard.topic}", groupId = "${worker.consumer-group}")
    public void onShard(TaskShard shard, @Header(name = ShardSignature.HEADER, required = false) byte[] signed,
                        @Header(KafkaHeaders.RECEIVED_PARTITION) int partition, @Header(KafkaHeaders.OFFSET) long offset, Acknowledgment ack) {
        HeldShards.Receipt receipt = held.take(partition, offset, ack);
        CompletableFuture<Void> finished;
        if (signature.verify(shard, signed)) {
            try {
                finished = process(shard, retries.start());
            } catch (RejectedExecutionException stopping) {
                // Never finished here, so its offset is never committed: the partition's next owner reads it again.
                log.info("Task {} shard {}: not taken, this worker is stopping; the next owner of its partition runs it",
                        shard.taskId(), shard.shardIndex());
                return;
            }
        } else {
            log.warn("Task {} shard {}: {} signature, not run; sent to the dead letter topic", shard.taskId(), shard.shardIndex(),
                    signed == null ? "no" : "a wrong");
            finished = send(pubsub.shardDeadLetterTopic(), shard, false);
        }
        finished.whenComplete((done, failure) -> {
            if (failure != null) {
                // Left uncommitted: Kafka gives it again after a restart or a rebalance.
                log.error("Task {} shard {}: could not be put on Kafka: {}", shard.taskId(), shard.shardIndex(), failure.getMessage());
            } else {
                held.finish(receipt);
            }
        });
    }

    private CompletableFuture<Void> process(TaskShard shard, BackOffExecution backOff) {
        return executor.execute(shard).thenCompose(fate -> switch (fate) {
            case FINISHED -> CompletableFuture.<Void>completedFuture(null);
            case HANDED_BACK -> handBack(shard);
            case QUARANTINED -> deadLetter(shard);
        }).exceptionallyCompose(failure -> {
            long pause = backOff.nextBackOff();
            if (pause == BackOffExecution.STOP) {
                log.error("Task {} shard {}: failed for good ({}); sent to the dead letter topic", shard.taskId(), shard.shardIndex(),
                        failure.getMessage());
                return deadLetter(shard);
            }
            log.warn("Task {} shard {}: failed ({}); trying again in {} ms", shard.taskId(), shard.shardIndex(), failure.getMessage(), pause);
            Executor later = CompletableFuture.delayedExecutor(pause, TimeUnit.MILLISECONDS);
            return CompletableFuture.supplyAsync(() -> null, later).thenCompose(ignored -> process(shard, backOff));
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
