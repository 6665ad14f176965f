package io.dts.scheduler.config;

import io.dts.model.ShardSignature;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.FixedBackOff;

/** The topics (declared here, so the application creates them), the admin client and the listener error handling. */
@Configuration(proxyBeanMethods = false)
public class KafkaConfig {

    /** What spring-kafka's DeadLetterPublishingRecoverer appends to a topic's name. */
    private static final String DEAD_LETTER_SUFFIX = "-dlt";

    /** Shards are signed with the key schedulers and workers share, read from {@code dts.security.shard-key-file}. */
    @Bean
    ShardSignature shardSignature(@Value("${dts.security.shard-key-file:}") String keyFile) {
        return ShardSignature.fromKeyFile(keyFile);
    }

    /** For the readiness check and the sweeper's look at the shard topic; connects at its first request. */
    @Bean(destroyMethod = "close")
    Admin kafkaAdminClient(KafkaAdmin kafkaAdmin) {
        return Admin.create(kafkaAdmin.getConfigurationProperties());
    }

    @Bean
    NewTopic taskTopic(PubsubProperties pubsub) {
        return topic(pubsub.topic(), pubsub.partitions(), pubsub);
    }

    @Bean
    NewTopic shardTopic(PubsubProperties pubsub) {
        return topic(pubsub.taskShard().topic(), pubsub.shardPartitions(), pubsub);
    }

    @Bean
    NewTopic resultTopic(PubsubProperties pubsub) {
        return topic(pubsub.result().topic(), pubsub.partitions(), pubsub);
    }

    /**
     * The dead letter topics of the two listened-to topics, declared too: the brokers create no topic by
     * themselves. As many partitions as the topic they serve, since a record goes to its own partition number.
     */
    @Bean
    NewTopic taskDeadLetterTopic(PubsubProperties pubsub) {
        return topic(pubsub.topic() + DEAD_LETTER_SUFFIX, pubsub.partitions(), pubsub);
    }

    @Bean
    NewTopic shardDeadLetterTopic(PubsubProperties pubsub) {
        return topic(pubsub.taskShard().topic() + DEAD_LETTER_SUFFIX, pubsub.shardPartitions(), pubsub);
    }

    private static NewTopic topic(String name, int partitions, PubsubProperties pubsub) {
        return TopicBuilder.name(name).partitions(partitions).replicas(pubsub.replicationFactor())
                .config(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, String.valueOf(pubsub.minInsyncReplicas())).build();
    }

    /** A record that keeps failing (Redis down for long, or unreadable) goes to {@code <topic>-dlt}. */
    @Bean
    DefaultErrorHandler kafkaErrorHandler(KafkaOperations<Object, Object> kafka) {
        return new DefaultErrorHandler(new DeadLetterPublishingRecoverer(kafka), new FixedBackOff(1_000, 5));
    }
}
