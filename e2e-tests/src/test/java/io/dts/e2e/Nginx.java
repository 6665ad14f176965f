package io.dts.e2e;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * nginx from the system packages, unprivileged from a prefix folder, balancing the schedulers with the API rules
 * every deployment shares ({@code deploy/nginx/dts-api.conf}: body limit, proxy settings, problem+json error pages).
 */
final class Nginx implements AutoCloseable {

    /** The e2e tests run in the e2e-tests module folder; the shared rules are in the repository's deploy/nginx. */
    private static final Path API_RULES = Path.of("..", "deploy", "nginx", "dts-api.conf").toAbsolutePath().normalize();

    private final Path prefix;
    private final int port;
    private Process process;

    Nginx(Path prefix, int port) {
        this.prefix = prefix;
        this.port = port;
    }

    Nginx start(List<String> upstreams) throws IOException {
        if (!Files.isRegularFile(API_RULES)) {
            throw new IllegalStateException(API_RULES + " is missing: run the e2e tests from the e2e-tests module folder (mvn does)");
        }
        Files.createDirectories(prefix.resolve("logs"));
        String servers = upstreams.stream().map(u -> "    server " + u + " max_fails=1 fail_timeout=5s;")
                .collect(Collectors.joining("\n"));
        Files.writeString(prefix.resolve("nginx.conf"), """
                pid %1$s/nginx.pid;
                error_log %1$s/logs/error.log warn;
                events { worker_connections 1024; }
                http {
                  access_log off;
                  client_body_temp_path %1$s/body; proxy_temp_path %1$s/proxy; fastcgi_temp_path %1$s/fastcgi;
                  uwsgi_temp_path %1$s/uwsgi; scgi_temp_path %1$s/scgi;
                  upstream schedulers {
                %2$s
                    keepalive 16;
                  }
                  server {
                    listen 127.0.0.1:%3$d;
                    include "%4$s";
                  }
                }
                """.formatted(prefix, servers, port, API_RULES));
        process = new ProcessBuilder("nginx", "-p", prefix.toString(), "-c", prefix.resolve("nginx.conf").toString(),
                "-g", "daemon off;").redirectErrorStream(true)
                .redirectOutput(prefix.resolve("logs/stdout.log").toFile()).start();
        await("nginx listening").atMost(Duration.ofSeconds(10)).until(() -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException notYet) {
                return false;
            }
        });
        return this;
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
