package io.dts.testsupport;

import java.util.Map;

/** A real Kafka broker for tests. Local brokers can be stopped and started again on the same port. */
public interface KafkaBroker {

    /** Starts the server; does nothing when it runs already. */
    void start();

    void stop();

    String bootstrapServers();

    /**
     * What a client of the tests' own needs, plus {@code more}: the bootstrap servers and a login as the brokers'
     * super user (nobody reads or writes without one).
     */
    Map<String, Object> clientProperties(Map<String, Object> more);
}
