package io.dts.testsupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/**
 * The real Redis server and Kafka broker the tests run against, started once per test JVM.
 * Redis runs in a container (Testcontainers) when a Docker engine answers, otherwise as a local
 * redis-server from the system packages; Kafka always runs from Maven Central's jars in child JVMs, with the
 * stack's own configuration and users ({@link LocalKafkaCluster}). Either way the tests talk to real servers
 * over loopback and never skip.
 */
public final class TestInfrastructure {

    private static final Logger log = LoggerFactory.getLogger(TestInfrastructure.class);

    private static RedisServer redis;
    private static KafkaBroker kafka;
    private static LocalRedisCluster redisCluster;

    private TestInfrastructure() {
    }

    public static synchronized RedisServer redis() {
        if (redis == null) {
            redis = dockerAvailable() ? new ContainerRedisServer() : new LocalRedisServer();
            redis.start();
            Runtime.getRuntime().addShutdownHook(new Thread(redis::stop, "stop-redis"));
            log.info("Redis for tests: {} at {}:{}", redis.getClass().getSimpleName(), redis.host(), redis.port());
        }
        return redis;
    }

    /** A Redis Cluster of 3 masters with a replica each, so a master can fail over. */
    public static synchronized LocalRedisCluster redisCluster() {
        if (redisCluster == null) {
            LocalRedisCluster cluster = new LocalRedisCluster(3, 1);
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::stop, "stop-redis-cluster"));
            cluster.start();
            log.info("Redis Cluster for tests at {}", cluster.nodesProperty());
            redisCluster = cluster;
        }
        return redisCluster;
    }

    /**
     * A second Kafka: 3 KRaft nodes, internal topics on 3 replicas, min.insync.replicas 2. Local
     * processes only (as the Redis Cluster), started by the tests that need it; stop it when done.
     */
    public static LocalKafkaCluster startKafkaCluster() {
        LocalKafkaCluster cluster = new LocalKafkaCluster(3);
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::stop, "stop-kafka-cluster"));
        cluster.start();
        log.info("Kafka cluster for tests at {}", cluster.bootstrapServers());
        return cluster;
    }

    public static synchronized KafkaBroker kafka() {
        if (kafka == null) {
            kafka = new LocalKafkaCluster(1);
            kafka.start();
            Runtime.getRuntime().addShutdownHook(new Thread(kafka::stop, "stop-kafka"));
            log.info("Kafka for tests: {} at {}", kafka.getClass().getSimpleName(), kafka.bootstrapServers());
        }
        return kafka;
    }

    private static boolean dockerAvailable() {
        if (Boolean.getBoolean("dts.test.local-servers")) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }
}
