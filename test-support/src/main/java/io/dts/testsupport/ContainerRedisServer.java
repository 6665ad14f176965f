package io.dts.testsupport;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/** Redis in a container, for machines with a Docker engine. */
final class ContainerRedisServer implements RedisServer {

    private final GenericContainer<?> container =
            new GenericContainer<>(DockerImageName.parse("redis:7.4-alpine")).withExposedPorts(6379)
                    .withCopyFileToContainer(MountableFile.forHostPath(RedisUsers.config()), "/etc/redis/users.conf")
                    .withCommand("redis-server", "/etc/redis/users.conf");

    @Override
    public void start() {
        container.start();
    }

    @Override
    public void stop() {
        container.stop();
    }

    @Override
    public void kill() {
        container.getDockerClient().killContainerCmd(container.getContainerId()).exec();
    }

    @Override
    public String host() {
        return container.getHost();
    }

    @Override
    public int port() {
        return container.getMappedPort(6379);
    }
}
