package io.dts.worker.execution;

import io.dts.testsupport.TestInfrastructure;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * The same contract of the progress store on a Redis Cluster of 3 masters: a task's transactions and
 * pipelines run on the master of its hash slot, the shared indexes wherever their keys live.
 */
class RedisShardProgressOnClusterTest extends RedisShardProgressTest {

    /** Hides the superclass's {@code connect()}, so JUnit runs only this one. */
    @BeforeAll
    static void connect() {
        use(new LettuceConnectionFactory(new RedisClusterConfiguration(TestInfrastructure.redisCluster().addresses())));
    }
}
