package io.dts.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import io.dts.worker.config.TestWorkerProperties;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.config.WorkerProperties.Sandbox.Isolation;
import io.dts.worker.config.WorkerProperties.Shell;
import io.dts.worker.item.ItemLauncher;
import io.dts.worker.item.ItemRun;
import io.dts.worker.item.TestItemLaunchers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.util.unit.DataSize;

/**
 * What an item may and may not do, with real processes. These tests run as root (as the worker does on
 * these machines), so they prove that items do not: they run as {@code dts-item}, which
 * {@code ./scripts/test.sh} creates.
 */
class ItemSandboxTest {

    @TempDir
    Path workDir;

    private ItemLauncher launcher;

    private ItemLauncher launcher(Shell shell, WorkerProperties.Sandbox sandbox) {
        launcher = TestItemLaunchers.aLauncher(TestWorkerProperties.aWorker(workDir).shell(shell).sandbox(sandbox).build());
        return launcher;
    }

    private ItemLauncher.Outcome run(Shell shell, String command) {
        return run(launcher(shell, TestWorkerProperties.sandbox(Isolation.PID, DataSize.ofMegabytes(256))), command);
    }

    private static ItemLauncher.Outcome run(ItemLauncher launcher, String command) {
        return launcher.run(new ItemRun("task-1", 0, 0, command, "x", Duration.ofSeconds(20)));
    }

    @AfterEach
    void closeShells() {
        if (launcher != null) {
            launcher.closeShells();
        }
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void an_item_runs_as_the_sandbox_user_without_capabilities_in_a_fresh_private_directory(Shell shell) throws Exception {
        ItemLauncher.Outcome outcome = run(shell, """
                id -u; id -G; pwd; stat -c %a .; ls -A | wc -l; echo "$HOME $TMPDIR"
                grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status | tr -s '\\t' ' '
                touch left-behind""");
        List<String> lines = outcome.stdout().text().lines().toList();
        String uid = command("id", "-u", "dts-item");
        String gid = command("id", "-g", "dts-item");

        assertThat(outcome.exitCode()).as(outcome.stderr().text()).isZero();
        assertThat(lines.get(0)).isEqualTo(uid).isNotEqualTo("0");
        assertThat(lines.get(1)).as("no supplementary groups").isEqualTo(gid);
        Path home = Path.of(lines.get(2));
        assertThat(home.startsWith(workDir)).as(home + " in " + workDir).isTrue();
        assertThat(lines.get(3)).as("mode of its directory").isEqualTo("700");
        assertThat(lines.get(4)).as("entries found there").isEqualTo("0");
        assertThat(lines.get(5)).isEqualTo(home + " " + home);
        assertThat(lines.subList(6, 9)).containsExactly("CapEff: 0000000000000000", "CapBnd: 0000000000000000", "NoNewPrivs: 1");
        assertThat(home).as("removed afterwards, with what the item left").doesNotExist();
        assertThat(run(launcher, "pwd").stdout().text().trim()).as("the next item's directory").isNotEqualTo(home.toString());
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void an_item_sees_only_the_allowed_environment_and_cannot_read_the_workers(Shell shell) {
        ItemLauncher.Outcome outcome = run(shell, "env | cut -d= -f1 | sort; cat /proc/" + ProcessHandle.current().pid() + "/environ");
        Set<String> names = outcome.stdout().text().lines().collect(Collectors.toSet());

        assertThat(names).contains("PATH", "HOME", "TMPDIR", "DTS_ITEM", "DTS_TASK_ID", "DTS_ITEM_INDEX", "DTS_SHARD_INDEX");
        assertThat(names).allMatch(name -> Set.of("PATH", "LANG", "HOME", "TMPDIR", "PWD", "OLDPWD", "SHLVL", "_").contains(name)
                || name.startsWith("LC_") || name.startsWith("DTS_"), "only the allow-list, PATH, LANG, LC_* and DTS_*");
        assertThat(outcome.stderr().text()).as("the worker's environment").contains("No such file");
    }

    @Test
    void the_operator_passes_more_names_on_purpose() {
        WorkerProperties.Sandbox sandbox = TestWorkerProperties.sandbox(Isolation.PID, DataSize.ofMegabytes(1));

        Map<String, String> environment = ItemSandbox.environment(sandbox,
                Map.of("PATH", "/bin", "LC_ALL", "C", "DTS_TEST_PASSED", "yes", "REDIS_PASSWORD", "secret", "JAVA_TOOL_OPTIONS", "-X"));

        assertThat(environment).isEqualTo(Map.of("PATH", "/bin", "LC_ALL", "C", "DTS_TEST_PASSED", "yes"));
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void no_process_of_an_item_outlives_it_not_even_one_detached_with_setsid(Shell shell) {
        String marker = Processes.uniqueSleep();
        ItemLauncher.Outcome outcome = run(shell, "setsid nohup sleep " + marker + " >/dev/null 2>&1 & disown; sleep 0.2; echo started");

        assertThat(outcome.stdout().text()).isEqualTo("started\n");
        await().atMost(Duration.ofSeconds(2)).until(() -> Processes.sleeping(marker).isEmpty());
        assertThat(run(launcher, "ps -e -o pid= | wc -l").stdout().text().trim())
                .as("processes an item sees: its shell, its subshell, ps and wc; never the worker's").isIn("3", "4", "5");
    }

    @Test
    void an_item_may_reach_the_shell_of_its_own_task_but_nothing_of_it_reaches_the_next_task() {
        ItemLauncher launcher = launcher(Shell.PERSISTENT, TestWorkerProperties.sandbox(Isolation.PID, DataSize.ofMegabytes(256)));
        String sandboxOf = "readlink /proc/self/ns/pid; cut -d' ' -f22 /proc/1/stat";

        // The shell is the item user's: an item could trace it (its fds are open to it) and so disturb the next items of its task.
        ItemLauncher.Outcome first = launcher.run(new ItemRun("task-a", 0, 0, sandboxOf + "; ls /proc/1/fd >/dev/null && echo fds-listed", "x", Duration.ofSeconds(20)));
        ItemLauncher.Outcome second = launcher.run(new ItemRun("task-a", 0, 1, sandboxOf, "y", Duration.ofSeconds(20)));
        ItemLauncher.Outcome otherTask = launcher.run(new ItemRun("task-b", 0, 0, sandboxOf + "; ps -e -o pid= | wc -l", "z", Duration.ofSeconds(20)));

        List<String> firstLines = first.stdout().text().lines().toList();
        assertThat(firstLines.get(2)).isEqualTo("fds-listed");
        assertThat(second.stdout().text().lines().toList()).as("the same shell for the task's next item").isEqualTo(firstLines.subList(0, 2));
        List<String> otherLines = otherTask.stdout().text().lines().toList();
        assertThat(otherLines.get(0)).as("another task: another PID namespace").isNotEqualTo(firstLines.get(0));
        assertThat(otherLines.get(1)).as("another shell").isNotEqualTo(firstLines.get(1));
        assertThat(otherLines.get(2)).as("processes there: its shell, its subshell, ps and wc").isIn("3", "4", "5");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(stdioDirectories())
                .as("the first task's sandbox files are removed; left: the current sandbox's and the one started ahead").hasSize(2));
    }

    @Test
    void an_item_that_kills_its_long_lived_shell_fails_alone_and_the_next_item_gets_a_fresh_shell() {
        // Without a namespace the shell is no init process, so the item's SIGKILL reaches it.
        ItemLauncher launcher = launcher(Shell.PERSISTENT, TestWorkerProperties.sandbox(Isolation.NONE, DataSize.ofMegabytes(256)));

        ItemLauncher.Outcome killer = launcher.run(new ItemRun("task-a", 0, 0, "kill -KILL $PPID; sleep 5", "x", Duration.ofSeconds(20)));
        ItemLauncher.Outcome next = launcher.run(new ItemRun("task-a", 0, 1, "echo next", "y", Duration.ofSeconds(20)));

        assertThat(killer.exitCode()).isEqualTo(255);
        assertThat(killer.stderr().text()).contains("shell exited");
        assertThat(next.exitCode()).isZero();
        assertThat(next.stdout().text()).isEqualTo("next\n");
    }

    private List<Path> stdioDirectories() throws IOException {
        try (Stream<Path> roots = Files.list(workDir); Stream<Path> inside = Files.list(roots.findFirst().orElseThrow())) {
            return inside.toList();
        }
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void every_process_gets_the_limits_and_a_flood_of_output_stops_at_the_file_size_limit(Shell shell) throws Exception {
        ItemLauncher launcher = launcher(shell, TestWorkerProperties.sandbox(Isolation.PID, DataSize.ofMegabytes(1)));

        ItemLauncher.Outcome limits = run(launcher, "ulimit -H -c -t -v -u -f -n | awk '{print $NF}' | paste -sd' '");
        ItemLauncher.Outcome flood = run(launcher, "yes flood");

        assertThat(limits.stdout().text()).isEqualTo("0 3600 4194304 512 1024 1024\n");
        assertThat(flood.exitCode()).as("killed by SIGXFSZ, or stopped by its write error").isNotZero();
        assertThat(flood.stdout().truncated()).isTrue();
        try (var files = Files.walk(workDir)) {
            assertThat(files.filter(file -> file.getFileName().toString().equals("out")).toList())
                    .allSatisfy(out -> assertThat(Files.size(out)).isLessThanOrEqualTo(DataSize.ofMegabytes(1).toBytes()));
        }
    }

    @ParameterizedTest
    @EnumSource(Shell.class)
    void with_bubblewrap_an_item_has_no_network_and_a_read_only_system(Shell shell) {
        ItemLauncher launcher = launcher(shell, TestWorkerProperties.sandbox(Isolation.BWRAP, DataSize.ofMegabytes(1)));

        ItemLauncher.Outcome outcome = run(launcher, "awk 'NR > 2 {print $1}' /proc/net/dev | paste -sd' '; touch /usr/dts-probe 2>&1 | grep -o 'Read-only'; "
                + "ls /tmp | wc -l; echo x > \"$HOME/ok\" && echo writes-home");

        assertThat(outcome.stdout().text()).isEqualTo("lo:\nRead-only\n0\nwrites-home\n");
        assertThat(Path.of("/usr/dts-probe")).doesNotExist();
    }

    static Stream<Arguments> shellsAndIsolations() {
        return Stream.of(Shell.values()).flatMap(shell -> Stream.of(Isolation.values()).map(isolation -> Arguments.of(shell, isolation)));
    }

    static Stream<Arguments> shellsAndNamespaces() {
        return shellsAndIsolations().filter(arguments -> arguments.get()[1] != Isolation.NONE);
    }

    @ParameterizedTest
    @MethodSource("shellsAndIsolations")
    void an_item_has_its_own_pid_as_under_bash_c_and_killing_it_ends_the_item(Shell shell, Isolation isolation) {
        ItemLauncher launcher = launcher(shell, TestWorkerProperties.sandbox(isolation, DataSize.ofMegabytes(1)));

        List<String> first = List.of(run(launcher, "echo \"$$ $BASHPID $PPID\"").stdout().text().trim().split(" "));
        String second = run(launcher, "echo $$").stdout().text().trim();
        ItemLauncher.Outcome killedHard = run(launcher, "kill -KILL $$; echo survived");
        ItemLauncher.Outcome terminated = run(launcher, "kill $$; echo survived");

        assertThat(first).hasSize(3);
        assertThat(first.get(0)).as("$$ is the item's own bash").isEqualTo(first.get(1)).isNotEqualTo("1");
        assertThat(first.get(2)).as("$PPID: a real parent").isNotEqualTo("0");
        if (shell == Shell.PERSISTENT) {
            assertThat(second).as("the next item's $$, in the same namespace").isNotEqualTo(first.get(0));
        }
        assertThat(killedHard.exitCode()).isEqualTo(137);
        assertThat(killedHard.stdout().text()).isEmpty();
        assertThat(killedHard.stderr().text()).as("no job message from the sandbox's shell").isEmpty();
        assertThat(terminated.exitCode()).isEqualTo(143);
        assertThat(terminated.stdout().text()).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("shellsAndNamespaces")
    void concurrent_items_that_name_a_file_in_tmp_after_their_pid_each_read_back_their_own(Shell shell, Isolation isolation)
            throws Exception {
        ItemLauncher launcher = launcher(shell, TestWorkerProperties.sandbox(isolation, DataSize.ofMegabytes(1)));
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<ItemLauncher.Outcome>> outcomes = IntStream.range(0, 8).mapToObj(i -> threads.submit(() -> launcher.run(
                    new ItemRun("task-1", 0, i, "f=/tmp/out.$$; echo \"$1\" > $f; sleep 0.3; cat $f", "item-" + i, Duration.ofSeconds(20)))))
                    .toList();

            for (int i = 0; i < outcomes.size(); i++) {
                assertThat(outcomes.get(i).get().stdout().text()).as("item %d read", i).isEqualTo("item-" + i + "\n");
            }
        } finally {
            threads.shutdown();
        }
    }

    @ParameterizedTest
    @MethodSource("shellsAndNamespaces")
    void each_item_finds_the_shared_writable_places_empty_and_nothing_it_leaves_there_reaches_the_host(Shell shell, Isolation isolation) {
        ItemLauncher launcher = launcher(shell, TestWorkerProperties.sandbox(isolation, DataSize.ofMegabytes(1)));
        String name = "dts-private-" + UUID.randomUUID();
        List<String> places = isolation == Isolation.PID ? List.of("/tmp", "/var/tmp", "/dev/shm", "/run/lock") : List.of("/tmp");
        String leave = places.stream().map(place -> "echo x > " + place + "/" + name).collect(Collectors.joining("; "))
                + "; mkdir -p /tmp/.hidden/locked && chmod 000 /tmp/.hidden/locked /tmp/.hidden /tmp; echo left";
        String look = "find " + String.join(" ", places) + " -mindepth 1 | wc -l";

        ItemLauncher.Outcome first = run(launcher, leave);
        ItemLauncher.Outcome second = run(launcher, look);

        assertThat(first.stdout().text()).as(first.stderr().text()).isEqualTo("left\n");
        assertThat(second.stdout().text()).as("what the next item finds there").isEqualTo("0\n");
        assertThat(places).allSatisfy(place -> assertThat(Path.of(place, name)).as("on the host").doesNotExist());
    }

    @Test
    void a_work_directory_that_does_not_exist_yet_is_made_and_used() {
        Path missing = workDir.resolve("dts-worker");
        ItemLauncher launcher = TestItemLaunchers.aLauncher(TestWorkerProperties.aWorker(missing).build());
        this.launcher = launcher;

        ItemLauncher.Outcome outcome = run(launcher, "pwd");

        assertThat(outcome.exitCode()).as(outcome.stderr().text()).isZero();
        assertThat(outcome.stdout().text()).startsWith(missing.toString());
    }

    @Test
    void a_work_directory_under_tmp_is_refused_since_items_get_a_private_one() throws IOException {
        Path underTmp = Files.createTempDirectory(Path.of("/tmp"), "dts-work");
        try {
            assertThatThrownBy(() -> new ItemSandbox(TestWorkerProperties.aWorker(underTmp).build()))
                    .hasMessageContaining("worker.work-dir " + underTmp + " is under /tmp");
        } finally {
            Files.delete(underTmp);
        }
    }

    @Test
    void a_worker_refuses_to_start_when_items_cannot_be_confined() {
        WorkerProperties.Sandbox missingUser = new WorkerProperties.Sandbox("dts-no-such-user", false, Isolation.PID, List.of(),
                Duration.ofHours(1), DataSize.ofGigabytes(1), 64, DataSize.ofMegabytes(1), 64);
        WorkerProperties.Sandbox sameUserAsRoot = new WorkerProperties.Sandbox("dts-item", true, Isolation.PID, List.of(),
                Duration.ofHours(1), DataSize.ofGigabytes(1), 64, DataSize.ofMegabytes(1), 64);

        assertThatThrownBy(() -> new ItemSandbox(TestWorkerProperties.aWorker(workDir).sandbox(missingUser).build()))
                .hasMessageContaining("useradd");
        assertThatThrownBy(() -> new ItemSandbox(TestWorkerProperties.aWorker(workDir).sandbox(sameUserAsRoot).build()))
                .hasMessageContaining("would run items as root");
    }

    private static String command(String... argv) throws Exception {
        Process process = new ProcessBuilder(argv).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(process.waitFor()).as(Arrays.toString(argv)).isZero();
        return output;
    }
}
