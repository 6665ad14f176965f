package io.dts.testsupport;

/** A real Kafka broker for tests. Local brokers can be stopped and started again on the same port. */
public interface KafkaBroker {

    /** Starts the server; does nothing when it runs already. */
    void start();

    void stop();

    String bootstrapServers();
}
