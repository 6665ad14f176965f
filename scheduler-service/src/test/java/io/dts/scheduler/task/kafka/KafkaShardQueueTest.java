package io.dts.scheduler.task.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.dts.model.ShardPlacement;
import io.dts.scheduler.config.PubsubProperties;
import io.dts.scheduler.task.domain.ShardQueue;
import io.dts.testsupport.KafkaBroker;
import io.dts.testsupport.TestInfrastructure;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Which shard records the workers' group has yet to finish, as a real Kafka tells it. */
class KafkaShardQueueTest {

    private final KafkaBroker kafka = TestInfrastructure.kafka();
    private final String bootstrap = kafka.bootstrapServers();
    private final String suffix = UUID.randomUUID().toString();
    private final String topic = "shards-" + suffix;
    private final String workers = "workers-" + suffix;
    private Admin admin;

    private PubsubProperties pubsub(String shardTopic, String workerGroup) {
        return new PubsubProperties(bootstrap, "tasks-" + suffix, new PubsubProperties.Topic(shardTopic),
                new PubsubProperties.Topic("results-" + suffix), "g", 1, workerGroup, 1, 2, (short) 1, 1, 10, Duration.ofMillis(250),
                Duration.ofSeconds(5));
    }

    @BeforeEach
    void threeShardsOnPartitionZeroAndOneOnPartitionOne() throws Exception {
        admin = Admin.create(kafka.clientProperties(Map.of()));
        admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(kafka.clientProperties(Map.of()),
                new StringSerializer(), new StringSerializer())) {
            for (int partition : new int[] {0, 0, 0, 1}) {
                producer.send(new ProducerRecord<>(topic, partition, "t/0", "shard")).get(30, TimeUnit.SECONDS);
            }
        }
    }

    @AfterEach
    void closeAdmin() {
        admin.close();
    }

    private void workersCommit(int partition, long nextOffset) throws Exception {
        admin.alterConsumerGroupOffsets(workers, Map.of(new TopicPartition(topic, partition), new OffsetAndMetadata(nextOffset)))
                .all().get(30, TimeUnit.SECONDS);
    }

    private ShardQueue.View view() {
        return new KafkaShardQueue(admin, pubsub(topic, workers)).view();
    }

    private static List<ShardPlacement> shards(ShardPlacement... shards) {
        return List.of(shards);
    }

    @Test
    void a_shard_waits_until_the_workers_commit_past_it() throws Exception {
        workersCommit(1, 0);
        assertThat(view().anyWaiting(shards(new ShardPlacement(0, 1)))).as("nothing committed on partition 0 yet").isTrue();

        workersCommit(0, 2);
        ShardQueue.View view = view();

        assertThat(view.anyWaiting(shards(new ShardPlacement(0, 1)))).as("offsets 0 and 1 are done").isFalse();
        assertThat(view.anyWaiting(shards(new ShardPlacement(0, 2)))).as("offset 2 is not").isTrue();
        assertThat(view.anyWaiting(shards(new ShardPlacement(0, 1), new ShardPlacement(1, 0)))).as("one waiting shard is enough").isTrue();
        assertThat(view.anyWaiting(shards())).isFalse();
    }

    @Test
    void a_view_is_read_once_and_answers_from_what_it_read() throws Exception {
        workersCommit(0, 3);
        ShardQueue.View view = view();
        assertThat(view.anyWaiting(shards(new ShardPlacement(1, 0)))).isTrue();

        workersCommit(1, 1);

        assertThat(view.anyWaiting(shards(new ShardPlacement(1, 0)))).as("the same sweep's view").isTrue();
        assertThat(view().anyWaiting(shards(new ShardPlacement(1, 0)))).as("the next sweep's").isFalse();
    }

    @Test
    void a_record_that_is_not_in_the_topic_does_not_wait() throws Exception {
        workersCommit(0, 0);
        ShardQueue.View view = view();

        assertThat(view.anyWaiting(shards(new ShardPlacement(0, 2)))).as("the last record, not taken yet").isTrue();
        assertThat(view.anyWaiting(shards(new ShardPlacement(0, 3)))).as("past the end: the log lost it (a wiped or truncated broker)").isFalse();
        assertThat(view.anyWaiting(shards(new ShardPlacement(5, 0)))).as("a partition the topic does not have").isFalse();
    }

    @Test
    void when_kafka_cannot_tell_nothing_waits_so_the_reconciler_republishes_as_it_did_before() throws Exception {
        workersCommit(1, 0);
        List<ShardPlacement> waiting = shards(new ShardPlacement(0, 0));
        assertThat(view().anyWaiting(waiting)).as("asked rightly").isTrue();

        assertThat(new KafkaShardQueue(admin, pubsub("no-such-topic-" + suffix, workers)).view().anyWaiting(waiting))
                .as("a topic Kafka does not know").isFalse();
        assertThat(new KafkaShardQueue(admin, pubsub(topic, "misspelt-" + workers)).view().anyWaiting(waiting))
                .as("a group that never committed on the topic: pubsub.worker-consumergroup is not the workers' group").isFalse();
    }
}
