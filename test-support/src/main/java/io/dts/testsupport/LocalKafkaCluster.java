package io.dts.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.SaslConfigs;

/**
 * KRaft Kafka in child JVMs, started from the kafka_2.13 jars on this JVM's classpath, on free
 * loopback ports: one node, or a cluster of 3 where every node is broker and controller, internal
 * topics have 3 replicas and {@code min.insync.replicas} is 2, as the stack's
 * {@code --kafka-brokers 3} runs it. As there, nobody reads or writes without logging in: the services get the
 * users and ACLs of {@code deploy/kafka/acls} ({@link KafkaUsers}), the tests' own clients log in as the nodes'
 * super user ({@link #clientProperties}). Data survives stop and start.
 */
public final class LocalKafkaCluster implements KafkaBroker {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final List<Node> nodes = new ArrayList<>();
    private final Path dir;
    private boolean formatted;
    private boolean accessGiven;

    public LocalKafkaCluster(int size) {
        try {
            dir = Files.createTempDirectory("dts-kafka-");
            Files.writeString(dir.resolve("logback.xml"), """
                    <configuration>
                      <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
                        <encoder><pattern>%d %-5level %logger{36} - %msg%n</pattern></encoder>
                      </appender>
                      <root level="WARN"><appender-ref ref="out"/></root>
                    </configuration>
                    """);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int id = 1; id <= size; id++) {
            nodes.add(new Node(id, FreePorts.next(), FreePorts.next(), dir.resolve("server-" + id + ".properties"),
                    new LocalProcess("kafka-" + id, dir.resolve("kafka-" + id + ".log"))));
        }
        try {
            for (Node node : nodes) {
                Files.writeString(node.config(), serverProperties(node));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The node's configuration: the stack's own file ({@code deploy/kafka/server.properties}), with this cluster's values. */
    private String serverProperties(Node node) throws IOException {
        String controllers = nodes.stream().map(n -> "127.0.0.1:" + n.controllerPort()).collect(Collectors.joining(","));
        Map<String, Object> values = Map.ofEntries(Map.entry("NODE_ID", node.id()), Map.entry("CONTROLLERS", controllers),
                Map.entry("LISTEN_HOST", "127.0.0.1"), Map.entry("HOST", "127.0.0.1"), Map.entry("PORT", node.port()),
                Map.entry("CONTROLLER_PORT", node.controllerPort()), Map.entry("LOG_DIR", dir.resolve("data-" + node.id())),
                Map.entry("PARTITIONS", 4), Map.entry("REPLICAS", Math.min(3, nodes.size())),
                Map.entry("MIN_INSYNC", nodes.size() > 1 ? 2 : 1), Map.entry("BROKER_PASSWORD", KafkaUsers.password(KafkaUsers.Role.BROKER)));
        String text = Files.readString(LocalProcess.repositoryFile("deploy/kafka/server.properties"));
        for (Map.Entry<String, Object> value : values.entrySet()) {
            text = text.replace("${" + value.getKey() + "}", String.valueOf(value.getValue()));
        }
        return text;
    }

    /** Starts the nodes that do not run and waits until every node is a registered broker. */
    @Override
    public void start() {
        String logback = "-Dlogback.configurationFile=" + dir.resolve("logback.xml");
        if (!formatted) {
            format(logback);
            formatted = true;
        }
        // All nodes first: a quorum of 3 needs 2 of them before any broker opens its port.
        for (Node node : nodes) {
            node.process().launch(withProperty(logback, LocalProcess.javaCommand("kafka.Kafka", node.config().toString())));
        }
        try {
            for (Node node : nodes) {
                node.process().awaitPort(node.port(), START_TIMEOUT);
            }
            awaitBrokers(nodes.size());
            if (!accessGiven) {
                giveAccess(logback);
                accessGiven = true;
            }
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    /** Formats every node once, all with one cluster id; a cluster names its controllers up front. */
    private void format(String logback) {
        String clusterId = Uuid.randomUuid().toString();
        String initialControllers = nodes.stream()
                .map(n -> n.id() + "@127.0.0.1:" + n.controllerPort() + ":" + Uuid.randomUuid())
                .collect(Collectors.joining(","));
        for (Node node : nodes) {
            List<String> format = LocalProcess.javaCommand("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", node.config().toString());
            format.addAll(nodes.size() == 1 ? List.of("--standalone") : List.of("--initial-controllers", initialControllers));
            node.process().runToCompletion(withProperty(logback, format));
        }
    }

    /** The services' users and ACLs, by the stack's own program (kept in the metadata: once per cluster). */
    private void giveAccess(String logback) {
        nodes.get(0).process().runToCompletion(withProperty(logback, LocalProcess.javaCommand(
                LocalProcess.repositoryFile("deploy/kafka/KafkaAccess.java").toString(), bootstrapServers(),
                KafkaUsers.secrets().toString(), LocalProcess.repositoryFile("deploy/kafka/acls").toString())));
    }

    @Override
    public Map<String, Object> clientProperties(Map<String, Object> more) {
        Map<String, Object> properties = new HashMap<>(more);
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        properties.put(AdminClientConfig.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        properties.put(SaslConfigs.SASL_MECHANISM, "PLAIN");
        properties.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                + KafkaUsers.Role.BROKER.user() + "\" password=\"" + KafkaUsers.password(KafkaUsers.Role.BROKER) + "\";");
        return properties;
    }

    private void awaitBrokers(int count) {
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        try (Admin admin = Admin.create(clientProperties(Map.of(
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000)))) {
            while (Instant.now().isBefore(deadline)) {
                try {
                    if (admin.describeCluster().nodes().get().size() >= count) {
                        return;
                    }
                } catch (Exception notYet) {
                    // keep polling until the deadline
                }
                Thread.sleep(250);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IllegalStateException("Kafka: fewer than " + count + " brokers registered within " + START_TIMEOUT + "; logs in " + dir);
    }

    private static List<String> withProperty(String property, List<String> command) {
        command.add(1, property);
        return command;
    }

    @Override
    public void stop() {
        nodes.forEach(node -> node.process().stop());
    }

    /** Kills node {@code id} (1..size) with SIGKILL, as a crash would. */
    public void kill(int id) {
        nodes.get(id - 1).process().kill();
    }

    /** Every node's {@code host:port}, comma-separated. */
    @Override
    public String bootstrapServers() {
        return IntStream.range(0, nodes.size()).mapToObj(i -> "127.0.0.1:" + nodes.get(i).port()).collect(Collectors.joining(","));
    }

    private record Node(int id, int port, int controllerPort, Path config, LocalProcess process) {
    }
}
