package io.dts.worker.execution;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The fast way: one long-lived bash per slice thread that forks a subshell per item, instead of
 * starting a new bash process per item (process start-up, not distribution, limits throughput).
 * The subshell gets what {@code bash -c <command> dts <item>} would: {@code $0 = dts}, the item as
 * {@code $1} and on stdin, the {@code DTS_*} variables, the worker's environment, its own stdout and
 * stderr, and its exit code; it tells its pid first, so a timeout or cancel kills its whole tree.
 * What differs: {@code $$} and {@code $PPID} are those of the long-lived bash, and the variable
 * {@code __dts_command} holds the command.
 */
final class PersistentShell implements ItemShell {

    /** Protocol, one line per item: {@code <hasItem> <itemIndex> <shardIndex> <taskId> <commandChanged>}. */
    private static final String LOOP = """
            __dts_dir=$1
            while IFS=' ' read -r __dts_has_item __dts_index __dts_shard __dts_task __dts_new_command; do
              if [ "$__dts_new_command" = 1 ]; then IFS= read -r -d '' __dts_command < "$__dts_dir/cmd"; fi
              (
                echo "$BASHPID"
                IFS= read -r -d '' __dts_item < "$__dts_dir/in"
                if [ "$__dts_has_item" = 1 ]; then set -- "${__dts_item%$'\\n'}"; else set --; fi
                export DTS_ITEM="${1-}" DTS_TASK_ID="$__dts_task" DTS_ITEM_INDEX="$__dts_index" DTS_SHARD_INDEX="$__dts_shard"
                exec <"$__dts_dir/in" >"$__dts_dir/out" 2>"$__dts_dir/err"
                unset __dts_dir __dts_has_item __dts_index __dts_shard __dts_task __dts_new_command __dts_item
                eval "$__dts_command"
              )
              echo "$?"
            done
            """;

    private final StdioFiles files;
    private final ProcessKiller killer;
    private final RunningProcesses running;
    private final ScheduledExecutorService timeouts;
    private Process shell;
    private BufferedWriter requests;
    private BufferedReader replies;
    private String lastCommand;

    PersistentShell(StdioFiles files, ProcessKiller killer, RunningProcesses running, ScheduledExecutorService timeouts) {
        this.files = files;
        this.killer = killer;
        this.running = running;
        this.timeouts = timeouts;
    }

    @Override
    public Result run(ItemRun run) throws IOException, InterruptedException {
        ensureStarted();
        boolean newCommand = !run.command().equals(lastCommand);
        if (newCommand) {
            Files.writeString(files.command(), run.command(), StandardCharsets.UTF_8);
            lastCommand = run.command();
        }
        requests.write((run.item() == null ? "0 " : "1 ") + run.itemIndex() + " " + run.shardIndex() + " " + run.taskId()
                + (newCommand ? " 1\n" : " 0\n"));
        requests.flush();
        String pidLine = replies.readLine();
        Optional<ProcessHandle> item = pidLine == null ? Optional.empty() : ProcessHandle.of(Long.parseLong(pidLine));
        item.ifPresent(handle -> running.add(run.taskId(), handle));
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> watchdog = timeouts.schedule(() -> {
            timedOut.set(true);
            item.ifPresent(killer::kill);
        }, run.timeout().toMillis(), TimeUnit.MILLISECONDS);
        try {
            String exitLine = pidLine == null ? null : replies.readLine();
            if (exitLine == null) {
                close();
                Files.writeString(files.err(), "dts: the worker's bash exited while running this item "
                        + "(did the command kill its parent?)\n", StandardCharsets.UTF_8);
                return new Result(255, false);
            }
            return new Result(Integer.parseInt(exitLine.trim()), timedOut.get());
        } finally {
            watchdog.cancel(false);
            item.ifPresent(handle -> running.remove(run.taskId(), handle));
        }
    }

    private void ensureStarted() throws IOException {
        if (shell != null && shell.isAlive()) {
            return;
        }
        ProcessBuilder builder = new ProcessBuilder(List.of("bash", "-c", LOOP, "dts", files.dir().toString()))
                .redirectError(ProcessBuilder.Redirect.appendTo(files.dir().resolve("shell.log").toFile()));
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        shell = builder.start();
        requests = new BufferedWriter(new OutputStreamWriter(shell.getOutputStream(), StandardCharsets.UTF_8));
        replies = new BufferedReader(new InputStreamReader(shell.getInputStream(), StandardCharsets.UTF_8));
        lastCommand = null;
    }

    @Override
    public void close() {
        if (shell != null) {
            shell.destroy();
            shell = null;
        }
    }
}
