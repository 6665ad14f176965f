package io.dts.testsupport;

import org.testcontainers.kafka.KafkaContainer;

/** A KRaft Kafka broker in a container (the official apache/kafka image), for machines with Docker. */
final class ContainerKafkaBroker implements KafkaBroker {

    private final KafkaContainer container = new KafkaContainer("apache/kafka:4.1.2");

    @Override
    public void start() {
        container.start();
    }

    @Override
    public void stop() {
        container.stop();
    }

    @Override
    public String bootstrapServers() {
        return container.getBootstrapServers();
    }
}
