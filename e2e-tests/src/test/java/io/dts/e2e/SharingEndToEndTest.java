package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Several tasks and owners sharing a cluster of two workers of two slots each: a small task does not wait behind
 * a long one, maxParallel holds across the workers (from the items' own start and end times), a higher priority
 * goes first, and two owners get equal slots whatever the number of tasks each has.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SharingEndToEndTest {

    private static final Duration TASK_TIMEOUT = Duration.ofSeconds(90);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Prints the item's start and end, in ns of the host's clock, on two lines. */
    private static final String TIMED = "echo $(date +%s%N); sleep {{seconds}}; echo $(date +%s%N)";

    /**
     * One shard per worker (the default): the skewed task's slow items are all one worker's until the other takes some.
     * The backlog is counted every second (5 s by default) for the gauges' test.
     */
    private final Cluster cluster = new Cluster(List.of("--scheduler.backlog-interval=1s"), List.of());
    private final List<String> started = new ArrayList<>();
    private SchedulerClient operator;

    @BeforeAll
    void startCluster() {
        cluster.startScheduler();
        operator = cluster.client();
        cluster.startWorkers(2);
    }

    @AfterAll
    void stopCluster() throws InterruptedException {
        cluster.close();
    }

    /** Every test starts on an idle cluster. */
    @AfterEach
    void cancelWhatRuns() {
        started.forEach(id -> operator.post("/api/tasks/" + id + "/cancel", "application/json", ""));
        started.forEach(id -> cluster.awaitTerminal(id, TASK_TIMEOUT));
        started.clear();
    }

    private String submit(SchedulerClient as, double seconds, int items, Map<String, Object> more) {
        Map<String, Object> request = new HashMap<>(Map.of("templateFunction", TIMED,
                "variableJson", Map.of("seconds", String.valueOf(seconds)), "inputList", SchedulerClient.numbers(items)));
        request.putAll(more);
        String id = as.submit(JSON.writeValueAsString(request));
        started.add(id);
        return id;
    }

    @Test
    void a_one_item_task_submitted_while_a_long_task_fills_every_slot_starts_within_one_items_time() throws Exception {
        submit(operator, 1, 200, Map.of());
        awaitRunning(4);

        long submitted = System.nanoTime();
        String small = submit(operator, 0, 1, Map.of());
        JsonNode done = cluster.awaitTerminal(small, TASK_TIMEOUT);
        Duration took = Duration.ofNanos(System.nanoTime() - submitted);

        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        // One item of the long task takes 1 s: the small one waits at most that for a slot, plus the way through.
        assertThat(took).as("the one-item task's time behind a full cluster").isLessThan(Duration.ofMillis(2_500));
        System.out.printf("one-item task behind a full cluster: %d ms%n", took.toMillis());
    }

    @Test
    void a_task_whose_slow_items_come_first_finishes_within_1_3_times_its_ideal_time() {
        // 40 items, the first 20 sleep 1 s, the rest nothing: 20 s of work on 4 slots, ideally 5 s.
        long submitted = System.nanoTime();
        String id = operator.submit(JSON.writeValueAsString(Map.of("templateFunction", "[ $1 -lt 20 ] && sleep 1; true",
                "inputList", SchedulerClient.numbers(40))));
        started.add(id);
        JsonNode done = cluster.awaitTerminal(id, TASK_TIMEOUT);
        Duration took = Duration.ofNanos(System.nanoTime() - submitted);

        assertThat(done.get("status").asString()).isEqualTo("COMPLETED");
        System.out.printf("skewed task (ideal 5 s): %d ms%n", took.toMillis());
        assertThat(took).as("20 slow items spread over both workers").isLessThan(Duration.ofMillis(6_500));
        List<JsonNode> slow = results(id).stream().filter(result -> result.get("index").asLong() < 20).toList();
        assertThat(slow).hasSize(20);
        assertThat(slow.stream().map(result -> result.get("workerId").asString()).distinct())
                .as("the worker whose own items were quick took some of the other's slow ones").hasSize(2);
    }

    @Test
    void max_parallel_holds_across_the_workers_by_the_items_own_start_and_end_times() {
        String id = submit(operator, 0.3, 24, Map.of("maxParallel", 3));

        JsonNode task = cluster.awaitTerminal(id, TASK_TIMEOUT);
        List<JsonNode> results = results(id);

        assertThat(task.get("status").asString()).isEqualTo("COMPLETED");
        assertThat(task.get("maxParallel").asInt()).isEqualTo(3);
        assertThat(results.stream().map(result -> result.get("workerId").asString()).distinct()).as("both workers ran items").hasSize(2);
        assertThat(mostAtOnce(spans(results))).as("items running at once").isEqualTo(3);
    }

    @Test
    void a_higher_priority_tasks_items_start_before_the_waiting_lower_priority_ones_on_each_worker() {
        String low = submit(operator, 0.3, 120, Map.of());
        awaitRunning(4);
        String high = submit(operator, 0.3, 12, Map.of("priority", 7));

        cluster.awaitTerminal(high, TASK_TIMEOUT);
        List<JsonNode> highResults = results(high);
        operator.post("/api/tasks/" + low + "/cancel", "application/json", "");
        cluster.awaitTerminal(low, TASK_TIMEOUT);
        List<JsonNode> lowResults = results(low);

        for (String worker : List.of("worker-1", "worker-2")) {
            List<long[]> highSpans = spans(highResults.stream().filter(r -> r.get("workerId").asString().equals(worker)).toList());
            long firstHigh = highSpans.stream().mapToLong(span -> span[0]).min().orElseThrow();
            long lastHigh = highSpans.stream().mapToLong(span -> span[0]).max().orElseThrow();
            List<long[]> lowBetween = spans(lowResults.stream().filter(r -> r.get("workerId").asString().equals(worker)).toList())
                    .stream().filter(span -> span[0] > firstHigh && span[0] < lastHigh).toList();
            assertThat(lowBetween).as("low-priority items started on %s between its first and last high-priority item", worker).isEmpty();
        }
    }

    @Test
    void two_owners_get_equal_slots_whatever_the_number_of_tasks_each_has() throws Exception {
        SchedulerClient ann = operator.withToken(SharedKeys.addKey("ann-" + System.nanoTime(), "submitter"));
        SchedulerClient bob = operator.withToken(SharedKeys.addKey("bob-" + System.nanoTime(), "submitter"));
        List<String> annsTasks = List.of(submit(ann, 0.25, 100, Map.of()), submit(ann, 0.25, 100, Map.of()), submit(ann, 0.25, 100, Map.of()));
        String bobsTask = submit(bob, 0.25, 100, Map.of());

        Thread.sleep(12_000);
        long contentionStart = spans(results(bobsTask)).stream().mapToLong(span -> span[0]).min().orElseThrow();
        long contentionEnd = contentionStart + 10_000_000_000L;
        long annsFinished = annsTasks.stream().mapToLong(id -> finishedBetween(results(id), contentionStart, contentionEnd)).sum();
        long bobsFinished = finishedBetween(results(bobsTask), contentionStart, contentionEnd);

        System.out.printf("items finished in the first 10 s of contention: ann (3 tasks) %d, bob (1 task) %d%n", annsFinished, bobsFinished);
        assertThat(bobsFinished).isPositive();
        assertThat((double) annsFinished / bobsFinished).as("ann's items over bob's").isBetween(0.8, 1.25);
    }

    @Test
    void an_owner_at_its_limits_gets_a_429_for_one_more_task_and_never_runs_more_items_than_its_limit_at_once() {
        String carolsToken = SharedKeys.addKey("carol-" + System.nanoTime(), "submitter");
        SchedulerClient carol = new SchedulerClient(cluster.startScheduler(List.of("--scheduler.owner-limits.unfinished-tasks=2",
                "--scheduler.owner-limits.running-items=2")).baseUrl(), carolsToken);
        String first = submit(carol, 0.3, 8, Map.of());
        String second = submit(carol, 0.3, 8, Map.of());

        SchedulerClient.Response third = carol.post("/api/tasks", "application/json",
                SchedulerClient.taskJson("echo", List.of("a")));

        assertThat(third.status()).isEqualTo(429);
        assertThat(third.contentType()).startsWith("application/problem+json");
        assertThat(third.body().get("detail").asString()).contains("scheduler.owner-limits.unfinished-tasks");
        cluster.awaitTerminal(first, TASK_TIMEOUT);
        cluster.awaitTerminal(second, TASK_TIMEOUT);
        List<long[]> spans = new ArrayList<>(spans(results(first)));
        spans.addAll(spans(results(second)));
        assertThat(mostAtOnce(spans)).as("carol's items running at once, over both her tasks").isEqualTo(2);
        assertThat(carol.post("/api/tasks", "application/json", SchedulerClient.taskJson("echo", List.of("a"))).status())
                .as("a submit once her tasks finished").isEqualTo(202);
    }

    @Test
    void the_backlog_gauges_count_the_items_waiting_and_running_for_autoscaling() {
        String id = submit(operator, 1, 40, Map.of());
        awaitRunning(4);

        await("the backlog counted").atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(gauge("dts_items_running")).isEqualTo(4);
            // 40 items, 4 running, a few finished: each finishes in 1 s.
            assertThat(gauge("dts_items_waiting")).isBetween(24.0, 36.0);
        });
        double before = gauge("dts_items_waiting");
        await("the backlog going down").atMost(Duration.ofSeconds(15)).until(() -> gauge("dts_items_waiting") <= before - 4);

        operator.post("/api/tasks/" + id + "/cancel", "application/json", "");
        cluster.awaitTerminal(id, TASK_TIMEOUT);
        await("no backlog").atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(gauge("dts_items_waiting")).isZero();
            assertThat(gauge("dts_items_running")).isZero();
        });
    }

    /** A gauge's value as the scheduler exports it to Prometheus (operators only). */
    private double gauge(String name) {
        return operator.getText("/actuator/prometheus").lines().filter(line -> line.startsWith(name + " ") || line.startsWith(name + "{"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).findFirst()
                .orElseThrow(() -> new AssertionError(name + " is not exported"));
    }

    private void awaitRunning(int items) {
        await("the cluster's slots all busy").atMost(Duration.ofSeconds(30))
                .until(() -> StreamSupport.stream(operator.get("/api/workers").body().spliterator(), false)
                        .mapToInt(worker -> worker.get("busyThreads").asInt()).sum() >= items);
    }

    private List<JsonNode> results(String id) {
        JsonNode page = operator.get("/api/tasks/" + id + "/results?limit=1000").body();
        return StreamSupport.stream(page.spliterator(), false).filter(result -> !result.get("skipped").asBoolean()).toList();
    }

    /** Each item's {start, end} in ns, from what it printed; items killed before their end are left out. */
    private static List<long[]> spans(List<JsonNode> results) {
        return results.stream().map(result -> result.get("stdout").asString().trim().split("\n")).filter(lines -> lines.length == 2)
                .map(lines -> new long[] {Long.parseLong(lines[0]), Long.parseLong(lines[1])}).toList();
    }

    private static long finishedBetween(List<JsonNode> results, long fromNanos, long toNanos) {
        return spans(results).stream().filter(span -> span[1] >= fromNanos && span[1] < toNanos).count();
    }

    /** The most spans that overlap at any instant. */
    private static int mostAtOnce(List<long[]> spans) {
        return (int) spans.stream().mapToLong(span -> spans.stream().filter(other -> other[0] <= span[0] && span[0] < other[1]).count())
                .max().orElse(0);
    }
}
