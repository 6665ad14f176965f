package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Checks {@code docker-compose.yml} against the code, without Docker: every environment variable of
 * a Java service must bind to a property its {@code application.yml} declares (a typo there is
 * silently ignored at runtime), and the cluster must start in order and stay reachable only on loopback.
 * {@code scripts/compose-check.sh} builds and runs it for real.
 */
class ComposeFileTest {

    private static final Path REPO_ROOT = Path.of("..");

    /** Variables the JVM reads itself; they are not Spring properties. */
    private static final Set<String> JVM_VARIABLES = Set.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTS");

    /** The service that gives Kafka its users, then exits: the others wait until it has, not until it is healthy. */
    private static final String RUNS_ONCE = "kafka-access";

    private final Map<String, Map<String, Object>> services = services();

    @Test
    void every_environment_variable_maps_to_a_real_property() throws IOException {
        for (Map.Entry<String, Map<String, Object>> service : javaServices().entrySet()) {
            Path module = moduleOf(service.getValue());
            Set<String> properties = declaredProperties(REPO_ROOT.resolve(module).resolve("src/main/resources/application.yml"));

            for (String variable : environment(service.getValue()).keySet()) {
                if (JVM_VARIABLES.contains(variable)) {
                    continue;
                }
                assertThat(properties)
                        .as("%s sets %s, which binds to no property in %s/src/main/resources/application.yml",
                                service.getKey(), variable, module)
                        .contains(normalized(variable));
            }
        }
    }

    @Test
    void every_java_service_sets_kafka_and_redis() {
        assertThat(javaServices()).as("services built from a Java module").containsOnlyKeys("scheduler-1", "scheduler-2", "worker");
        javaServices().forEach((name, service) -> assertThat(environment(service))
                .as("environment of %s", name)
                .containsKeys("PUBSUB_NAMESPACE", "SPRING_DATA_REDIS_HOST"));
    }

    @Test
    void every_service_has_a_healthcheck_but_the_one_that_runs_once() {
        assertThat(services).containsOnlyKeys("kafka", "kafka-access", "redis", "scheduler-1", "scheduler-2", "worker", "nginx");
        assertThat(services.get(RUNS_ONCE).get("restart")).as("%s runs once", RUNS_ONCE).isEqualTo("no");
        services.forEach((name, service) -> {
            if (name.equals(RUNS_ONCE)) {
                return;
            }
            assertThat(service).as("service %s", name).containsKey("healthcheck");
            Map<String, Object> healthcheck = map(service.get("healthcheck"));
            assertThat(healthcheck.get("disable")).as("healthcheck of %s disabled", name).isNotEqualTo(Boolean.TRUE);
            assertThat(healthcheck.get("test")).as("healthcheck test of %s", name).isNotNull();
        });
    }

    @Test
    void every_dependency_waits_until_the_other_service_is_healthy_or_has_run() {
        services.forEach((name, service) -> {
            Object dependsOn = service.get("depends_on");
            if (dependsOn == null) {
                return;
            }
            assertThat(dependsOn).as("depends_on of %s must name a condition per service (long syntax)", name).isInstanceOf(Map.class);
            map(dependsOn).forEach((dependency, settings) -> {
                assertThat(services).as("%s depends on an unknown service", name).containsKey(dependency);
                assertThat(map(settings).get("condition")).as("%s -> %s", name, dependency)
                        .isEqualTo(dependency.equals(RUNS_ONCE) ? "service_completed_successfully" : "service_healthy");
            });
        });
    }

    @Test
    void publishes_host_ports_only_on_loopback() {
        services.forEach((name, service) -> {
            for (Object port : list(service.get("ports"))) {
                assertThat(String.valueOf(port)).as("port of %s", name).startsWith("127.0.0.1:");
            }
        });
        assertThat(list(services.get("nginx").get("ports"))).as("the API on the host").contains("127.0.0.1:${DTS_API_PORT:-30000}:30000");
    }

    @Test
    void the_worker_can_be_scaled_to_many_containers() {
        Map<String, Object> worker = services.get("worker");
        assertThat(worker).as("a fixed name or host port clashes between replicas").doesNotContainKeys("container_name", "ports");
        assertThat(environment(worker)).as("a fixed worker id would be shared by every replica").doesNotContainKey("WORKER_ID");
    }

    @Test
    void nginx_sends_the_api_to_every_scheduler() throws IOException {
        String nginxConf = Files.readString(REPO_ROOT.resolve("deploy/nginx/nginx.conf"));
        javaServices().forEach((name, service) -> {
            if (moduleOf(service).equals(Path.of("scheduler-service"))) {
                assertThat(nginxConf).as("upstream server for %s", name).contains("server " + name + ":30000");
            }
        });
        assertThat(nginxConf).contains("listen 30000;", "include /etc/nginx/dts-api.conf;");
        assertThat(Files.readString(REPO_ROOT.resolve("deploy/nginx/Dockerfile"))).as("the shared API rules, where nginx.conf includes them")
                .contains("COPY nginx/dts-api.conf /etc/nginx/dts-api.conf");
        assertThat(Files.readString(REPO_ROOT.resolve("deploy/nginx/dts-api.conf")))
                .contains("proxy_next_upstream error timeout http_502 http_503;");
    }

    // ---------------------------------------------------------------------------------------------

    private static Map<String, Map<String, Object>> services() {
        try (Reader reader = Files.newBufferedReader(REPO_ROOT.resolve("docker-compose.yml"))) {
            Map<String, Object> compose = new Yaml().load(reader);
            Map<String, Map<String, Object>> services = new LinkedHashMap<>();
            map(compose.get("services")).forEach((name, service) -> services.put(name, map(service)));
            return services;
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read docker-compose.yml at the repository root", e);
        }
    }

    /** The services built from one of our Java modules (their build context is the repository root), by name. */
    private Map<String, Map<String, Object>> javaServices() {
        Map<String, Map<String, Object>> built = new LinkedHashMap<>();
        services.forEach((name, service) -> {
            if (service.get("build") instanceof Map<?, ?> build && ".".equals(build.get("context"))) {
                built.put(name, service);
            }
        });
        return built;
    }

    /** The module a service is built from: the folder of its Dockerfile. */
    private static Path moduleOf(Map<String, Object> service) {
        Object dockerfile = map(service.get("build")).get("dockerfile");
        assertThat(dockerfile).as("build.dockerfile").isNotNull();
        return Path.of(String.valueOf(dockerfile)).getParent();
    }

    /** Compose accepts a map or a list of {@code NAME=value}; both become a map. */
    private static Map<String, String> environment(Map<String, Object> service) {
        Map<String, String> environment = new LinkedHashMap<>();
        Object declared = service.get("environment");
        if (declared instanceof Map<?, ?> entries) {
            entries.forEach((name, value) -> environment.put(String.valueOf(name), String.valueOf(value)));
        } else {
            for (Object entry : list(declared)) {
                String[] nameAndValue = String.valueOf(entry).split("=", 2);
                environment.put(nameAndValue[0], nameAndValue.length > 1 ? nameAndValue[1] : "");
            }
        }
        return environment;
    }

    /** Every leaf property of an application.yml (all its documents), normalized. */
    private static Set<String> declaredProperties(Path applicationYml) throws IOException {
        Set<String> properties = new TreeSet<>();
        try (Reader reader = Files.newBufferedReader(applicationYml)) {
            for (Object document : new Yaml().loadAll(reader)) {
                if (document != null) {
                    flatten("", document, properties);
                }
            }
        }
        assertThat(properties).as("properties in %s", applicationYml).isNotEmpty();
        return properties;
    }

    private static void flatten(String prefix, Object node, Set<String> properties) {
        if (node instanceof Map<?, ?> children && !children.isEmpty()) {
            children.forEach((key, child) -> flatten(prefix.isEmpty() ? String.valueOf(key) : prefix + "." + key, child, properties));
        } else {
            properties.add(normalized(prefix));
        }
    }

    /** Relaxed binding, roughly: {@code SPRING_DATA_REDIS_HOST} and {@code spring.data.redis.host} compare equal. */
    private static String normalized(String name) {
        return name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "").replace(".", "");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object node) {
        assertThat(node).as("a YAML mapping").isInstanceOf(Map.class);
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object node) {
        return node == null ? List.of() : (List<Object>) node;
    }
}
