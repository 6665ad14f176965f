package io.dts.worker.kafka;

import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

import io.dts.worker.config.WorkerProperties;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.support.Acknowledgment;
import org.springframework.stereotype.Component;

/**
 * The shards this worker took from Kafka and has not finished, and when each offset may be committed. Kafka keeps
 * one committed offset per partition, so a shard is acknowledged only once it and every shard before it on its
 * partition are finished: a worker that dies loses none. The consumer keeps taking shards meanwhile (spring-kafka's
 * own out-of-order acks would pause it until every shard of a poll is done, and a small task would wait behind a
 * long one); it pauses only while {@code worker.max-shards-in-flight} are held.
 */
@Component
public class HeldShards {

    static final String LISTENER_ID = "shards";

    private final int max;
    private final KafkaListenerEndpointRegistry listeners;
    /** By partition, by offset; guarded by {@code this}. A revoked partition's entries are dropped: its shards are another worker's to commit. */
    private final Map<Integer, TreeMap<Long, Receipt>> byPartition = new HashMap<>();
    private int held;

    HeldShards(WorkerProperties properties, KafkaListenerEndpointRegistry listeners, AssignedPartitions partitions) {
        this.max = properties.maxShardsInFlight();
        this.listeners = listeners;
        partitions.onGone(this::forget);
    }

    /** A shard taken: what {@link #finish} is given when it is. */
    public static final class Receipt {
        private final int partition;
        private final long offset;
        private final Acknowledgment ack;
        private boolean finished;

        private Receipt(int partition, long offset, Acknowledgment ack) {
            this.partition = partition;
            this.offset = offset;
            this.ack = ack;
        }
    }

    synchronized Receipt take(int partition, long offset, Acknowledgment ack) {
        Receipt receipt = new Receipt(partition, offset, ack);
        byPartition.computeIfAbsent(partition, p -> new TreeMap<>()).put(offset, receipt);
        held++;
        MessageListenerContainer container = container();
        if (held >= max && container != null) {
            container.pause();
        }
        return receipt;
    }

    /** The shard is finished (its results recorded, or it was handed back or dead-lettered): commit what may be. */
    synchronized void finish(Receipt receipt) {
        TreeMap<Long, Receipt> offsets = byPartition.get(receipt.partition);
        if (offsets == null || offsets.get(receipt.offset) != receipt) {
            return;
        }
        receipt.finished = true;
        Receipt last = null;
        for (Iterator<Receipt> head = offsets.values().iterator(); head.hasNext(); ) {
            Receipt next = head.next();
            if (!next.finished) {
                break;
            }
            last = next;
            head.remove();
            held--;
        }
        if (last != null) {
            // Commits last.offset + 1: every shard of the partition up to it is finished.
            last.ack.acknowledge();
        }
        resumeBelowMax();
    }

    /** The partitions went to another worker: their shards are not this worker's to commit any more. */
    synchronized void forget(Collection<Integer> partitions) {
        for (Integer partition : partitions) {
            TreeMap<Long, Receipt> offsets = byPartition.remove(partition);
            if (offsets != null) {
                held -= offsets.size();
            }
        }
        resumeBelowMax();
    }

    synchronized int held() {
        return held;
    }

    private void resumeBelowMax() {
        MessageListenerContainer container = container();
        if (held < max && container != null && container.isPauseRequested()) {
            container.resume();
        }
    }

    private MessageListenerContainer container() {
        return listeners.getListenerContainer(LISTENER_ID);
    }
}
