package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import io.dts.testsupport.FreePorts;
import io.dts.testsupport.KafkaBroker;
import io.dts.testsupport.RedisServer;
import io.dts.testsupport.TestInfrastructure;
import tools.jackson.databind.JsonNode;

/** Schedulers and numbered workers as real processes on the test Kafka and the test Redis (or Redis Cluster). */
final class Cluster implements AutoCloseable {

    static final Set<String> TERMINAL = Set.of("COMPLETED", "FAILED", "CANCELLED", "SUBMISSION_FAILED");
    /** A scheduler's heap unless a test asks for another. */
    private static final String SCHEDULER_HEAP = "256m";

    private final KafkaBroker kafka;
    /** The single Redis server the services use, or null on the Redis Cluster. */
    private final RedisServer redis;
    private final List<String> redisArgs;
    private final List<String> schedulerArgs;
    private final List<String> workerArgs;
    private final List<ServiceProcess> schedulers = new ArrayList<>();
    private volatile SchedulerClient client;
    private Nginx nginx;
    private final Map<Integer, ServiceProcess> workers = new TreeMap<>();

    /** On the test Kafka broker and the single test Redis server. */
    Cluster(List<String> schedulerArgs, List<String> workerArgs) {
        this(TestInfrastructure.kafka(), TestInfrastructure.redis(), List.of("--spring.data.redis.host=" + TestInfrastructure.redis().host(),
                "--spring.data.redis.port=" + TestInfrastructure.redis().port()), schedulerArgs, workerArgs);
    }

    private Cluster(KafkaBroker kafka, RedisServer redis, List<String> redisArgs, List<String> schedulerArgs, List<String> workerArgs) {
        this.kafka = kafka;
        this.redis = redis;
        this.redisArgs = redisArgs;
        this.schedulerArgs = schedulerArgs;
        this.workerArgs = workerArgs;
    }

    /** On the test Redis Cluster (3 masters, a replica each) instead of the single server. */
    static Cluster onRedisCluster(List<String> schedulerArgs, List<String> workerArgs) {
        return onRedisCluster(TestInfrastructure.kafka(), schedulerArgs, workerArgs);
    }

    /** On the given Kafka (a 3-node cluster, say) and the test Redis Cluster. */
    static Cluster onRedisCluster(KafkaBroker kafka, List<String> schedulerArgs, List<String> workerArgs) {
        return new Cluster(kafka, null, List.of("--spring.data.redis.cluster.nodes=" + TestInfrastructure.redisCluster().nodesProperty()),
                schedulerArgs, workerArgs);
    }

    /** The single test Redis server the services use; a cluster on the Redis Cluster has none. */
    RedisServer redis() {
        if (redis == null) {
            throw new IllegalStateException("This cluster runs on the Redis Cluster, not on the single test Redis server");
        }
        return redis;
    }

    KafkaBroker kafka() {
        return kafka;
    }

    private List<String> infrastructure(List<String> more) {
        List<String> args = new ArrayList<>(List.of("--pubsub.namespace=" + kafka.bootstrapServers()));
        args.addAll(redisArgs);
        args.addAll(more);
        return args;
    }

    /** Starts one more scheduler; the client talks to the newest one. */
    ServiceProcess startScheduler() {
        return startScheduler(SCHEDULER_HEAP);
    }

    /** Starts one more scheduler with at most {@code maxHeap} of heap; the client talks to the newest one. */
    ServiceProcess startScheduler(String maxHeap) {
        return launchScheduler(maxHeap).awaitReady();
    }

    /** Starts one more scheduler with these settings besides the cluster's; the client talks to the newest one. */
    ServiceProcess startScheduler(List<String> moreArgs) {
        return launchScheduler(SCHEDULER_HEAP, moreArgs).awaitReady();
    }

    private ServiceProcess launchScheduler(String maxHeap) {
        return launchScheduler(maxHeap, List.of());
    }

    /** Launches one more scheduler, not yet ready; the client talks to the newest one. */
    private ServiceProcess launchScheduler(String maxHeap, List<String> moreArgs) {
        ServiceProcess scheduler;
        List<String> args = new ArrayList<>(schedulerArgs);
        args.addAll(moreArgs);
        try {
            scheduler = new ServiceProcess("scheduler-" + (schedulers.size() + 1), "scheduler-service", FreePorts.next(),
                    infrastructure(args)).withMaxHeap(maxHeap).launch();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        schedulers.add(scheduler);
        client = new SchedulerClient(scheduler.baseUrl());
        return scheduler;
    }

    /** Starts {@code count} schedulers side by side behind nginx (in {@code prefix}); a client that talks to nginx. */
    SchedulerClient startSchedulersBehindNginx(int count, Path prefix) throws IOException {
        List<ServiceProcess> launched = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            launched.add(launchScheduler(SCHEDULER_HEAP));
        }
        List<String> upstreams = new ArrayList<>();
        for (ServiceProcess scheduler : launched) {
            upstreams.add(scheduler.awaitReady().baseUrl().substring("http://".length()));
        }
        nginx = new Nginx(prefix, FreePorts.next()).start(upstreams);
        return new SchedulerClient(nginx.baseUrl());
    }

    /** The newest scheduler. */
    ServiceProcess scheduler() {
        return schedulers.get(schedulers.size() - 1);
    }

    List<ServiceProcess> schedulers() {
        return schedulers;
    }

    SchedulerClient client() {
        return client;
    }

    ServiceProcess worker(int number) {
        return workers.get(number);
    }

    /** Starts worker {@code number} (id {@code worker-<number>}, 2 threads) unless it runs. */
    void startWorker(int number) {
        launchWorker(number).ifPresent(ServiceProcess::awaitReady);
    }

    /** Launches worker {@code number} unless it runs; the launched process, not yet ready. */
    private Optional<ServiceProcess> launchWorker(int number) {
        ServiceProcess running = workers.get(number);
        if (running != null && running.isAlive()) {
            return Optional.empty();
        }
        List<String> args = new ArrayList<>(workerArgs);
        args.addAll(List.of("--worker.id=worker-" + number, "--worker.threads=2", "--worker.heartbeat-interval=1s"));
        try {
            ServiceProcess worker = new ServiceProcess("worker-" + number, "worker-service", FreePorts.next(), infrastructure(args)).launch();
            workers.put(number, worker);
            return Optional.of(worker);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts workers 1..{@code count} (those not running) side by side and waits until exactly they are live. */
    void startWorkers(int count) {
        List<ServiceProcess> launched = new ArrayList<>();
        for (int number = 1; number <= count; number++) {
            launchWorker(number).ifPresent(launched::add);
        }
        launched.forEach(ServiceProcess::awaitReady);
        awaitLiveWorkers(count);
    }

    /** Waits until exactly these workers are live, each owning its own shard-topic partitions. */
    void awaitLiveWorkers(int count) {
        await("" + count + " live workers with their own partitions").atMost(Duration.ofSeconds(60)).until(() -> {
            JsonNode live = client.get("/api/workers").body();
            Set<Integer> partitions = new HashSet<>();
            int owned = 0;
            for (JsonNode worker : live) {
                if (worker.get("partitions").isEmpty()) {
                    return false;
                }
                for (JsonNode p : worker.get("partitions")) {
                    partitions.add(p.asInt());
                    owned++;
                }
            }
            return live.size() == count && partitions.size() == owned;
        });
    }

    JsonNode awaitTerminal(String taskId, Duration atMost) {
        return awaitTerminal(client, taskId, atMost);
    }

    /**
     * Polls through {@code via} (nginx, say) until the task is finished; a failed read is polled again. Every
     * finished task's counts are checked to add up ({@link #assertCountsAddUp}).
     */
    static JsonNode awaitTerminal(SchedulerClient via, String taskId, Duration atMost) {
        await("task " + taskId + " finished").atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> {
            SchedulerClient.Response response = via.get("/api/tasks/" + taskId);
            return response.status() == 200 && TERMINAL.contains(response.body().get("status").asString());
        });
        JsonNode task = via.task(taskId);
        assertCountsAddUp(task);
        return task;
    }

    /**
     * A finished task accounts for every item: COMPLETED and FAILED as succeeded, failed or skipped; CANCELLED
     * with the items it never ran making up the rest.
     */
    static void assertCountsAddUp(JsonNode task) {
        String status = task.get("status").asString();
        long total = task.get("itemsTotal").asLong();
        long accounted = task.path("itemsSucceeded").asLong(0) + task.path("itemsFailed").asLong(0) + task.path("itemsSkipped").asLong(0);
        if (status.equals("COMPLETED") || status.equals("FAILED")) {
            assertThat(accounted).as("task %s, %s: succeeded + failed + skipped = total: %s", task.get("id"), status, task).isEqualTo(total);
        } else if (status.equals("CANCELLED")) {
            assertThat(accounted).as("task %s, CANCELLED: no more recorded than it has: %s", task.get("id"), task).isLessThanOrEqualTo(total);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (nginx != null) {
            nginx.close();
        }
        for (ServiceProcess worker : workers.values()) {
            worker.stop();
        }
        for (ServiceProcess scheduler : schedulers) {
            scheduler.stop();
        }
    }
}
