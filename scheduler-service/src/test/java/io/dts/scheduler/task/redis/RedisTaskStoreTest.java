package io.dts.scheduler.task.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.dts.model.ItemResult;
import io.dts.model.ShardPlacement;
import io.dts.model.TaskStatus;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskLifecycle;
import io.dts.redis.TaskRedis;
import io.dts.scheduler.task.domain.NewTask;
import io.dts.scheduler.task.domain.RequestClaim;
import io.dts.scheduler.task.domain.ResultsPage;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.task.domain.TaskPage;
import io.dts.scheduler.task.domain.TaskSummary;
import io.dts.testsupport.RedisConnections;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.json.JsonMapper;

/** Contract of the Redis adapters of the scheduler's task ports (tasks, their states and indexes, idempotency keys) against a real Redis. */
class RedisTaskStoreTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static LettuceConnectionFactory connections;
    private static TaskRedis taskRedis;
    private static StringRedisTemplate redis;
    private static RedisTaskStore store;
    private static RedisTaskStates states;
    private static RedisIdempotencyKeys idempotencyKeys;
    private static RedisTaskResults results;
    private static RedisOwnerTasks ownerTasks;

    @BeforeAll
    static void connect() {
        use(RedisConnections.toServer());
    }

    /** Called with a started factory by the {@code @BeforeAll} of this class, and of the subclass that runs the same contract on a Redis Cluster. */
    static void use(LettuceConnectionFactory factory) {
        connections = factory;
        redis = new StringRedisTemplate(connections);
        taskRedis = new TaskRedis(connections, redis);
        TaskLifecycle lifecycle = new TaskLifecycle(taskRedis, redis, Clock.systemUTC());
        store = new RedisTaskStore(taskRedis, lifecycle, redis, Clock.systemUTC());
        states = new RedisTaskStates(lifecycle);
        idempotencyKeys = new RedisIdempotencyKeys(redis);
        results = new RedisTaskResults(taskRedis, JSON);
        ownerTasks = new RedisOwnerTasks(redis, taskRedis, Clock.systemUTC());
    }

    @AfterAll
    static void disconnect() {
        taskRedis.destroy();
        connections.destroy();
    }

    private static NewTask aTask(String... items) {
        return new NewTask(UUID.randomUUID().toString(), "alice", "echo {{x}} $1", "echo 1 $1", List.of(items), 30L, 2, null, 0, null, 0, Duration.ofDays(7), Instant.now());
    }

    private static NewTask aTaskOf(String owner) {
        return new NewTask(UUID.randomUUID().toString(), owner, "echo", "echo", List.of("a"), null, 0, null, 0, null, 0, Duration.ofDays(7),
                Instant.now());
    }

    @Test
    void an_owners_unfinished_tasks_are_held_to_its_limit_and_a_finished_one_frees_its_place() {
        String owner = "owner-" + UUID.randomUUID();
        NewTask first = aTaskOf(owner);
        NewTask second = aTaskOf(owner);

        assertThat(ownerTasks.claim(owner, first.id(), 1)).isTrue();
        store.create(first);
        assertThat(ownerTasks.claim(owner, second.id(), 1)).as("at the limit").isFalse();
        assertThat(ownerTasks.claim(owner, first.id(), 1)).as("the same task sent again").isTrue();
        assertThat(ownerTasks.claim("another-" + owner, second.id(), 1)).as("another owner's limit is its own").isTrue();

        assertThat(states.transition(first.id(), TaskStatus.CANCELLED, 0, null)).isTrue();

        assertThat(ownerTasks.claim(owner, second.id(), 1)).as("the finished task left the count").isTrue();
    }

    @Test
    void a_task_whose_save_failed_after_it_was_counted_holds_no_place_once_its_owner_is_at_the_limit() {
        String owner = "owner-" + UUID.randomUUID();
        assertThat(ownerTasks.claim(owner, UUID.randomUUID().toString(), 1)).isTrue();

        assertThat(ownerTasks.claim(owner, aTaskOf(owner).id(), 1)).isTrue();
    }

    @Test
    void a_created_task_is_queued_with_its_items_and_zero_counts() {
        NewTask created = aTask("a", "b", "c");
        store.create(created);

        Task task = store.find(created.id()).orElseThrow();

        assertThat(task.status()).isEqualTo(TaskStatus.QUEUED);
        assertThat(task.definition().command()).isEqualTo("echo 1 $1");
        assertThat(task.definition().itemsTotal()).isEqualTo(3);
        assertThat(task.definition().timeoutSeconds()).isEqualTo(30);
        assertThat(task.definition().maxRetries()).isEqualTo(2);
        assertThat(task.progress().itemsSucceeded() + task.progress().itemsFailed() + task.progress().chunksExecuted()).isZero();
        assertThat(redis.opsForList().range(RedisKeys.items(created.id()), 0, -1)).containsExactly("a", "b", "c");
        assertThat(store.find("unknown")).isEmpty();
    }

    @Test
    void status_changes_follow_the_transition_table() {
        NewTask created = aTask("a");
        store.create(created);
        String id = created.id();

        assertThat(states.transition(id, TaskStatus.RETRYING, 1, "Kafka down")).isTrue();
        assertThat(states.transition(id, TaskStatus.SUBMITTED, 2, null)).isTrue();
        assertThat(states.transition(id, TaskStatus.RETRYING, 3, "late")).as("no way back to RETRYING").isFalse();
        assertThat(states.startSharding(id, 1)).isTrue();
        assertThat(states.transition(id, TaskStatus.SUBMITTED, 4, null)).as("a late publish ack").isFalse();

        Task task = store.find(id).orElseThrow();
        assertThat(task.status()).isEqualTo(TaskStatus.INPROGRESS);
        assertThat(task.progress().attempts()).isEqualTo(2);
        assertThat(task.lastError()).isEqualTo("Kafka down");
        assertThat(task.progress().chunksToExecute()).isEqualTo(1);
    }

    @Test
    void when_and_where_the_shards_were_published_is_read_back() {
        NewTask created = aTask("a", "b");
        store.create(created);
        assertThat(states.startSharding(created.id(), 2)).isTrue();
        assertThat(store.find(created.id()).orElseThrow().shardPlacements()).isEmpty();
        Map<Integer, ShardPlacement> placements = Map.of(0, new ShardPlacement(3, 41), 1, new ShardPlacement(7, 40));

        store.markShardsPublished(created.id(), placements);

        Task task = store.find(created.id()).orElseThrow();
        assertThat(task.shardsPublishedAt()).isNotNull();
        assertThat(task.shardPlacements()).isEqualTo(placements);
    }

    @Test
    void of_schedulers_racing_to_shard_one_task_exactly_one_wins() throws Exception {
        NewTask created = aTask("a", "b");
        store.create(created);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> attempts = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int shards = i + 1;
                attempts.add(pool.submit(() -> states.startSharding(created.id(), shards)));
            }
            int winners = 0;
            for (Future<Boolean> attempt : attempts) {
                winners += attempt.get() ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void a_sharded_task_leaves_the_pending_index_and_waiting_reasons_are_cleared() {
        NewTask created = aTask("a");
        store.create(created);
        states.markWaiting(created.id(), "no live worker");

        assertThat(states.pendingOlderThan(Duration.ZERO, 10_000)).contains(created.id());
        assertThat(store.find(created.id()).orElseThrow().waitingReason()).isEqualTo("no live worker");

        states.startSharding(created.id(), 1);

        assertThat(states.pendingOlderThan(Duration.ZERO, 10_000)).doesNotContain(created.id());
        assertThat(store.find(created.id()).orElseThrow().waitingReason()).isNull();
    }

    @Test
    void results_come_back_in_index_order_for_the_requested_page_only_when_recorded() {
        NewTask created = aTask("a", "b", "c", "d");
        store.create(created);
        for (int i : new int[] {3, 0, 1}) {
            ItemResult result = ItemResult.ran(i, "x", 0, false, "o" + i, false, "", false, 1, 1, "w", 0);
            redis.opsForHash().put(RedisKeys.results(created.id()), String.valueOf(i), JSON.writeValueAsString(result));
        }

        assertThat(results.page(created.id(), 0, 10, 1 << 20).results()).extracting(ItemResult::index).containsExactly(0L, 1L, 3L);
        assertThat(results.page(created.id(), 1, 2, 1 << 20).results()).extracting(ItemResult::stdout).containsExactly("o1");
        assertThat(results.page(created.id(), 1, 2, 1 << 20).nextOffset()).isEqualTo(3);
    }

    @Test
    void a_results_page_stops_at_its_byte_budget_and_says_where_to_go_on() {
        NewTask created = aTask("a", "b", "c", "d", "e");
        store.create(created);
        for (int i = 0; i < 5; i++) {
            ItemResult result = ItemResult.ran(i, "x", 0, false, "o".repeat(10_000), false, "", false, 1, 1, "w", 0);
            redis.opsForHash().put(RedisKeys.results(created.id()), String.valueOf(i), JSON.writeValueAsString(result));
        }

        ResultsPage first = results.page(created.id(), 0, 100, 25_000);
        ResultsPage tiny = results.page(created.id(), 0, 100, 1);

        assertThat(first.results()).extracting(ItemResult::index).containsExactly(0L, 1L, 2L);
        assertThat(first.nextOffset()).isEqualTo(3);
        assertThat(tiny.results()).as("at least one result, whatever the budget").hasSize(1);
        assertThat(tiny.nextOffset()).isEqualTo(1);
    }

    @Test
    void a_listing_reads_summaries_without_template_or_command() {
        NewTask created = aTask("a", "b");
        store.create(created);
        states.transition(created.id(), TaskStatus.RETRYING, 3, "Kafka down");
        states.startSharding(created.id(), 2);

        TaskSummary summary = store.recent(null, null, 1_000, null).tasks().stream().filter(t -> t.id().equals(created.id())).findFirst().orElseThrow();

        assertThat(summary.status()).isEqualTo(TaskStatus.INPROGRESS);
        assertThat(summary.owner()).isEqualTo("alice");
        assertThat(summary.itemsTotal()).isEqualTo(2);
        assertThat(summary.times().createdAt()).isEqualTo(created.createdAt().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        Task task = store.find(created.id()).orElseThrow();
        assertThat(summary.progress()).isEqualTo(task.progress());
        assertThat(summary.times()).isEqualTo(task.times());
    }

    @Test
    void an_indexed_id_without_its_task_is_forgotten_by_the_indexes() {
        String orphan = UUID.randomUUID().toString();
        redis.opsForZSet().add(RedisKeys.PENDING_TASKS, orphan, 0);
        redis.opsForZSet().add(RedisKeys.RUNNING_TASKS, orphan, 0);

        assertThat(states.repair(orphan)).isEmpty();

        assertThat(states.pendingOlderThan(Duration.ZERO, 10_000)).doesNotContain(orphan);
        assertThat(states.runningTasks(10_000)).doesNotContain(orphan);
        assertThat(store.recent(null, null, 10, null).tasks()).extracting(TaskSummary::id).doesNotContain(orphan);
    }

    @Test
    void an_idempotency_key_points_at_the_first_task_its_owner_used_it_for_and_its_request() {
        String key = UUID.randomUUID().toString();

        assertThat(idempotencyKeys.claim("alice", key, new RequestClaim("first", "f1"), Duration.ofMinutes(1))).isEmpty();
        assertThat(idempotencyKeys.claim("alice", key, new RequestClaim("second", "f2"), Duration.ofMinutes(1)))
                .contains(new RequestClaim("first", "f1"));
        assertThat(idempotencyKeys.claim("bob", key, new RequestClaim("bobs", "f4"), Duration.ofMinutes(1))).as("another owner's key").isEmpty();
        idempotencyKeys.release("alice", key);
        assertThat(idempotencyKeys.claim("alice", key, new RequestClaim("third", "f3"), Duration.ofMinutes(1))).isEmpty();
    }

    @Test
    void a_task_of_many_chunks_is_uploaded_window_by_window_and_saved_whole_with_no_upload_left() {
        List<String> items = new ArrayList<>();
        for (int i = 0; i < 250_001; i++) {
            items.add("item-" + i);
        }
        NewTask created = new NewTask(UUID.randomUUID().toString(), "alice", "echo $1", "echo $1", items, null, 0, null, 0, null, 0,
                Duration.ofDays(7), Instant.now());
        store.create(created);

        String key = RedisKeys.items(created.id());
        assertThat(store.find(created.id()).orElseThrow().definition().itemsTotal()).isEqualTo(250_001);
        assertThat(redis.opsForList().size(key)).isEqualTo(250_001);
        assertThat(redis.opsForList().index(key, 0)).isEqualTo("item-0");
        assertThat(redis.opsForList().index(key, 123_456)).isEqualTo("item-123456");
        assertThat(redis.opsForList().index(key, -1)).isEqualTo("item-250000");
        assertThat(redis.getExpire(key)).as("no TTL before the task finishes").isEqualTo(-1);
        assertThat(redis.keys(RedisKeys.task(created.id()) + ":items-upload:*")).isEmpty();

        NewTask again = new NewTask(created.id(), "alice", "x", "x", items.subList(0, 20_000), null, 0, null, 0, null, 0, Duration.ofDays(7),
                Instant.now(), "other");
        assertThat(store.createUnlessExists(again)).as("the task exists").isPresent();
        assertThat(redis.opsForList().size(key)).as("its items untouched").isEqualTo(250_001);
        assertThat(redis.keys(RedisKeys.task(created.id()) + ":items-upload:*")).as("the refused upload deleted").isEmpty();
    }

    @Test
    void a_task_with_a_client_chosen_id_is_created_once_among_concurrent_requests_and_tells_its_fingerprint() throws Exception {
        String id = UUID.randomUUID().toString();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<Optional<String>>> creates = new java.util.ArrayList<>();
            for (int i = 0; i < 16; i++) {
                NewTask task = new NewTask(id, "alice", "echo " + i, "echo " + i, List.of("a"), null, 0, null, 0, null, 0, Duration.ofDays(7), Instant.now(), "f" + i);
                creates.add(pool.submit(() -> store.createUnlessExists(task)));
            }
            long created = 0;
            for (var create : creates) {
                created += create.get().isEmpty() ? 1 : 0;
            }
            Task task = store.find(id).orElseThrow();
            String winner = "f" + task.definition().command().substring("echo ".length());

            assertThat(created).isEqualTo(1);
            assertThat(store.createUnlessExists(new NewTask(id, "alice", "x", "x", List.of(), null, 0, null, 0, null, 0, Duration.ofDays(7), Instant.now(), "other")))
                    .contains(winner);
            assertThat(redis.opsForList().size(RedisKeys.items(id))).as("items written once").isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void a_listing_pages_by_cursor_through_every_task_once_even_with_tasks_created_in_the_same_millisecond() {
        String owner = "pager-" + UUID.randomUUID();
        Instant future = Instant.now().plusSeconds(86_400);
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            // Three share one millisecond: the cursor must tell them apart by id.
            NewTask task = new NewTask(UUID.randomUUID().toString(), owner, "t", "t", List.of(), null, 0, null, 0, null, 0, Duration.ofDays(7),
                    i < 3 ? future : future.plusMillis(i));
            store.create(task);
            created.add(task.id());
        }

        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        try {
            do {
                TaskPage page = store.recent(null, owner, 2, cursor);
                page.tasks().forEach(task -> seen.add(task.id()));
                cursor = page.next();
                pages++;
            } while (cursor != null && pages < 20);
        } finally {
            // Dated tomorrow, they would come first in the other listing tests.
            redis.opsForZSet().remove(RedisKeys.RECENT_TASKS, created.toArray());
        }

        assertThat(seen).containsExactlyInAnyOrderElementsOf(created).doesNotHaveDuplicates();
        assertThat(pages).isEqualTo(4);
        assertThat(seen.subList(0, 4)).containsExactly(created.get(6), created.get(5), created.get(4), created.get(3));
    }

    @Test
    void recent_tasks_are_newest_first_and_filtered_by_status_and_owner() {
        String owner = "owner-" + UUID.randomUUID();
        NewTask older = new NewTask(UUID.randomUUID().toString(), owner, "t", "t", List.of(), null, 0, null, 0, null, 0, Duration.ofDays(7),
                Instant.now().plusSeconds(3600));
        NewTask newer = new NewTask(UUID.randomUUID().toString(), "bob", "t", "t", List.of(), null, 0, null, 0, null, 0, Duration.ofDays(7),
                Instant.now().plusSeconds(7200));
        store.create(older);
        store.create(newer);
        states.transition(older.id(), TaskStatus.SUBMISSION_FAILED, 10, "gone");

        assertThat(store.recent(null, null, 2, null).tasks()).extracting(TaskSummary::id).containsExactly(newer.id(), older.id());
        assertThat(store.recent(TaskStatus.SUBMISSION_FAILED, null, 1, null).tasks()).extracting(TaskSummary::id).containsExactly(older.id());
        assertThat(store.recent(null, owner, 2, null).tasks()).extracting(TaskSummary::id).containsExactly(older.id());
        assertThat(store.find(newer.id()).orElseThrow().definition().owner()).isEqualTo("bob");
    }

    @Test
    void a_finished_task_expires_after_the_retention_and_a_running_one_never_does() {
        NewTask created = aTask("a");
        store.create(created);
        states.startSharding(created.id(), 1);
        assertThat(redis.getExpire(RedisKeys.task(created.id()))).as("running: no TTL").isEqualTo(-1);

        states.transition(created.id(), TaskStatus.CANCELLED, 1, null);

        for (String key : List.of(RedisKeys.task(created.id()), RedisKeys.items(created.id()))) {
            assertThat(redis.getExpire(key)).isBetween(Duration.ofDays(7).toSeconds() - 60, Duration.ofDays(7).toSeconds());
        }
    }

    @Test
    void reopening_a_failed_task_forgets_only_its_failed_results_in_a_new_round() {
        NewTask created = aTask("a", "b", "c");
        store.create(created);
        String id = created.id();
        states.startSharding(id, 1);
        for (int i = 0; i < 3; i++) {
            ItemResult result = ItemResult.ran(i, "x", i == 1 ? 1 : 0, false, "", false, "", false, 1, 1, "w", 0);
            redis.opsForHash().put(RedisKeys.results(id), String.valueOf(i), JSON.writeValueAsString(result));
            redis.opsForValue().setBit(RedisKeys.recorded(id), i, true);
        }
        redis.opsForSet().add(RedisKeys.failed(id), "1");
        redis.opsForSet().add(RedisKeys.shardsDone(id), "0");
        states.transition(id, TaskStatus.FAILED, 1, null);

        assertThat(states.reopenFailed(id)).isTrue();

        Task task = store.find(id).orElseThrow();
        assertThat(task.status()).isEqualTo(TaskStatus.QUEUED);
        assertThat(task.progress().round()).isEqualTo(2);
        assertThat(task.progress().itemsSucceeded()).isEqualTo(2);
        assertThat(task.progress().itemsFailed()).isZero();
        assertThat(task.progress().chunksExecuted()).isZero();
        assertThat(task.times().finishedAt()).isNull();
        assertThat(redis.opsForValue().getBit(RedisKeys.recorded(id), 1)).isFalse();
        assertThat(redis.getExpire(RedisKeys.task(id))).isEqualTo(-1);
        assertThat(states.reopenFailed(id)).as("only a FAILED task reopens").isFalse();
    }
}
