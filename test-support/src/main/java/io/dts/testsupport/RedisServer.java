package io.dts.testsupport;

/** A real Redis server for tests. Local servers can be stopped and started again on the same port. */
public interface RedisServer {

    /** Starts the server; does nothing when it runs already. */
    void start();

    void stop();

    /** Kills the server with SIGKILL, as a crash would: it loses what it had not written to disk. */
    void kill();

    String host();

    int port();
}
