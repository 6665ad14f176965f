package io.dts.redis;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.Partitions;
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
 * a Redis Cluster, Spring Data Redis's cluster connection refuses WATCH and MULTI/EXEC, so a task's
 * keys are reached through a plain connection to the master that serves the task's hash slot: every
 * key of a task carries the {@code {taskId}} tag, so its transactions stay valid there. Keys shared by
 * all tasks (indexes, heartbeats, locks) keep using the application's template, which routes by key.
 */
public class TaskRedis implements DisposableBean {

    private final StringRedisTemplate shared;
    private final LettuceConnectionFactory cluster;
    /** One connection factory per master, by {@code host:port}. */
    private final Map<String, Master> masters = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public TaskRedis(RedisConnectionFactory connections, StringRedisTemplate shared) {
        this.shared = shared;
        this.cluster = connections instanceof LettuceConnectionFactory lettuce && lettuce.isClusterAware() ? lettuce : null;
    }

    /** The template for the keys of {@code taskId}: transactions and pipelines work on it. */
    public StringRedisTemplate forTask(String taskId) {
        if (cluster == null) {
            return shared;
        }
        if (closed) {
            throw new IllegalStateException("TaskRedis is closed");
        }
        // Lettuce refreshes this slot map every few seconds and on redirects (dts-redis-client.yml), so
        // after a failover the new master is found within that period; meanwhile commands sent to
        // the old one fail and the callers retry.
        Partitions slots = ((RedisClusterClient) cluster.getRequiredNativeClient()).getPartitions();
        RedisClusterNode master = slots.getMasterBySlot(SlotHash.getSlot(RedisKeys.task(taskId)));
        if (master == null) {
            throw new RedisConnectionFailureException("No Redis Cluster master serves the slot of task " + taskId);
        }
        RedisURI uri = master.getUri();
        String address = uri.getHost() + ":" + uri.getPort();
        Master connection = masters.get(address);
        if (connection == null) {
            // A master we have not seen: the cluster changed, so let go of nodes that are masters no more.
            forgetFormerMasters(slots);
            connection = masters.computeIfAbsent(address, a -> connect(uri.getHost(), uri.getPort()));
        }
        return connection.template();
    }

    /** Closes the connections to nodes that serve no slot any more (a failed master, now replaced). */
    private void forgetFormerMasters(Partitions slots) {
        Set<String> serving = slots.stream()
                .filter(node -> node.is(RedisClusterNode.NodeFlag.UPSTREAM) && !node.getSlots().isEmpty())
                .map(node -> node.getUri().getHost() + ":" + node.getUri().getPort()).collect(Collectors.toSet());
        for (String address : masters.keySet()) {
            Master former = serving.contains(address) ? null : masters.remove(address);
            if (former != null) {
                former.connections().destroy();
            }
        }
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

    /** {@code host:port} of the masters this holds connections to. */
    Set<String> connectedMasters() {
        return Set.copyOf(masters.keySet());
    }

    @Override
    public void destroy() {
        closed = true;
        masters.values().forEach(master -> master.connections().destroy());
        masters.clear();
    }

    private record Master(LettuceConnectionFactory connections, StringRedisTemplate template) {
    }
}
