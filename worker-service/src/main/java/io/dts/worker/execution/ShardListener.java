package io.dts.worker.execution;

import java.util.concurrent.CompletableFuture;

import io.dts.model.TaskShard;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Takes shards from Kafka. The listener returns at once with a future, so the consumer thread keeps
 * polling (no rebalance however long a shard runs); spring-kafka commits a shard's offset only when
 * its future completes, which is after its results are in Redis, and pauses the consumer meanwhile.
 */
@Component
public class ShardListener {

    private final ShardExecutor executor;

    public ShardListener(ShardExecutor executor) {
        this.executor = executor;
    }

    @KafkaListener(id = "shards", topics = "${pubsub.task-shard.topic}", groupId = "${worker.consumer-group}")
    public CompletableFuture<Void> onShard(TaskShard shard) {
        return executor.execute(shard);
    }
}
