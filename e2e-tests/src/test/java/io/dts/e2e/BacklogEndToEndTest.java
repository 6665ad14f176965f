package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * A shard that waits in Kafka behind a backlog for longer than the stall timeout is slow, not lost:
 * the sweeper asks Kafka, publishes none of those shards again, and every task finishes exactly once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BacklogEndToEndTest {

    private static final String SHARD_TOPIC = "distributed_task_shard";

    /** A stall timeout far shorter than the backlog; one shard at a time on the one worker, so the rest wait in Kafka. */
    private final Cluster cluster = new Cluster(List.of("--scheduler.sweep-interval=500ms", "--scheduler.stall-timeout=2s"),
            List.of("--worker.max-shards-in-flight=1"));

    @BeforeAll
    void startCluster() {
        cluster.startScheduler();
        cluster.startWorkers(1);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        cluster.close();
    }

    @Test
    void shards_waiting_behind_a_backlog_longer_than_the_stall_timeout_are_not_published_again() {
        long start = System.nanoTime();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ids.add(cluster.client().submit(SchedulerClient.taskJson("sleep 1", List.of("x"))));
        }
        for (String id : ids) {
            JsonNode done = cluster.awaitTerminal(id, Duration.ofSeconds(90));
            assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
            assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(1);
        }
        Duration backlog = Duration.ofNanos(System.nanoTime() - start);

        assertThat(backlog).as("the last shards waited in Kafka for several stall timeouts").isGreaterThan(Duration.ofSeconds(7));
        assertThat(shardRecordsByTask(ids)).as("each task's one shard was published once").hasSize(ids.size())
                .allSatisfy((task, records) -> assertThat(records).isEqualTo(1));
    }

    /** How many records the shard topic holds for each of these tasks (keys are {@code <task>/<shard>}). */
    private Map<String, Integer> shardRecordsByTask(List<String> ids) {
        Map<String, Integer> counts = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cluster.kafka().clientProperties(Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, "count-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")),
                new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(SHARD_TOPIC).stream()
                    .map(p -> new TopicPartition(SHARD_TOPIC, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
                assertThat(System.nanoTime()).as("read the shard topic to its end in time").isLessThan(deadline);
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    String task = record.key() == null ? "" : record.key().split("/")[0];
                    if (ids.contains(task)) {
                        counts.merge(task, 1, Integer::sum);
                    }
                }
            }
        }
        return counts;
    }
}
