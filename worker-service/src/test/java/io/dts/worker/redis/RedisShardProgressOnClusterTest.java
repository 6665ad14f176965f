package io.dts.worker.redis;

import io.dts.testsupport.RedisConnections;
import org.junit.jupiter.api.BeforeAll;

/**
 * The same contract of the progress store on a Redis Cluster of 3 masters: a task's transactions and
 * pipelines run on the master of its hash slot, the shared indexes wherever their keys live.
 */
class RedisShardProgressOnClusterTest extends RedisShardProgressTest {

    /** Hides the superclass's {@code connect()}, so JUnit runs only this one. */
    @BeforeAll
    static void connect() {
        use(RedisConnections.toCluster());
    }
}
