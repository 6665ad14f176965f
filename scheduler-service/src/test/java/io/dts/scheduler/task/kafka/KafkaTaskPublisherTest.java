package io.dts.scheduler.task.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.dts.model.ShardPlacement;
import io.dts.model.ShardSignature;
import io.dts.model.TaskShard;
import io.dts.model.TaskSubmitted;
import io.dts.scheduler.config.PubsubProperties;
import io.dts.testsupport.KafkaBroker;
import io.dts.testsupport.TestInfrastructure;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.serializer.JacksonJsonSerializer;

/** The publisher against a real Kafka: the task id is the key, a shard lands on the partition of its worker, a dead broker fails the future. */
class KafkaTaskPublisherTest {

    private static PubsubProperties pubsub(String bootstrap, String suffix) {
        return new PubsubProperties(bootstrap, "tasks-" + suffix, new PubsubProperties.Topic("shards-" + suffix),
                new PubsubProperties.Topic("results-" + suffix), "g", 1, "w", 1, 4, (short) 1, 1, 10, Duration.ofMillis(250), Duration.ofSeconds(5));
    }

    private static final ShardSignature SIGNATURE = ShardSignature.of(new byte[32]);

    private static KafkaTemplate<String, Object> template(String bootstrap) {
        Map<String, Object> settings = TestInfrastructure.kafka().clientProperties(Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1_000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 2_000, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 1_000));
        settings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(settings,
                new StringSerializer(), new JacksonJsonSerializer<>()));
    }

    @Test
    void a_shard_goes_to_the_partition_of_its_worker_keyed_by_task_and_shard_and_a_task_keyed_by_its_id() throws Exception {
        KafkaBroker broker = TestInfrastructure.kafka();
        String bootstrap = broker.bootstrapServers();
        String suffix = UUID.randomUUID().toString();
        PubsubProperties pubsub = pubsub(bootstrap, suffix);
        try (Admin admin = Admin.create(broker.clientProperties(Map.of()))) {
            admin.createTopics(List.of(new NewTopic(pubsub.taskShard().topic(), 4, (short) 1), new NewTopic(pubsub.topic(), 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
        KafkaTemplate<String, Object> kafka = template(bootstrap);
        KafkaTaskPublisher publisher = new KafkaTaskPublisher(kafka, pubsub, SIGNATURE);
        TaskShard published = new TaskShard("t1", 3, 4, 30, 40, "echo", false, null, 0, 1, null);

        assertThat(publisher.publishShard(published, 2).get(30, TimeUnit.SECONDS))
                .as("where Kafka put it: the first record of partition 2").isEqualTo(new ShardPlacement(2, 0));
        publisher.publishTask(new TaskSubmitted("t1", 1L)).get(30, TimeUnit.SECONDS);

        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(broker.clientProperties(Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, "check-" + suffix, ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(Set.of(pubsub.taskShard().topic(), pubsub.topic()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (records.size() < 2 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        kafka.destroy();

        ConsumerRecord<String, String> shard = records.stream().filter(r -> r.topic().equals(pubsub.taskShard().topic())).findFirst().orElseThrow();
        ConsumerRecord<String, String> task = records.stream().filter(r -> r.topic().equals(pubsub.topic())).findFirst().orElseThrow();
        assertThat(shard.partition()).isEqualTo(2);
        assertThat(shard.key()).isEqualTo("t1/3");
        assertThat(shard.value()).contains("\"startIndex\":30", "\"endIndex\":40");
        assertThat(SIGNATURE.verify(published, shard.headers().lastHeader(ShardSignature.HEADER).value())).as("signed").isTrue();
        assertThat(task.key()).isEqualTo("t1");
    }

    @Test
    void a_send_to_a_broker_that_is_not_there_fails_the_future_instead_of_throwing() {
        KafkaTemplate<String, Object> kafka = template("127.0.0.1:1");
        KafkaTaskPublisher publisher = new KafkaTaskPublisher(kafka, pubsub("127.0.0.1:1", "none"), SIGNATURE);

        CompletableFuture<Void> sent = publisher.publishTask(new TaskSubmitted("t1", 1L));

        assertThat(sent).failsWithin(Duration.ofSeconds(10));
        kafka.destroy();
    }
}
