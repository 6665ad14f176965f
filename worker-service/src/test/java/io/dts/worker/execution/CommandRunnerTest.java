package io.dts.worker.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import io.dts.model.ItemResult;
import io.dts.worker.config.WorkerProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

/** What a user's command sees and what comes back, with real bash processes. */
class CommandRunnerTest {

    @TempDir
    Path workDir;

    private CommandRunner runner(DataSize outputLimit) {
        WorkerProperties properties = new WorkerProperties("test-worker", 2, Duration.ofSeconds(2), Duration.ofSeconds(10),
                Duration.ofMinutes(1), Duration.ofMillis(500), outputLimit, 1, 64, Duration.ofMillis(200), "g", workDir.toString(), Duration.ofMillis(500), Duration.ofMinutes(1));
        return new CommandRunner(properties, new RunningProcesses());
    }

    private CommandRunner.Outcome run(String command, String item) {
        return runner(DataSize.ofKilobytes(64)).run("task", command, item, Map.of("DTS_ITEM", item == null ? "" : item), Duration.ofSeconds(10));
    }

    @Test
    void the_item_is_the_first_argument_the_stdin_line_and_dts_item() {
        CommandRunner.Outcome outcome = run("printf '%s|%s|%s' \"$1\" \"$(cat)\" \"$DTS_ITEM\"", "a b'c");

        assertThat(outcome.exitCode()).isZero();
        assertThat(outcome.stdout().text()).isEqualTo("a b'c|a b'c|a b'c");
    }

    @Test
    void stdout_and_stderr_come_back_separately_with_the_exit_code() {
        CommandRunner.Outcome outcome = run("echo out; echo err >&2; exit 7", "x");

        assertThat(outcome.exitCode()).isEqualTo(7);
        assertThat(outcome.timedOut()).isFalse();
        assertThat(outcome.stdout().text()).isEqualTo("out\n");
        assertThat(outcome.stderr().text()).isEqualTo("err\n");
    }

    @Test
    void without_an_item_the_command_gets_no_argument_and_empty_stdin() {
        CommandRunner.Outcome outcome = run("echo \"$#:$(cat | wc -c)\"", null);

        assertThat(outcome.stdout().text()).isEqualTo("0:0\n");
    }

    @Test
    void output_over_the_limit_is_cut_and_flagged() {
        CommandRunner.Outcome outcome = runner(DataSize.ofBytes(10)).run("t", "printf '0123456789ABC'; printf 'short' >&2", "x",
                Map.of(), Duration.ofSeconds(10));

        assertThat(outcome.stdout().text()).isEqualTo("0123456789");
        assertThat(outcome.stdout().truncated()).isTrue();
        assertThat(outcome.stderr().text()).isEqualTo("short");
        assertThat(outcome.stderr().truncated()).isFalse();
    }

    @Test
    void a_timeout_kills_the_whole_process_tree_and_reports_124() throws Exception {
        Path pidFile = workDir.resolve("child.pid");
        CommandRunner.Outcome outcome = runner(DataSize.ofKilobytes(1)).run("t",
                "sleep 30 & echo $! > " + pidFile + "; wait", "x", Map.of(), Duration.ofMillis(500));

        assertThat(outcome.timedOut()).isTrue();
        assertThat(outcome.exitCode()).isEqualTo(ItemResult.TIMEOUT_EXIT_CODE);
        long child = Long.parseLong(Files.readString(pidFile).trim());
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(child).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void a_process_that_ignores_term_is_killed_after_the_grace_period() {
        long started = System.nanoTime();
        CommandRunner.Outcome outcome = runner(DataSize.ofKilobytes(1)).run("t", "trap '' TERM; sleep 30", "x", Map.of(),
                Duration.ofMillis(300));

        assertThat(outcome.timedOut()).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void shell_quoting_keeps_any_item_one_word_and_inert() {
        String hostile = "$(touch /tmp/dts-pwned) `id` ; ' \" \\ *";
        CommandRunner.Outcome outcome = run("printf '%s' " + ShellQuoting.quote(hostile), hostile);

        assertThat(outcome.stdout().text()).isEqualTo(hostile);
        assertThat(Path.of("/tmp/dts-pwned")).doesNotExist();
    }
}
