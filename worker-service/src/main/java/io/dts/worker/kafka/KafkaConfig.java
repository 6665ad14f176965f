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
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.ExponentialBackOff;

/** The shard listener container: tracks assigned partitions; failed shards are retried, then dead-lettered. */
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
        // A shard fails when Redis cannot take its results: retry for about a minute before the DLT.
        ExponentialBackOff backOff = new ExponentialBackOff(1_000, 2);
        backOff.setMaxInterval(10_000);
        backOff.setMaxElapsedTime(60_000);
        factory.setCommonErrorHandler(new DefaultErrorHandler(new DeadLetterPublishingRecoverer(kafka), backOff));
        return factory;
    }
}
