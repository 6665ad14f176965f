package io.dts.worker.kafka;

import static io.dts.worker.config.TestWorkerProperties.aWorker;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.support.Acknowledgment;

/** When a shard's offset may be committed, and when the consumer pauses: the bookkeeping alone (Kafka's side is e2e). */
class HeldShardsTest {

    private final KafkaListenerEndpointRegistry registry = mock(KafkaListenerEndpointRegistry.class);
    private final MessageListenerContainer container = mock(MessageListenerContainer.class);
    private final AssignedPartitions partitions = new AssignedPartitions();
    private final HeldShards held;

    HeldShardsTest() {
        when(registry.getListenerContainer(HeldShards.LISTENER_ID)).thenReturn(container);
        held = new HeldShards(aWorker(Path.of(System.getProperty("java.io.tmpdir"))).maxShardsInFlight(3).build(), registry, partitions);
    }

    @Test
    void a_shard_is_acknowledged_only_once_every_earlier_shard_of_its_partition_is_finished() {
        Acknowledgment first = mock(Acknowledgment.class);
        Acknowledgment second = mock(Acknowledgment.class);
        Acknowledgment onAnotherPartition = mock(Acknowledgment.class);
        HeldShards.Receipt r1 = held.take(0, 10, first);
        HeldShards.Receipt r2 = held.take(0, 11, second);
        HeldShards.Receipt r3 = held.take(1, 5, onAnotherPartition);

        held.finish(r2);
        held.finish(r3);
        verify(second, never()).acknowledge();
        verify(onAnotherPartition).acknowledge();

        held.finish(r1);
        // The later one commits both: Kafka keeps one offset per partition.
        verify(second).acknowledge();
        verify(first, never()).acknowledge();
        org.assertj.core.api.Assertions.assertThat(held.held()).isZero();
    }

    @Test
    void the_consumer_pauses_while_the_most_shards_are_held_and_resumes_below() {
        HeldShards.Receipt r1 = held.take(0, 1, mock(Acknowledgment.class));
        held.take(0, 2, mock(Acknowledgment.class));
        verify(container, never()).pause();

        held.take(1, 1, mock(Acknowledgment.class));
        verify(container).pause();

        when(container.isPauseRequested()).thenReturn(true);
        held.finish(r1);
        verify(container).resume();
    }

    @Test
    void shards_of_a_partition_gone_to_another_worker_are_never_acknowledged_here() {
        Acknowledgment ack = mock(Acknowledgment.class);
        HeldShards.Receipt receipt = held.take(2, 7, ack);

        partitions.onPartitionsLost(null, List.of(new org.apache.kafka.common.TopicPartition("shards", 2)));
        held.finish(receipt);

        verify(ack, never()).acknowledge();
        org.assertj.core.api.Assertions.assertThat(held.held()).isZero();
    }
}
