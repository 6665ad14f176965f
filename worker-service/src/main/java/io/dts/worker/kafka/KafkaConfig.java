package io.dts.worker.kafka;

import io.dts.model.ShardSignature;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.kafka.autoconfigure.ConcurrentKafkaListenerContainerFactoryConfigurer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.FixedBackOff;

/** The shard listener container: tracks assigned partitions; a record that cannot be read goes to the dead letter topic. */
@Configuration(proxyBeanMethods = false)
public class KafkaConfig {

    /** Shards are signed with the key schedulers and workers share, read from {@code dts.security.shard-key-file}. */
    @Bean
    ShardSignature shardSignature(@Value("${dts.security.shard-key-file:}") String keyFile) {
        return ShardSignature.fromKeyFile(keyFile);
    }

    @Bean
    ConcurrentKafkaListenerContainerFactory<Object, Object> kafkaListenerContainerFactory(
            ConcurrentKafkaListenerContainerFactoryConfigurer configurer, ConsumerFactory<Object, Object> consumerFactory,
            AssignedPartitions partitions, KafkaOperations<Object, Object> kafka) {
        ConcurrentKafkaListenerContainerFactory<Object, Object> factory = new ConcurrentKafkaListenerContainerFactory<>();
        configurer.configure(factory, consumerFactory);
        factory.getContainerProperties().setConsumerRebalanceListener(partitions);
        // Offsets are acknowledged by HeldShards, each once it and every shard before it on its partition are finished.
        factory.getContainerProperties().setAckMode(ContainerProperties.AckMode.MANUAL);
        // The listener never throws (a shard's failures are ShardListener's to retry): what fails here is a record that cannot be read.
        factory.setCommonErrorHandler(new DefaultErrorHandler(new DeadLetterPublishingRecoverer(kafka), new FixedBackOff(0, 0)));
        return factory;
    }
}
