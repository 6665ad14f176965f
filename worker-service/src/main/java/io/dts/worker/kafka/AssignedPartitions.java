package io.dts.worker.kafka;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.springframework.kafka.listener.ConsumerAwareRebalanceListener;
import org.springframework.stereotype.Component;

/**
 * The shard-topic partitions Kafka has assigned to this worker, reported in its heartbeat so that a
 * scheduler can send each shard to a different worker. Each change is reported at once: a worker counts
 * for splitting a task only once it holds partitions, and one that lost them must not be sent more.
 */
@Component
public class AssignedPartitions implements ConsumerAwareRebalanceListener {

    private final Set<Integer> partitions = new ConcurrentSkipListSet<>();
    private volatile Runnable onChange = () -> { };
    private volatile Gone onGone = gone -> { };

    @Override
    public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> assigned) {
        assigned.forEach(p -> partitions.add(p.partition()));
        onChange.run();
    }

    @Override
    public void onPartitionsRevokedAfterCommit(Consumer<?, ?> consumer, Collection<TopicPartition> revoked) {
        gone(revoked);
    }

    private void gone(Collection<TopicPartition> gone) {
        List<Integer> numbers = gone.stream().map(TopicPartition::partition).toList();
        partitions.removeAll(numbers);
        onGone.partitions(numbers);
        onChange.run();
    }

    @Override
    public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> lost) {
        gone(lost);
    }

    public List<Integer> current() {
        return List.copyOf(partitions);
    }

    /** Called with the partitions revoked or lost: their shards are another worker's to commit now. */
    void onGone(Gone callback) {
        this.onGone = callback;
    }

    /** Called after each change, to publish the partitions without waiting for the next beat. */
    public void onChange(Runnable callback) {
        this.onChange = callback;
    }

    /** What is told of partitions revoked or lost. */
    interface Gone {
        void partitions(List<Integer> partitions);
    }
}
