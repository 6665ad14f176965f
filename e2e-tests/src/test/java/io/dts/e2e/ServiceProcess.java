package io.dts.e2e;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.dts.testsupport.KafkaUsers;
import io.dts.testsupport.RedisUsers;
import io.dts.testsupport.RedisUsers.Role;

/** One real scheduler or worker, run from its executable jar as a separate JVM, as in production. */
final class ServiceProcess {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final Path jar;
    private final String module;
    private final int port;
    private final List<String> args;
    private final Map<String, String> environment;
    private String heap = "-Xmx256m";
    private String address = "127.0.0.1";
    private final Path log;
    private final StartupArchive startup;
    private Process process;

    ServiceProcess(String name, String module, int port, List<String> args) {
        this(name, module, port, args, Map.of());
    }

    /** With {@code environment} added to this JVM's own. */
    ServiceProcess(String name, String module, int port, List<String> args, Map<String, String> environment) {
        this.name = name;
        this.environment = environment;
        this.module = module;
        this.jar = Path.of("..", module, "target", module + "-exec.jar").toAbsolutePath().normalize();
        this.port = port;
        this.args = args;
        this.log = Path.of("target", "e2e-logs", name + ".log").toAbsolutePath();
        this.startup = StartupArchive.of(module);
    }

    /** The HTTP port it serves on (its API, or a worker's actuator). */
    int port() {
        return port;
    }

    /** Runs the JVM with this much heap ({@code -Xmx}, 256m unless set), to prove what fits in it. */
    ServiceProcess withMaxHeap(String size) {
        heap = "-Xmx" + size;
        return this;
    }

    /** Binds {@code address} instead of loopback, to prove what a service does there. */
    ServiceProcess withAddress(String address) {
        this.address = address;
        return this;
    }

    /** Starts the service and waits until it is ready. */
    ServiceProcess start() throws IOException {
        return launch().awaitReady();
    }

    /** Starts the service without waiting: several start side by side, then {@link #awaitReady()} each. */
    ServiceProcess launch() throws IOException {
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: build with `mvn package` (./scripts/test.sh does)");
        }
        Files.createDirectories(log.getParent());
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // Serial GC as scripts/stack.sh runs them.
                heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        command.addAll(startup.options());
        // Loopback only, as everything the tests start.
        command.addAll(List.of("-jar", startup.jar(jar).toString(), "--server.port=" + port,
                "--server.address=" + address, "--dts.security.shard-key-file=" + SharedKeys.shardKeyFile(),
                // The keys schedulers take tokens by; SchedulerClient sends the operator's.
                "--dts.security.keys-file=" + SharedKeys.apiKeysFile(),
                // Its own Redis user, as the stack gives it (the tests' Redis runs deploy/redis/users.conf).
                "--dts.redis.credentials-dir=" + RedisUsers.credentials(module.startsWith("worker") ? Role.WORKER : Role.SCHEDULER),
                // And its own Kafka user, with the rights deploy/kafka/acls gives it.
                "--dts.kafka.credentials-dir=" + KafkaUsers.credentials(module.startsWith("worker") ? KafkaUsers.Role.WORKER : KafkaUsers.Role.SCHEDULER)));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        process = builder.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return this;
    }

    /** Waits until the launched service answers ready, failing at once if it exits. */
    ServiceProcess awaitReady() {
        await(name + " healthy (log: " + log + ")").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log);
                    }
                    return healthy();
                });
        return this;
    }

    private boolean healthy() {
        try {
            HttpResponse<Void> response = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/actuator/health/readiness"))
                    .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    Path log() {
        return log;
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (process != null && !process.isAlive()) {
            startup.exited();
        }
    }

    /** SIGKILL: the process gets no chance to clean up, as when a node dies. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        startup.exited();
    }
}
