package io.dts.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A Redis Cluster of local redis-server processes in cluster mode, created with
 * {@code redis-cli --cluster create}, like the stack's {@code --redis-cluster} (which waits 5 s
 * instead of 2 before a silent master is failed over). It always runs
 * as local processes, Docker or not: nodes in containers would announce addresses the host cannot
 * reach, and the cluster's clients must connect to the addresses the nodes announce.
 */
public final class LocalRedisCluster {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final int replicasPerMaster;
    private final List<Node> nodes = new ArrayList<>();
    private final Path dir;

    public LocalRedisCluster(int masters, int replicasPerMaster) {
        this.replicasPerMaster = replicasPerMaster;
        try {
            dir = Files.createTempDirectory("dts-redis-cluster-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int i = 0; i < masters * (1 + replicasPerMaster); i++) {
            Path nodeDir = dir.resolve("node-" + i);
            try {
                Files.createDirectories(nodeDir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            nodes.add(new Node(FreePorts.next(), FreePorts.next(), nodeDir,
                    new LocalProcess("redis-cluster-node-" + i, nodeDir.resolve("redis.log"))));
        }
    }

    /** Starts every node, joins them into a cluster and waits until every slot is served; all or nothing. */
    public void start() {
        try {
            nodes.forEach(Node::start);
            List<String> create = new ArrayList<>(List.of(binary("redis-cli").getPath(), "--user", RedisUsers.ADMIN,
                    "--pass", RedisUsers.adminPassword(), "--no-auth-warning", "--cluster", "create"));
            create.addAll(addresses());
            create.addAll(List.of("--cluster-replicas", String.valueOf(replicasPerMaster), "--cluster-yes"));
            nodes.get(0).process().runToCompletion(create);
            awaitHealthy();
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    public void stop() {
        nodes.forEach(node -> node.process().stop());
    }

    /** {@code host:port} of every node, the value of {@code spring.data.redis.cluster.nodes}. */
    public List<String> addresses() {
        return nodes.stream().map(node -> "127.0.0.1:" + node.port()).toList();
    }

    public String nodesProperty() {
        return String.join(",", addresses());
    }

    /** Kills with SIGKILL the node that serves {@code port} now, as a crash would. */
    public void kill(int port) {
        nodes.stream().filter(node -> node.port() == port).findFirst().orElseThrow().process().kill();
    }

    /** The port of the master that serves a hash slot now, as the live nodes see it. */
    public int masterOfSlot(int slot) {
        for (Node node : nodes) {
            String slots = redisCli(node.port(), "cluster", "slots");
            if (slots == null) {
                continue;
            }
            // One line per value: start, end, then the master's ip and port (its replicas follow).
            String[] lines = slots.split("\n");
            for (int i = 0; i + 3 < lines.length; i++) {
                if (lines[i].matches("\\d+") && lines[i + 1].matches("\\d+") && lines[i + 2].equals("127.0.0.1")
                        && Integer.parseInt(lines[i]) <= slot && slot <= Integer.parseInt(lines[i + 1])) {
                    return Integer.parseInt(lines[i + 3]);
                }
            }
        }
        throw new IllegalStateException("No live node knows the master of slot " + slot);
    }

    /** Waits until every live node reports {@code cluster_state:ok}. */
    public void awaitHealthy() {
        Instant deadline = Instant.now().plus(READY_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (nodes.stream().filter(node -> node.process().isAlive())
                    .allMatch(node -> String.valueOf(redisCli(node.port(), "cluster", "info")).contains("cluster_state:ok"))) {
                return;
            }
            sleep(200);
        }
        throw new IllegalStateException("Redis Cluster not healthy within " + READY_TIMEOUT + "; logs in " + dir);
    }

    /** The reply of one redis-cli command, or null when the node does not answer within 10 s. */
    private String redisCli(int port, String... command) {
        List<String> line = new ArrayList<>(List.of(binary("redis-cli").getPath(), "-h", "127.0.0.1", "-p", String.valueOf(port),
                "--user", RedisUsers.ADMIN, "--pass", RedisUsers.adminPassword(), "--no-auth-warning"));
        line.addAll(List.of(command));
        try {
            Path output = Files.createTempFile(dir, "redis-cli-", ".out");
            Process process = new ProcessBuilder(line).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return null;
            }
            String reply = Files.readString(output, StandardCharsets.UTF_8);
            Files.delete(output);
            return process.exitValue() == 0 && !reply.startsWith("Could not connect")
                    ? reply.lines().map(String::strip).collect(Collectors.joining("\n")) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static File binary(String program) {
        File binary = LocalProcess.which(program);
        if (binary == null) {
            throw new IllegalStateException(program + " is not installed: run `apt-get install -y redis-server` (or ./scripts/test.sh, which does)");
        }
        return binary;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Node(int port, int busPort, Path dir, LocalProcess process) {
        void start() {
            // The users of RedisUsers; a replica follows its master as the admin user.
            process.start(List.of(binary("redis-server").getPath(), RedisUsers.config().toString(),
                    "--masteruser", RedisUsers.ADMIN, "--masterauth", RedisUsers.adminPassword(),
                    "--port", String.valueOf(port), "--bind", "127.0.0.1",
                    "--cluster-enabled", "yes", "--cluster-port", String.valueOf(busPort),
                    "--cluster-config-file", dir.resolve("nodes.conf").toString(), "--cluster-node-timeout", "2000",
                    "--dir", dir.toString(), "--save", "", "--appendonly", "yes", "--appendfsync", "everysec"),
                    port, Duration.ofSeconds(20));
        }
    }
}
