package io.dts.worker.item;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

import io.dts.model.ItemPlaceholder;
import io.dts.model.ItemResult;
import io.dts.worker.config.TestWorkerProperties;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.config.WorkerProperties.Shell;
import io.dts.worker.sandbox.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.util.unit.DataSize;

/**
 * What a user's command sees and what comes back, with real bash processes. Every case runs with
 * both shells: the persistent one must be indistinguishable from a fresh {@code bash -c} per item.
 */
class ItemLauncherTest {

    @TempDir
    Path workDir;

    private ItemLauncher launcher;

    private ItemLauncher launcher(Shell shell, DataSize outputLimit) {
        WorkerProperties properties = TestWorkerProperties.aWorker(workDir).shell(shell).outputLimit(outputLimit).build();
        launcher = TestItemLaunchers.aLauncher(properties);
        return launcher;
    }

    @AfterEach
    void closeShells() {
        launcher.closeShells();
    }

    private ItemLauncher.Outcome run(Shell shell, String command, String item) {
        return launcher(shell, DataSize.ofKilobytes(64)).run(new ItemRun("task-1", 3, 7, command, item, Duration.ofSeconds(10)));
    }

    @Test
    void a_finished_item_leaves_no_watchdog_behind_for_its_hour_long_timeout() {
        ItemLauncher launcher = launcher(Shell.PERSISTENT, DataSize.ofKilobytes(64));
        for (int i = 0; i < 50; i++) {
            assertThat(launcher.run(new ItemRun("task-1", 0, i, "true", "x", Duration.ofHours(1))).exitCode()).isZero();
        }

        assertThat(launcher.watchdogsQueued()).as("cancelled watchdogs still queued").isZero();
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void the_item_is_the_first_argument_the_stdin_line_and_dts_item(Shell shell) {
        ItemLauncher.Outcome outcome = run(shell, "printf '%s|%s|%s|%s|%s' \"$0\" \"$1\" \"$(cat)\" \"$DTS_ITEM\" \"$#\"", "a b'c");

        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.stdout().text()).isEqualTo("dts|a b'c|a b'c|a b'c|1");
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void the_task_item_and_shard_are_in_the_environment_and_home_is_the_working_directory(Shell shell) {
        ItemLauncher.Outcome outcome = run(shell, "echo \"$DTS_TASK_ID $DTS_ITEM_INDEX $DTS_SHARD_INDEX $([ \"$HOME\" = \"$PWD\" ] && echo home)\"", "x");

        assertThat(outcome.stdout().text()).isEqualTo("task-1 7 3 home\n");
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void stdout_and_stderr_come_back_separately_with_the_exit_code(Shell shell) {
        ItemLauncher.Outcome outcome = run(shell, "echo out; echo err >&2; exit 7", "x");

        assertThat(outcome.exitCode()).isEqualTo(7);
        assertThat(outcome.timedOut()).isFalse();
        assertThat(outcome.stdout().text()).isEqualTo("out\n");
        assertThat(outcome.stderr().text()).isEqualTo("err\n");
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void a_syntax_error_fails_with_exit_code_2_and_a_message(Shell shell) {
        ItemLauncher.Outcome outcome = run(shell, "if then", "x");

        assertThat(outcome.exitCode()).isEqualTo(2);
        assertThat(outcome.stderr().text()).contains("syntax error");
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void without_an_item_the_command_gets_no_argument_and_empty_stdin(Shell shell) {
        ItemLauncher.Outcome outcome = run(shell, "echo \"$#:$(cat | wc -c):${DTS_ITEM}.\"", null);

        assertThat(outcome.stdout().text()).isEqualTo("0:0:.\n");
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void items_in_a_row_see_nothing_of_each_other(Shell shell) {
        ItemLauncher launcher = launcher(shell, DataSize.ofKilobytes(1));
        launcher.run(new ItemRun("t", 0, 0, "LEAK=1; cd /; echo first", "a", Duration.ofSeconds(5)));
        ItemLauncher.Outcome second = launcher.run(new ItemRun("t", 0, 1, "echo \"${LEAK-none} $1\"", "b", Duration.ofSeconds(5)));
        ItemLauncher.Outcome third = launcher.run(new ItemRun("t", 0, 2, "echo \"${LEAK-none} $1\"", "c", Duration.ofSeconds(5)));

        assertThat(second.stdout().text()).isEqualTo("none b\n");
        assertThat(third.stdout().text()).isEqualTo("none c\n");
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void output_over_the_limit_is_cut_and_flagged(Shell shell) {
        ItemLauncher.Outcome outcome = launcher(shell, DataSize.ofBytes(10)).run(new ItemRun("t", 0, 0,
                "printf '0123456789ABC'; printf 'short' >&2", "x", Duration.ofSeconds(10)));

        assertThat(outcome.stdout().text()).isEqualTo("0123456789");
        assertThat(outcome.stdout().truncated()).isTrue();
        assertThat(outcome.stderr().text()).isEqualTo("short");
        assertThat(outcome.stderr().truncated()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void a_timeout_kills_the_whole_process_tree_and_reports_124(Shell shell) throws Exception {
        String marker = Processes.uniqueSleep();
        ItemLauncher launcher = launcher(shell, DataSize.ofKilobytes(1));
        ItemLauncher.Outcome outcome = launcher.run(new ItemRun("t", 0, 0,
                "sleep " + marker + " & wait", "x", Duration.ofMillis(500)));

        assertThat(outcome.timedOut()).isTrue();
        assertThat(outcome.exitCode()).isEqualTo(ItemResult.TIMEOUT_EXIT_CODE);
        await().atMost(Duration.ofSeconds(5)).until(() -> Processes.sleeping(marker).isEmpty());
        assertThat(launcher.run(new ItemRun("t", 0, 1, "echo after", "y", Duration.ofSeconds(5))).stdout().text())
                .as("the shell still works after a kill").isEqualTo("after\n");
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void a_process_that_ignores_term_is_killed_after_the_grace_period(Shell shell) {
        long started = System.nanoTime();
        ItemLauncher.Outcome outcome = launcher(shell, DataSize.ofKilobytes(1)).run(new ItemRun("t", 0, 0,
                "trap '' TERM; sleep 30", "x", Duration.ofMillis(300)));

        assertThat(outcome.timedOut()).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void killing_a_tasks_processes_stops_the_running_item(Shell shell) throws Exception {
        ItemLauncher launcher = launcher(shell, DataSize.ofKilobytes(1));
        var running = java.util.concurrent.CompletableFuture.supplyAsync(() ->
                launcher.run(new ItemRun("doomed", 0, 0, "sleep 30", "x", Duration.ofMinutes(1))));
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            launcher.killAll("doomed");
            return running.isDone();
        });

        assertThat(running.get().exitCode()).isNotZero();
        assertThat(running.get().durationMs()).isLessThan(10_000);
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void shell_quoting_keeps_any_item_one_word_and_inert(Shell shell) {
        String hostile = "$(touch /tmp/dts-pwned) `id` ; ' \" \\ * \n second line";
        ItemLauncher.Outcome outcome = run(shell, "printf '%s' " + ItemPlaceholder.quote(hostile) + "; printf '|%s' \"$1\"", hostile);

        assertThat(outcome.stdout().text()).isEqualTo(hostile + "|" + hostile);
        assertThat(Path.of("/tmp/dts-pwned")).doesNotExist();
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void an_item_too_large_to_start_fails_on_its_own_with_126_and_a_message(Shell shell) {
        String huge = "x".repeat(200_000); // over Linux's 128 KiB for one argument or environment string

        ItemLauncher.Outcome outcome = run(shell, "/bin/true", huge);
        ItemLauncher.Outcome next = run(shell, "echo still-running", "ok");

        assertThat(outcome.exitCode()).isEqualTo(126);
        assertThat(outcome.stderr().text()).containsIgnoringCase("argument list too long");
        assertThat(next.stdout().text()).isEqualTo("still-running\n");
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void a_failure_of_the_worker_itself_is_thrown_and_not_blamed_on_the_item(Shell shell) throws Exception {
        ItemLauncher launcher = launcher(shell, DataSize.ofKilobytes(1));
        launcher.run(new ItemRun("t", 0, 0, "true", "a", Duration.ofSeconds(5)));
        // The thread's stdin file cannot be written any more: trouble of the worker's own, as a full disk is.
        try (Stream<Path> files = Files.walk(workDir)) {
            for (Path in : files.filter(file -> file.getFileName().toString().equals("in")).toList()) {
                Files.delete(in);
                Files.createDirectory(in);
            }
        }

        assertThatThrownBy(() -> launcher.run(new ItemRun("t", 0, 1, "true", "b", Duration.ofSeconds(5))))
                .isInstanceOf(UncheckedIOException.class);
    }
}
