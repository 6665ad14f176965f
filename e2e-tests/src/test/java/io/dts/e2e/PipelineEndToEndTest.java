package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import io.dts.testsupport.KafkaUsers;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The whole pipeline for real: a scheduler and two workers as separate JVMs from their jars, real
 * Redis and Kafka, tasks submitted over HTTP and awaited to the end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineEndToEndTest {

    private static final Duration TASK_TIMEOUT = Duration.ofSeconds(60);

    private final Cluster cluster = new Cluster(List.of("--scheduler.sweep-interval=500ms", "--scheduler.sweep-grace=1s"), List.of());
    private SchedulerClient client;
    private String taskSubmittedBeforeAnyWorker;
    private JsonNode viewWhileNoWorkerLived;

    @BeforeAll
    void startCluster() {
        cluster.startScheduler();
        client = cluster.client();

        await("no worker of an earlier test still counts as live").atMost(Duration.ofSeconds(30))
                .until(() -> client.get("/api/workers").body().isEmpty());
        taskSubmittedBeforeAnyWorker = client.submit("{\"templateFunction\":\"echo early-$1\",\"inputList\":[\"a\",\"b\",\"c\"]}");
        await("the early task says it waits for a worker").atMost(Duration.ofSeconds(30))
                .until(() -> client.task(taskSubmittedBeforeAnyWorker).has("waitingReason"));
        viewWhileNoWorkerLived = client.task(taskSubmittedBeforeAnyWorker);

        cluster.startWorkers(2);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        cluster.close();
    }

    @Test
    void a_task_submitted_before_any_worker_waits_visibly_and_runs_once_workers_appear() {
        assertThat(viewWhileNoWorkerLived.get("status").asString()).isIn("QUEUED", "SUBMITTED");
        assertThat(viewWhileNoWorkerLived.get("waitingReason").asString()).contains("no live worker");

        JsonNode done = awaitTerminal(taskSubmittedBeforeAnyWorker);

        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(3);
        assertThat(done.has("waitingReason")).isFalse();
    }

    @Test
    void a_hundred_items_on_two_workers_complete_with_exact_counts_and_every_output() {
        String items = IntStream.range(0, 100).mapToObj(i -> "\"" + i + "\"").reduce((a, b) -> a + "," + b).orElseThrow();
        String id = client.submit("""
                {"templateFunction":"echo {{prefix}}-$1; echo err-$1 >&2","variableJson":"{\\"prefix\\":\\"out\\"}","inputList":[%s]}
                """.formatted(items));

        JsonNode done = awaitTerminal(id);

        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(done.get("chunksToExecute").asInt()).isEqualTo(2);
        assertThat(done.get("chunksExecuted").asInt()).isEqualTo(2);
        assertThat(done.get("itemsTotal").asLong()).isEqualTo(100);
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(100);
        assertThat(done.get("itemsFailed").asLong()).isZero();
        assertThat(done.get("finishedAt").isNull()).isFalse();

        JsonNode results = client.get("/api/tasks/" + id + "/results?offset=0&limit=100").body();
        assertThat(results).hasSize(100);
        Set<String> workerIds = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            JsonNode result = results.get(i);
            assertThat(result.get("index").asInt()).isEqualTo(i);
            assertThat(result.get("item").asString()).isEqualTo(String.valueOf(i));
            assertThat(result.get("exitCode").asInt()).isZero();
            assertThat(result.get("stdout").asString()).isEqualTo("out-" + i + "\n");
            assertThat(result.get("stderr").asString()).isEqualTo("err-" + i + "\n");
            assertThat(result.get("attempts").asInt()).isEqualTo(1);
            workerIds.add(result.get("workerId").asString());
        }
        assertThat(workerIds).as("each worker ran its own shard").containsExactlyInAnyOrder("worker-1", "worker-2");

        JsonNode page = client.get("/api/tasks/" + id + "/results?offset=90&limit=5").body();
        assertThat(page).hasSize(5);
        assertThat(page.get(0).get("index").asInt()).isEqualTo(90);
    }

    @Test
    void a_failing_item_makes_the_task_failed_with_exact_counts() {
        String id = client.submit("""
                {"templateFunction":"test $(( $1 % 5 )) -ne 0","inputList":[1,2,3,4,5,6,7,8,9,10]}
                """);

        JsonNode done = awaitTerminal(id);

        assertThat(done.get("status").asString()).isEqualTo("FAILED");
        assertThat(done.get("itemsSucceeded").asLong()).isEqualTo(8);
        assertThat(done.get("itemsFailed").asLong()).isEqualTo(2);
        JsonNode results = client.get("/api/tasks/" + id + "/results").body();
        assertThat(results.get(4).get("item").asString()).isEqualTo("5");
        assertThat(results.get(4).get("exitCode").asInt()).isEqualTo(1);
        assertThat(results.get(3).get("exitCode").asInt()).isZero();
    }

    @Test
    void the_item_reaches_the_command_as_argument_stdin_and_environment_and_is_quoted_safely() {
        String id = client.submit("""
                {"templateFunction":"printf '%s|%s|%s|%s|%s' \\"$1\\" \\"$(cat)\\" \\"$DTS_ITEM\\" {{item}} \\"$DTS_ITEM_INDEX\\"",
                 "inputList":["it's; echo INJECTED", {"a":1}]}
                """);

        JsonNode done = awaitTerminal(id);

        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        JsonNode results = client.get("/api/tasks/" + id + "/results").body();
        String tricky = "it's; echo INJECTED";
        assertThat(results.get(0).get("stdout").asString()).isEqualTo(String.join("|", tricky, tricky, tricky, tricky, "0"));
        assertThat(results.get(1).get("stdout").asString()).isEqualTo("{\"a\":1}|{\"a\":1}|{\"a\":1}|{\"a\":1}|1");
    }

    @Test
    void a_task_without_input_list_runs_its_command_exactly_once_without_argument() {
        String id = client.submit("{\"templateFunction\":\"echo args=$# task=$DTS_TASK_ID\"}");

        JsonNode done = awaitTerminal(id);

        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(done.get("itemsTotal").asLong()).isEqualTo(1);
        assertThat(done.get("chunksToExecute").asInt()).isEqualTo(1);
        JsonNode results = client.get("/api/tasks/" + id + "/results").body();
        assertThat(results).hasSize(1);
        assertThat(results.get(0).get("stdout").asString()).isEqualTo("args=0 task=" + id + "\n");
    }

    @Test
    void the_original_paths_work_as_aliases() {
        SchedulerClient.Response json = client.post("/schedule/create", "application/json",
                "{\"templateFunction\":\"echo $1\",\"inputList\":[\"x\"]}");
        assertThat(json.status()).isEqualTo(202);
        assertThat(json.location()).isEqualTo("/api/tasks/" + json.body().get("id").asString());

        SchedulerClient.Response form = client.post("/schedule/create", "application/x-www-form-urlencoded",
                "templateFunction=echo+%7B%7Bw%7D%7D-%241&variableJson=%7B%22w%22%3A%22f%22%7D&inputList=p&inputList=q");
        assertThat(form.status()).isEqualTo(202);
        String formId = form.body().get("id").asString();
        awaitTerminal(formId);

        JsonNode status = client.get("/schedule/status?taskId=" + formId).body();
        assertThat(status.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(status.get("itemsSucceeded").asLong()).isEqualTo(2);
        assertThat(client.get("/api/tasks/" + formId + "/results").body().get(1).get("stdout").asString()).isEqualTo("f-q\n");
        assertThat(client.get("/schedule/ping").body().get("status").asString()).isEqualTo("pong");
    }

    @Test
    void bad_input_and_unknown_ids_get_problem_details_over_real_http() {
        SchedulerClient.Response malformed = client.post("/api/tasks", "application/json", "{\"templateFunction\":");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.contentType()).startsWith("application/problem+json");

        String unknownId = java.util.UUID.randomUUID().toString();
        SchedulerClient.Response unknown = client.get("/api/tasks/" + unknownId);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body().get("detail").asString()).contains(unknownId);
        SchedulerClient.Response notAnId = client.get("/api/tasks/does-not-exist");
        assertThat(notAnId.status()).isEqualTo(404);
        assertThat(notAnId.body().get("detail").asString()).contains("task ids are UUIDs");
    }

    @Test
    void recent_tasks_are_listed_newest_first_and_filtered_by_status() {
        String failed = client.submit("{\"templateFunction\":\"exit 3\"}");
        awaitTerminal(failed);

        JsonNode failedTasks = client.get("/api/tasks?status=FAILED&limit=50").body();
        assertThat(failedTasks.valueStream().map(t -> t.get("status").asString())).containsOnly("FAILED");
        assertThat(failedTasks.valueStream().map(t -> t.get("id").asString())).contains(failed);
        JsonNode newest = client.get("/api/tasks?limit=1").body();
        assertThat(newest).hasSize(1);
        assertThat(newest.get(0).get("id").asString()).isEqualTo(failed);
    }

    @Test
    void operations_endpoints_report_readiness_of_redis_and_kafka_metrics_and_the_api_description() {
        JsonNode readiness = client.get("/actuator/health/readiness").body();
        assertThat(readiness.get("status").asString()).isEqualTo("UP");
        assertThat(readiness.get("components").get("redis").get("status").asString()).isEqualTo("UP");
        assertThat(readiness.get("components").get("kafka").get("status").asString()).isEqualTo("UP");

        String schedulerMetrics = client.getText("/actuator/prometheus");
        assertThat(schedulerMetrics).contains("http_server_requests_seconds_count", "jvm_memory_used_bytes");
        // No timer per Redis command, nor per security filter: they cost CPU on every request (BENCHMARKS.md).
        assertThat(schedulerMetrics).doesNotContain("lettuce_seconds", "spring_security_filterchains");
        String workerMetrics = new SchedulerClient("http://127.0.0.1:" + cluster.worker(1).port()).getText("/actuator/prometheus");
        assertThat(workerMetrics).contains("jvm_memory_used_bytes").doesNotContain("lettuce_seconds");
        JsonNode api = client.get("/v3/api-docs").body();
        assertThat(api.get("paths").has("/api/tasks")).isTrue();
        assertThat(api.get("paths").has("/api/tasks/{id}/results")).isTrue();
    }

    private JsonNode awaitTerminal(String id) {
        return cluster.awaitTerminal(id, TASK_TIMEOUT);
    }

    @Test
    void an_item_runs_as_the_sandbox_user_in_a_private_directory_with_a_clean_environment() {
        ServiceProcess worker = cluster.worker(1);
        String id = client.submit(SchedulerClient.taskJson("""
                id -un; pwd; env | cut -d= -f1 | sort | paste -sd,; echo "$(cat /proc/%d/environ 2>&1 | head -c 200 | tr '\\0' ' ')"
                redis=$( (exec 3<>/dev/tcp/%s/%d && printf 'PING\\r\\n' >&3 && IFS= read -r -t 2 reply <&3 && printf '%%s' "$reply") 2>&1 | tr -d '\\r')
                echo "$redis"
                """.formatted(worker.pid(), cluster.redis().host(), cluster.redis().port()), List.of("probe")));

        awaitTerminal(id);
        List<String> lines = client.get("/api/tasks/" + id + "/results").body().get(0).get("stdout").asString().lines().toList();

        assertThat(lines.get(0)).isEqualTo("dts-item");
        assertThat(lines.get(1)).as("under worker.work-dir's default").startsWith("/var/lib/dts-worker/").doesNotContain("..");
        assertThat(lines.get(2).split(",")).allMatch(name -> name.startsWith("DTS_") || name.startsWith("LC_")
                || List.of("PATH", "LANG", "HOME", "TMPDIR", "PWD", "OLDPWD", "SHLVL", "_").contains(name));
        assertThat(lines.get(3)).as("the worker's environment").contains("No such file");
        assertThat(lines.get(4)).as("Redis to an item").contains("NOAUTH");
        System.out.printf("SANDBOX item as %s in %s, Redis answered: %s%n", lines.get(0), lines.get(1), lines.get(4));
    }

    @Test
    void an_item_gets_nothing_from_kafka_nor_the_workers_kafka_password() throws Exception {
        String probe = Files.readString(Path.of("..", "scripts", "kafka-probe.sh"));
        String[] broker = cluster.kafka().bootstrapServers().split(",")[0].split(":");
        Path password = KafkaUsers.credentials(KafkaUsers.Role.WORKER).resolve("dts.kafka.password");
        String id = client.submit(SchedulerClient.taskJson("set -- %s %s%n%s%ncat %s 2>&1 | head -c 200"
                .formatted(broker[0], broker[1], probe, password), List.of("probe")));

        awaitTerminal(id);
        List<String> lines = client.get("/api/tasks/" + id + "/results").body().get(0).get("stdout").asString().lines().toList();

        assertThat(lines.get(0)).as("the broker speaks Kafka to anyone, then tells an item without a login nothing")
                .matches("kafka apiversions=[1-9][0-9]* metadata=0");
        assertThat(lines.get(1)).as("the worker's Kafka password (behind a private /tmp here, a 0700 directory in the stack)")
                .startsWith("cat: ").doesNotContain(KafkaUsers.password(KafkaUsers.Role.WORKER));
        System.out.printf("KAFKA to an item: %s; the worker's password: %s%n", lines.get(0), lines.get(1));
    }

    @Test
    void kafka_serves_no_one_without_a_login_and_each_service_only_what_deploy_kafka_acls_gives_it() {
        String probeTopic = "distributed_task_shard";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(cluster.kafka().clientProperties(Map.of()),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(probeTopic, "acl-probe", "a shard's command"));
        }
        List<TopicPartition> partitions = IntStream.range(0, 16).mapToObj(p -> new TopicPartition(probeTopic, p)).toList();
        Map<String, Object> noLogin = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafka().bootstrapServers(),
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(noLogin, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            assertThat(consumer.poll(Duration.ofSeconds(5)).count()).as("records read without a login").isZero();
        }

        Map<String, Object> asWorker = new HashMap<>(serviceLogin(KafkaUsers.Role.WORKER));
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(asWorker, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<String> keys = new ArrayList<>();
            await("the worker's user reads the shard topic").atMost(Duration.ofSeconds(20))
                    .until(() -> {
                        consumer.poll(Duration.ofMillis(500)).forEach(record -> keys.add(record.key()));
                        return keys.contains("acl-probe");
                    });
        }
        asWorker.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(asWorker, new StringSerializer(), new StringSerializer())) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("distributed_task", "forged", "{}")).get(20, TimeUnit.SECONDS))
                    .as("a worker submitting a task behind the schedulers' back").hasCauseInstanceOf(TopicAuthorizationException.class);
        }
    }

    /** A service's own login (its SCRAM user), for the tests to act as it. */
    private Map<String, Object> serviceLogin(KafkaUsers.Role role) {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafka().bootstrapServers(),
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT", SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-512",
                SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                        + role.user() + "\" password=\"" + KafkaUsers.password(role) + "\";");
    }

    @Test
    void a_shard_put_on_kafka_without_the_schedulers_signature_never_runs_and_goes_to_the_dead_letter_topic(@TempDir Path dir) {
        String id = client.submit(SchedulerClient.taskJson("true", List.of("a")));
        awaitTerminal(id);
        Path marker = ItemFiles.writableByItems(dir).resolve("forged-shard-ran");
        String forged = """
                {"taskId":"%s","shardIndex":5,"shardCount":6,"startIndex":0,"endIndex":1,"command":"touch %s",
                 "withoutItems":false,"timeoutSeconds":60,"maxRetries":0,"round":1}""".formatted(id, marker);
        String key = id + "/5";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(cluster.kafka().clientProperties(Map.of()),
                new StringSerializer(), new StringSerializer())) {
            for (byte[] signature : new byte[][] {null, new byte[32]}) {
                ProducerRecord<String, String> record = new ProducerRecord<>("distributed_task_shard", key, forged);
                record.headers().add("__TypeId__", "io.dts.model.TaskShard".getBytes(StandardCharsets.UTF_8));
                if (signature != null) {
                    record.headers().add("dts-signature", signature);
                }
                producer.send(record);
            }
        }

        List<String> deadLettered = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cluster.kafka().clientProperties(Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, "forged-" + id, ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("distributed_task_shard-dlt"));
            await("both forged shards on the dead letter topic").atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(500)).forEach(record -> {
                    if (key.equals(record.key())) {
                        deadLettered.add(record.value());
                    }
                });
                return deadLettered.size() >= 2;
            });
        }

        assertThat(deadLettered).hasSize(2).allSatisfy(value -> assertThat(value).contains("forged-shard-ran"));
        assertThat(marker).as("a forged shard never runs").doesNotExist();
    }
}
