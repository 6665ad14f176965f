package io.dts.worker.shard;

import static io.dts.worker.config.TestWorkerProperties.aWorker;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.dts.model.ItemPlaceholder;
import io.dts.model.ItemResult;
import io.dts.model.TaskShard;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.item.ItemLauncher;
import io.dts.worker.item.TestItemLaunchers;
import io.dts.worker.shard.ItemAttempts.Command;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How often an item runs and how long it waits in between, with real bash processes: the waits are
 * recorded instead of slept, so the backoff is checked exactly and at once.
 */
class ItemAttemptsTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path workDir;

    private final List<Duration> waits = new CopyOnWriteArrayList<>();
    private final RunningWork running = new RunningWork();
    private ItemLauncher launcher;

    @AfterEach
    void closeShells() {
        launcher.closeShells();
    }

    private ItemAttempts attempts(Duration backoff, Duration maxBackoff) {
        WorkerProperties properties = aWorker(workDir).itemRetryBackoff(backoff, maxBackoff).build();
        launcher = TestItemLaunchers.aLauncher(properties);
        return new ItemAttempts(properties, launcher, running, CLOCK, waits::add);
    }

    private ItemAttempts attempts() {
        return attempts(Duration.ofMillis(500), Duration.ofSeconds(30));
    }

    private static TaskShard aShard(String command, int maxRetries) {
        return new TaskShard("task-1", 0, 1, 0, 1, command, false, null, maxRetries, 1, null);
    }

    private static ItemResult run(ItemAttempts attempts, TaskShard shard, String item) {
        return attempts.run(shard, Command.of(shard.command()), 7, item);
    }

    @Test
    void an_item_that_succeeds_runs_once_without_waiting() {
        ItemResult result = run(attempts(), aShard("echo {{item}}", 3), "a");

        assertThat(result.exitCode()).isZero();
        assertThat(result.stdout()).isEqualTo("a\n");
        assertThat(result.attempts()).isEqualTo(1);
        assertThat(result.index()).isEqualTo(7);
        assertThat(result.finishedAt()).isEqualTo(CLOCK.millis());
        assertThat(waits).isEmpty();
    }

    @Test
    void a_shard_without_timeout_and_one_an_earlier_scheduler_sent_with_0_both_take_the_workers_default() {
        ItemAttempts attempts = attempts();
        TaskShard none = aShard("sleep 0.3; echo {{item}}", 0);
        TaskShard earlierZero = new TaskShard("task-1", 0, 1, 0, 1, none.command(), false, 0L, 0, 1, null);

        for (TaskShard shard : List.of(none, earlierZero)) {
            ItemResult result = run(attempts, shard, "a");
            assertThat(result.timedOut()).as("timeoutSeconds %s", shard.timeoutSeconds()).isFalse();
            assertThat(result.stdout()).isEqualTo("a\n");
        }
    }

    @Test
    void a_failing_item_runs_max_retries_plus_one_times_waiting_twice_as_long_each_time() {
        ItemResult result = run(attempts(), aShard("echo no >&2; exit 3", 3), "a");

        assertThat(result.exitCode()).isEqualTo(3);
        assertThat(result.stderr()).isEqualTo("no\n");
        assertThat(result.attempts()).isEqualTo(4);
        assertThat(waits).containsExactly(Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2));
    }

    @Test
    void the_wait_stops_growing_at_the_max_backoff() {
        run(attempts(Duration.ofMillis(500), Duration.ofSeconds(2)), aShard("exit 1", 5), "a");

        assertThat(waits).containsExactly(Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(2),
                Duration.ofSeconds(2));
    }

    @Test
    void the_result_is_the_attempt_that_succeeded() {
        Path count = TestItemLaunchers.itemWritable(workDir).resolve("count");
        String command = "n=$(( $(cat " + count + " 2>/dev/null || echo 0) + 1 )); echo $n > " + count + "; echo $n; [ $n -ge 3 ]";

        ItemResult result = run(attempts(), aShard(command, 5), "a");

        assertThat(result.exitCode()).isZero();
        assertThat(result.stdout()).isEqualTo("3\n");
        assertThat(result.attempts()).isEqualTo(3);
        assertThat(waits).hasSize(2);
    }

    @Test
    void an_item_of_a_task_killed_here_is_not_tried_again() {
        running.shardStarted("task-1");
        running.cancel("task-1");

        ItemResult result = run(attempts(), aShard("exit 1", 3), "a");

        assertThat(result.attempts()).isEqualTo(1);
        assertThat(waits).isEmpty();
    }

    @Test
    void an_item_that_would_make_the_command_too_long_is_not_run() {
        Path ran = TestItemLaunchers.itemWritable(workDir).resolve("ran");
        String item = "x".repeat(ItemPlaceholder.MAX_COMMAND_BYTES);

        ItemResult result = run(attempts(), aShard("touch " + ran + " # {{item}}", 3), item);

        assertThat(ran).doesNotExist();
        assertThat(result.exitCode()).isEqualTo(ItemResult.NOT_STARTED_EXIT_CODE);
        assertThat(result.attempts()).isZero();
        assertThat(result.stderr()).contains("dts: not run", ItemPlaceholder.MAX_COMMAND_BYTES + " bytes a command may have");
        assertThat(result.item()).isEqualTo(item);
    }
}
