package io.dts.testsupport;

import java.time.Duration;

import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Started Lettuce connection factories to the tests' Redis server and Redis Cluster, with the client
 * settings the services use (common-redis's dts-redis-client.yml): 2 s timeouts, and on the cluster a
 * slot map refreshed every 5 s and on redirects. The caller destroys them.
 */
public final class RedisConnections {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private RedisConnections() {
    }

    public static LettuceConnectionFactory toServer() {
        RedisServer server = TestInfrastructure.redis();
        return toServer(server.host(), server.port());
    }

    /** As the tests' admin user, to any Redis the tests start (or a proxy in front of one). */
    public static LettuceConnectionFactory toServer(String host, int port) {
        RedisStandaloneConfiguration server = new RedisStandaloneConfiguration(host, port);
        server.setUsername(RedisUsers.ADMIN);
        server.setPassword(RedisUsers.adminPassword());
        return started(new LettuceConnectionFactory(server, LettuceClientConfiguration.builder().commandTimeout(TIMEOUT).build()));
    }

    public static LettuceConnectionFactory toCluster() {
        ClusterTopologyRefreshOptions refresh = ClusterTopologyRefreshOptions.builder()
                .enableAllAdaptiveRefreshTriggers().enablePeriodicRefresh(Duration.ofSeconds(5)).build();
        LettuceClientConfiguration client = LettuceClientConfiguration.builder().commandTimeout(TIMEOUT)
                .clientOptions(ClusterClientOptions.builder().topologyRefreshOptions(refresh).build()).build();
        RedisClusterConfiguration cluster = new RedisClusterConfiguration(TestInfrastructure.redisCluster().addresses());
        cluster.setUsername(RedisUsers.ADMIN);
        cluster.setPassword(RedisUsers.adminPassword());
        return started(new LettuceConnectionFactory(cluster, client));
    }

    private static LettuceConnectionFactory started(LettuceConnectionFactory connections) {
        connections.afterPropertiesSet();
        connections.start();
        return connections;
    }
}
