package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import io.dts.testsupport.FreePorts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Who may do what, against a real scheduler on the tests' Redis and Kafka: a token of the keys file on
 * every request but the probes and ping, roles that decide, tasks that belong to who submitted them;
 * a scheduler without credentials only on loopback; and JWT mode with a key pair made here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecurityEndToEndTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String FORM = "application/x-www-form-urlencoded";

    private final Cluster cluster = new Cluster(List.of(), List.of());
    private SchedulerClient operator;
    private SchedulerClient anonymous;
    private SchedulerClient reader;
    private SchedulerClient alice;
    private SchedulerClient bob;

    @BeforeAll
    void startScheduler() {
        cluster.startScheduler();
        operator = cluster.client();
        anonymous = operator.withToken(null);
        // Added while the scheduler runs: it reads the keys file again when it changes.
        reader = operator.withToken(SharedKeys.addKey("e2e-reader", "reader"));
        alice = operator.withToken(SharedKeys.addKey("alice", "submitter"));
        bob = operator.withToken(SharedKeys.addKey("bob", "submitter"));
    }

    @AfterAll
    void stop() throws InterruptedException {
        cluster.close();
    }

    private static String task(String command) {
        return SchedulerClient.taskJson(command, List.of("a"));
    }

    @Test
    void no_token_or_a_wrong_one_is_a_401_problem_with_a_bearer_challenge() {
        for (SchedulerClient.Response response : List.of(anonymous.get("/api/tasks"),
                anonymous.post("/api/tasks", "application/json", task("id")), anonymous.get("/v3/api-docs"),
                anonymous.get("/.well-known/oauth-protected-resource"),
                operator.withToken("0".repeat(64)).get("/api/tasks"), operator.withToken(SharedKeys.sha256(SharedKeys.operatorToken()))
                        .get("/api/tasks"))) {
            assertThat(response.status()).isEqualTo(401);
            assertThat(response.header("WWW-Authenticate")).startsWith("Bearer");
            assertThat(response.contentType()).startsWith("application/problem+json");
            assertThat(response.body().get("detail").asString()).isNotBlank();
        }
    }

    @Test
    void the_form_alias_needs_a_submitter_so_a_web_page_cannot_post_a_command() {
        long before = operator.get("/api/tasks?limit=1000").body().size();

        assertThat(anonymous.post("/schedule/create", FORM, "templateFunction=touch+/tmp/pwned").status()).isEqualTo(401);
        assertThat(reader.post("/schedule/create", FORM, "templateFunction=touch+/tmp/pwned").status()).isEqualTo(403);
        assertThat(operator.get("/api/tasks?limit=1000").body().size()).isEqualTo(before);
        assertThat(alice.post("/schedule/create", FORM, "templateFunction=true").status()).isEqualTo(202);
    }

    @Test
    void the_probes_and_ping_are_open_and_say_no_more_than_up() {
        for (String probe : List.of("/actuator/health/liveness", "/actuator/health/readiness")) {
            SchedulerClient.Response open = anonymous.get(probe);

            assertThat(open.status()).as(probe).isEqualTo(200);
            assertThat(open.body().properties()).as(probe).extracting(Map.Entry::getKey).containsExactly("status");
        }
        assertThat(anonymous.get("/schedule/ping").status()).isEqualTo(200);
        assertThat(reader.get("/actuator/health").body().has("components")).as("details are for operators").isFalse();
        assertThat(operator.get("/actuator/health/readiness").body().get("components").has("redis")).isTrue();
    }

    @Test
    void a_reader_reads_every_task_but_cannot_submit_cancel_or_see_workers_and_metrics() {
        String alices = alice.submit(task("echo alice"));

        assertThat(reader.get("/api/tasks/" + alices).body().get("owner").asString()).isEqualTo("alice");
        for (SchedulerClient.Response refused : List.of(reader.post("/api/tasks", "application/json", task("id")),
                reader.post("/api/tasks/" + alices + "/cancel", "application/json", ""), reader.get("/api/workers"))) {
            assertThat(refused.status()).isEqualTo(403);
            assertThat(refused.contentType()).startsWith("application/problem+json");
            assertThat(refused.body().get("detail").asString()).contains("e2e-reader", "reader");
        }
        assertThat(reader.get("/v3/api-docs").status()).isEqualTo(200);
        assertThat(reader.getText("/v3/api-docs")).as("the caller is the credential's, never a parameter").doesNotContain("\"caller\"");
    }

    @Test
    void a_submitter_sees_cancels_and_lists_only_its_own_tasks_and_an_operator_every_task() {
        String alices = alice.submit(task("echo alice"));
        String bobs = bob.submit(task("echo bob"));

        SchedulerClient.Response hidden = alice.get("/api/tasks/" + bobs);
        assertThat(hidden.status()).isEqualTo(404);
        assertThat(hidden.contentType()).startsWith("application/problem+json");
        assertThat(alice.post("/api/tasks/" + bobs + "/cancel", "application/json", "").status()).isEqualTo(404);
        assertThat(alice.post("/api/tasks/" + bobs + "/retry-failed", "application/json", "").status()).isEqualTo(404);
        assertThat(alice.get("/api/tasks/" + bobs + "/results").status()).isEqualTo(404);
        assertThat(alice.get("/schedule/status?taskId=" + bobs).status()).isEqualTo(404);
        assertThat(operator.task(bobs).get("status").asString()).as("bob's task untouched").isNotEqualTo("CANCELLED");

        JsonNode alicesList = alice.get("/api/tasks?limit=1000").body();
        assertThat(alicesList.findValuesAsString("owner")).isNotEmpty().containsOnly("alice");
        assertThat(alicesList.findValuesAsString("id")).contains(alices).doesNotContain(bobs);
        assertThat(operator.get("/api/tasks?limit=1000").body().findValuesAsString("id")).contains(alices, bobs);
        assertThat(alice.post("/api/tasks/" + alices + "/cancel", "application/json", "").body().get("status").asString())
                .isEqualTo("CANCELLED");
        assertThat(operator.task(bobs).get("owner").asString()).isEqualTo("bob");
        assertThat(operator.get("/api/workers").status()).isEqualTo(200);
        assertThat(alice.get("/api/workers").status()).isEqualTo(403);
    }

    @Test
    void the_same_idempotency_key_from_two_owners_makes_two_tasks() {
        String key = "shared-key-" + System.nanoTime();
        Map<String, String> header = Map.of("Idempotency-Key", key);

        String alices = alice.post("/api/tasks", "application/json", task("echo same"), header).body().get("id").asString();
        String bobs = bob.post("/api/tasks", "application/json", task("echo same"), header).body().get("id").asString();
        String alicesAgain = alice.post("/api/tasks", "application/json", task("echo same"), header).body().get("id").asString();

        assertThat(bobs).isNotEqualTo(alices);
        assertThat(alicesAgain).isEqualTo(alices);
    }

    @Test
    void the_actuator_serves_health_and_prometheus_only_and_prometheus_only_to_operators() {
        assertThat(operator.getText("/actuator/prometheus")).contains("http_server_requests_seconds_count");
        assertThat(reader.get("/actuator/prometheus").status()).isEqualTo(403);
        assertThat(anonymous.get("/actuator/prometheus").status()).isEqualTo(401);
        for (String endpoint : List.of("env", "heapdump", "threaddump", "configprops", "beans", "loggers", "info")) {
            SchedulerClient.Response response = operator.get("/actuator/" + endpoint);

            assertThat(response.status()).as(endpoint).isEqualTo(404);
            assertThat(response.contentType()).as(endpoint).startsWith("application/problem+json");
        }
    }

    @Test
    void a_scheduler_without_credentials_refuses_to_start_on_every_interface() throws Exception {
        ServiceProcess open = new ServiceProcess("scheduler-mode-off", "scheduler-service", FreePorts.next(),
                List.of("--dts.security.mode=off", "--pubsub.namespace=" + cluster.kafka().bootstrapServers(),
                        "--spring.data.redis.host=" + cluster.redis().host(), "--spring.data.redis.port=" + cluster.redis().port()))
                .withAddress("0.0.0.0");
        Files.deleteIfExists(open.log());
        try {
            assertThatThrownBy(open::start).hasMessageContaining("exited");
        } finally {
            open.stop();
        }

        assertThat(Files.readString(open.log())).contains("dts.security.mode=off is allowed only when every listener is bound to a "
                + "loopback address, but server.address is 0.0.0.0");
    }

    @Test
    void jwt_mode_takes_tokens_signed_by_the_configured_key_and_their_subject_owns_the_tasks() throws Exception {
        KeyPair issuer = rsaKeyPair();
        Path publicKey = Path.of("target", "e2e-keys", "jwt-public.pem").toAbsolutePath();
        Files.writeString(publicKey, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(issuer.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        try (Cluster jwtCluster = new Cluster(List.of("--dts.security.mode=jwt",
                "--spring.security.oauth2.resourceserver.jwt.public-key-location=file:" + publicKey), List.of())) {
            jwtCluster.startScheduler();
            SchedulerClient carol = jwtCluster.client().withToken(jwt(issuer.getPrivate(), "carol", List.of("submitter")));

            SchedulerClient.Response submitted = carol.post("/api/tasks", "application/json", task("echo carol"));
            assertThat(submitted.status()).isEqualTo(202);
            assertThat(submitted.body().get("owner").asString()).isEqualTo("carol");
            assertThat(carol.get("/api/workers").status()).isEqualTo(403);
            assertThat(jwtCluster.client().withToken(jwt(issuer.getPrivate(), "dave", List.of("operator"))).get("/api/workers").status())
                    .isEqualTo(200);
            assertThat(jwtCluster.client().withToken(jwt(rsaKeyPair().getPrivate(), "mallory", List.of("operator")))
                    .get("/api/tasks").status()).as("signed by another key").isEqualTo(401);
            assertThat(jwtCluster.client().get("/api/tasks").status()).as("a token of the keys file is no JWT").isEqualTo(401);
        }
    }

    /** An RS256 JWT, made by hand: the scheduler must take a token no Spring code made. */
    private static String jwt(PrivateKey key, String subject, List<String> roles) throws GeneralSecurityException {
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        String header = base64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String claims = base64.encodeToString(JSON.writeValueAsBytes(Map.of("sub", subject, "roles", roles,
                "iat", Instant.now().getEpochSecond(), "exp", Instant.now().plusSeconds(300).getEpochSecond())));
        Signature signature = Signature.getInstance("SHA256withRSA");
        signature.initSign(key);
        signature.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
        return header + "." + claims + "." + base64.encodeToString(signature.sign());
    }

    private static KeyPair rsaKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }
}
