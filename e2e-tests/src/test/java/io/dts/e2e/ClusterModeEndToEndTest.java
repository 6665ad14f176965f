package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import io.dts.testsupport.LocalKafkaCluster;
import io.dts.testsupport.TestInfrastructure;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The cluster mode, all of it: 3 KRaft Kafka nodes (the topics on 3 replicas, min.insync.replicas
 * 2), a Redis Cluster of 3 masters, 2 schedulers behind nginx and 2 workers. A broker killed with
 * SIGKILL in the middle of a task loses nothing, and tasks submitted right after the kill finish.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterModeEndToEndTest {

    private static final List<String> TOPICS = List.of("distributed_task", "distributed_task_shard", "distributed_task_completed");

    private LocalKafkaCluster kafka;
    private Cluster cluster;
    private SchedulerClient viaNginx;

    @BeforeAll
    void startCluster(@TempDir Path nginxPrefix) throws Exception {
        kafka = TestInfrastructure.startKafkaCluster();
        cluster = Cluster.onRedisCluster(kafka, List.of("--pubsub.replication-factor=3", "--pubsub.min-insync-replicas=2"), List.of());
        viaNginx = cluster.startSchedulersBehindNginx(2, nginxPrefix);
        cluster.startWorkers(2);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
        if (kafka != null) {
            kafka.stop();
        }
    }

    /** COMPLETED, and every item has exactly one result, in index order, whose output is the item. */
    private void assertCompletedWithEveryItemOnce(String id, List<String> items) {
        JsonNode done = Cluster.awaitTerminal(viaNginx, id, Duration.ofSeconds(120));
        assertThat(done.get("status").asString()).as(id).isEqualTo("COMPLETED");
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(items.size());
        assertThat(done.get("itemsFailed").asLong()).isZero();
        JsonNode results = viaNginx.get("/api/tasks/" + id + "/results?limit=1000").body();
        assertThat(results).hasSize(items.size());
        for (int i = 0; i < items.size(); i++) {
            assertThat(results.get(i).get("index").asInt()).isEqualTo(i);
            assertThat(results.get(i).get("stdout").asString().strip()).isEqualTo(items.get(i));
        }
    }

    @Test
    @Order(1)
    void the_schedulers_create_the_topics_on_3_replicas_with_min_insync_2() throws Exception {
        try (Admin admin = Admin.create(kafka.clientProperties(Map.of()))) {
            Map<String, TopicDescription> topics = admin.describeTopics(TOPICS).allTopicNames().get();
            Map<ConfigResource, Config> configs = admin.describeConfigs(
                    TOPICS.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList()).all().get();
            for (String topic : TOPICS) {
                for (TopicPartitionInfo partition : topics.get(topic).partitions()) {
                    assertThat(partition.replicas()).as(topic + " partition " + partition.partition()).hasSize(3);
                    assertThat(partition.isr()).as(topic + " partition " + partition.partition()).hasSize(3);
                }
                assertThat(configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic)).get("min.insync.replicas").value())
                        .as(topic).isEqualTo("2");
            }
        }
    }

    @Test
    @Order(2)
    void a_broker_killed_mid_task_loses_nothing() {
        List<String> items = IntStream.range(0, 40).mapToObj(String::valueOf).toList();
        String id = viaNginx.submit(SchedulerClient.taskJson("sleep 0.25; echo $1", items));
        await().atMost(Duration.ofSeconds(60)).until(() -> viaNginx.task(id).get("itemsSucceeded").asLong() >= 4);

        JsonNode beforeKill = viaNginx.task(id);
        kafka.kill(1);
        long killedAt = System.nanoTime();
        assertThat(beforeKill.get("status").asString()).as("still running when the broker was killed").isEqualTo("INPROGRESS");
        assertThat(beforeKill.get("itemsSucceeded").asLong()).isLessThan(items.size());
        List<String> later = new ArrayList<>();
        List<List<String>> laterItems = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            int task = t;
            laterItems.add(IntStream.range(0, 4).mapToObj(i -> "later-" + task + "-" + i).toList());
            later.add(viaNginx.submit(SchedulerClient.taskJson("echo $1", laterItems.get(t))));
        }

        assertCompletedWithEveryItemOnce(id, items);
        System.out.printf("RECOVERY Kafka broker kill -9 (3 brokers, Redis Cluster): task finished %.1f s after the kill%n",
                (System.nanoTime() - killedAt) / 1e9);
        for (int t = 0; t < later.size(); t++) {
            assertCompletedWithEveryItemOnce(later.get(t), laterItems.get(t));
        }
        System.out.printf("RECOVERY Kafka broker kill -9: the tasks submitted after it finished %.1f s after the kill%n",
                (System.nanoTime() - killedAt) / 1e9);
    }
}
