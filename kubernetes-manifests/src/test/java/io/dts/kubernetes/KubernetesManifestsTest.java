package io.dts.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The manifests of deploy/kubernetes as each overlay renders (scripts/k8s-check.sh writes the renders, and checks the
 * custom resources against their own schemas): fabric8's model of every object of a kind Kubernetes knows reads it
 * with no field left over (fabric8 keeps a field it does not know in {@code additionalProperties}: a typo), and a
 * mock API server takes each one.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesManifestsTest {

    private static final Path RENDERS = Path.of("..", "deploy", "kubernetes", "check", "target");

    static KubernetesClient client;

    private static List<HasMetadata> rendered(String overlay) throws IOException {
        Path file = RENDERS.resolve(overlay + ".yaml");
        assertThat(file).as("the render of overlay %s: run ./scripts/k8s-check.sh first (./scripts/test.sh does)", overlay).exists();
        try (InputStream in = Files.newInputStream(file)) {
            return client.load(in).items();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "production"})
    void every_object_kubernetes_knows_has_only_known_fields_and_an_api_server_takes_it(String overlay) throws IOException {
        List<HasMetadata> objects = rendered(overlay);
        List<HasMetadata> known = objects.stream().filter(object -> !(object instanceof GenericKubernetesResource)).toList();

        assertThat(known).extracting(HasMetadata::getKind)
                .contains("Namespace", "Deployment", "StatefulSet", "Service", "PodDisruptionBudget", "NetworkPolicy", "Ingress");
        assertThat(objects).filteredOn(GenericKubernetesResource.class::isInstance).extracting(HasMetadata::getKind)
                .as("custom resources: checked against their CRDs' schemas by scripts/k8s-check.sh")
                .contains("Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "ScaledObject", "ServiceMonitor");
        for (HasMetadata object : known) {
            assertThat(unknownFields(object)).as("fields of %s %s that Kubernetes does not know", object.getKind(), object.getMetadata().getName())
                    .isEmpty();
            // The overlays share the mock server: the second one's objects update the first one's.
            HasMetadata created = client.resource(object).createOr(NonDeletingOperation::update);
            assertThat(created.getMetadata().getUid()).as("%s %s created", object.getKind(), object.getMetadata().getName()).isNotNull();
        }
    }

    @Test
    void a_typo_anywhere_in_an_object_is_found() {
        String deployment = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: typos
                spec:
                  replica: 2
                  selector:
                    matchLabels: {app: typos}
                  template:
                    metadata:
                      labels: {app: typos}
                    spec:
                      containers:
                        - name: c
                          image: i
                          securityContext:
                            readOnlyRootFilesytem: true
                """;
        HasMetadata object = client.load(new ByteArrayInputStream(deployment.getBytes(StandardCharsets.UTF_8))).items().get(0);

        assertThat(unknownFields(object)).containsExactlyInAnyOrder("spec.replica",
                "spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem");
    }

    /** The paths of the fields fabric8's model of the object does not know. */
    static List<String> unknownFields(Object object) {
        List<String> unknown = new ArrayList<>();
        walk(object, "", unknown, Collections.newSetFromMap(new IdentityHashMap<>()));
        return unknown;
    }

    private static void walk(Object value, String path, List<String> unknown, Set<Object> seen) {
        if (value == null || !seen.add(value)) {
            return;
        }
        if (value instanceof Collection<?> values) {
            int i = 0;
            for (Object element : values) {
                walk(element, path + "[" + i++ + "]", unknown, seen);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((key, element) -> walk(element, join(path, String.valueOf(key)), unknown, seen));
            return;
        }
        if (!value.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : value.getClass().getMethods()) {
            String name = getter.getName();
            if (getter.getParameterCount() != 0 || !name.startsWith("get") || name.equals("getClass")) {
                continue;
            }
            Object field = invoke(getter, value);
            if (name.equals("getAdditionalProperties")) {
                ((Map<?, ?>) field).keySet().forEach(key -> unknown.add(join(path, String.valueOf(key))));
            } else {
                walk(field, join(path, Character.toLowerCase(name.charAt(3)) + name.substring(4)), unknown, seen);
            }
        }
    }

    private static Object invoke(Method getter, Object target) {
        try {
            return getter.invoke(target);
        } catch (IllegalAccessException | InvocationTargetException e) {
            return null;
        }
    }

    private static String join(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }
}
