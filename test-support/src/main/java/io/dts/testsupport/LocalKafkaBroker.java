package io.dts.testsupport;

import java.util.List;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.apache.kafka.common.Uuid;

/**
 * A single-node KRaft Kafka broker (combined broker and controller) in a child JVM, started from the
 * kafka_2.13 jars on this JVM's classpath, on free loopback ports. Its data survives stop and start.
 */
public final class LocalKafkaBroker implements KafkaBroker {

    private final int port = LocalProcess.freePort();
    private final int controllerPort = LocalProcess.freePort();
    private final Path dir;
    private final Path config;
    private final LocalProcess process;
    private boolean formatted;

    public LocalKafkaBroker() {
        try {
            dir = Files.createTempDirectory("dts-kafka-");
            config = dir.resolve("server.properties");
            Files.writeString(config, serverProperties());
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
        process = new LocalProcess("kafka", dir.resolve("kafka.log"));
    }

    private String serverProperties() {
        return """
                process.roles=broker,controller
                node.id=1
                controller.quorum.bootstrap.servers=127.0.0.1:%2$d
                listeners=PLAINTEXT://127.0.0.1:%1$d,CONTROLLER://127.0.0.1:%2$d
                advertised.listeners=PLAINTEXT://127.0.0.1:%1$d
                controller.listener.names=CONTROLLER
                listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
                log.dirs=%3$s
                num.partitions=4
                offsets.topic.replication.factor=1
                offsets.topic.num.partitions=4
                transaction.state.log.replication.factor=1
                transaction.state.log.min.isr=1
                share.coordinator.state.topic.replication.factor=1
                share.coordinator.state.topic.min.isr=1
                group.initial.rebalance.delay.ms=0
                auto.create.topics.enable=true
                """.formatted(port, controllerPort, dir.resolve("data"));
    }

    @Override
    public void start() {
        String logback = "-Dlogback.configurationFile=" + dir.resolve("logback.xml");
        if (!formatted) {
            // Formatting once keeps topics and committed offsets across a stop and start.
            process.runToCompletion(withProperty(logback, LocalProcess.javaCommand("kafka.tools.StorageTool",
                    "format", "-t", Uuid.randomUuid().toString(), "-c", config.toString(), "--standalone")));
            formatted = true;
        }
        process.start(withProperty(logback, LocalProcess.javaCommand("kafka.Kafka", config.toString())),
                port, Duration.ofSeconds(60));
    }

    private static List<String> withProperty(String property, List<String> command) {
        command.add(1, property);
        return command;
    }

    @Override
    public void stop() {
        process.stop();
    }

    @Override
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }
}
