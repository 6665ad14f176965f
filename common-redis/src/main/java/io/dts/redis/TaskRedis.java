package io.dts.redis;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.dts.model.RedisKeys;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The Redis connection for one task's keys. On a single server it is the application's template. On
 * a Redis Cluster, Spring Data Redis runs neither WATCH, MULTI/EXEC nor pipelines, so a task's keys
 * are reached through a plain connection to the master that serves the task's hash slot: every key
 * of a task carries the {@code {taskId}} tag, so its transactions stay valid there. Keys shared by all
 * tasks (indexes, heartbeats, locks) keep using the application's template, which routes by key.
 */
public class TaskRedis implements DisposableBean {

    private final StringRedisTemplate shared;
    private final LettuceConnectionFactory cluster;
    private final Map<String, Master> masters = new ConcurrentHashMap<>();

    public TaskRedis(RedisConnectionFactory connections, StringRedisTemplate shared) {
        this.shared = shared;
        this.cluster = connections instanceof LettuceConnectionFactory lettuce && lettuce.isClusterAware() ? lettuce : null;
    }

    /** The template for the keys of {@code taskId}: transactions and pipelines work on it. */
    public StringRedisTemplate forTask(String taskId) {
        if (cluster == null) {
            return shared;
        }
        // Lettuce keeps the slot map up to date (periodic and adaptive refresh, see application.yml),
        // so after a failover the next call reaches the new master.
        RedisClusterClient client = (RedisClusterClient) cluster.getRequiredNativeClient();
        RedisClusterNode master = client.getPartitions().getMasterBySlot(SlotHash.getSlot(RedisKeys.task(taskId)));
        if (master == null) {
            throw new RedisConnectionFailureException("No Redis Cluster master serves the slot of task " + taskId);
        }
        RedisURI uri = master.getUri();
        return masters.computeIfAbsent(uri.getHost() + ":" + uri.getPort(), address -> connect(uri.getHost(), uri.getPort())).template();
    }

    private Master connect(String host, int port) {
        RedisClusterConfiguration clusterConfiguration = cluster.getClusterConfiguration();
        RedisStandaloneConfiguration node = new RedisStandaloneConfiguration(host, port);
        node.setUsername(clusterConfiguration.getUsername());
        node.setPassword(clusterConfiguration.getPassword());
        // Same client settings (timeouts, pool, TLS, client resources) as the cluster connection.
        LettuceConnectionFactory connections = new LettuceConnectionFactory(node, cluster.getClientConfiguration());
        connections.afterPropertiesSet();
        connections.start();
        return new Master(connections, new StringRedisTemplate(connections));
    }

    @Override
    public void destroy() {
        masters.values().forEach(master -> master.connections().destroy());
        masters.clear();
    }

    private record Master(LettuceConnectionFactory connections, StringRedisTemplate template) {
    }
}
