package io.dts.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * redis-server from the system packages, on a free loopback port, with append-only persistence so a
 * stop and start keeps the data, and the users of {@link RedisUsers} (as the stack runs it).
 */
public final class LocalRedisServer implements RedisServer {

    private final int port = FreePorts.next();
    private final Path dir;
    private final LocalProcess process;

    public LocalRedisServer() {
        try {
            dir = Files.createTempDirectory("dts-redis-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        process = new LocalProcess("redis-server", dir.resolve("redis.log"));
    }

    @Override
    public void start() {
        File binary = LocalProcess.which("redis-server");
        if (binary == null) {
            throw new IllegalStateException(
                    "redis-server is not installed: run `apt-get install -y redis-server` (or ./scripts/test.sh, which does)");
        }
        process.start(List.of(binary.getPath(), RedisUsers.config().toString(), "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--save", "", "--appendonly", "yes", "--appendfsync", "everysec"),
                port, Duration.ofSeconds(20));
    }

    @Override
    public void stop() {
        process.stop();
    }

    @Override
    public void kill() {
        process.kill();
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return port;
    }
}
