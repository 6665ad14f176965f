package io.dts.worker.execution;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The fast way: one long-lived bash per slice thread, started in the {@link ItemSandbox}, forks a subshell
 * per item, instead of starting a new sandbox per item (process start-up, not distribution, limits
 * throughput). The long-lived bash stays this worker's user, in its own PID namespace; each item's
 * subshell sets the limits, the item's directory, stdio and {@code DTS_*} variables, then becomes
 * {@code bash -c <command> dts <item>} as the item user ({@link ItemSandbox#userSwitch}). So an item gets
 * what {@code bash -c} would ({@code $0 = dts}, the item as {@code $1} and on stdin, its own {@code $$},
 * stdout, stderr and exit code), and cannot trace, signal or take over the shell that runs the next items.
 * The long-lived bash is the namespace's first process: after each item it kills whatever the item left
 * behind, even what escaped with setsid (it was re-parented to it), before it answers.
 */
final class PersistentShell implements ItemShell {

    /**
     * Arguments: the stdio directory, 1 to kill what an item leaves, the limits, then the words that switch
     * to the item user. One request line per item:
     * {@code <hasItem> <itemIndex> <shardIndex> <taskId> <commandChanged> <itemDirectory>}; one reply line:
     * its exit code.
     */
    private static final String LOOP = """
            __dts_dir=$1 __dts_reap=$2 __dts_limits=$3
            shift 3
            __dts_as_item=("$@")
            while IFS=' ' read -r __dts_has_item __dts_index __dts_shard __dts_task __dts_new_command __dts_home; do
              if [ "$__dts_new_command" = 1 ]; then IFS= read -r -d '' __dts_command < "$__dts_dir/cmd"; fi
              (
                eval "$__dts_limits" || exit 126
                cd "$__dts_home" || exit 126
                IFS= read -r -d '' __dts_item < "$__dts_dir/in"
                if [ "$__dts_has_item" = 1 ]; then set -- "${__dts_item%$'\\n'}"; else set --; fi
                export HOME="$__dts_home" TMPDIR="$__dts_home"
                export DTS_ITEM="${1-}" DTS_TASK_ID="$__dts_task" DTS_ITEM_INDEX="$__dts_index" DTS_SHARD_INDEX="$__dts_shard"
                exec <"$__dts_dir/in" >"$__dts_dir/out" 2>"$__dts_dir/err"
                exec "${__dts_as_item[@]}" bash -c "$__dts_command" dts "$@"
              )
              __dts_exit=$?
              if [ "$__dts_reap" = 1 ]; then kill -KILL -1 2>/dev/null; fi
              echo "$__dts_exit"
            done
            """;

    private final StdioFiles files;
    private final ItemSandbox sandbox;
    private final ProcessKiller killer;
    private final RunningProcesses running;
    private final ScheduledExecutorService timeouts;
    private Process shell;
    private ProcessHandle itemParent;
    private BufferedWriter requests;
    private BufferedReader replies;
    private String lastCommand;

    PersistentShell(StdioFiles files, ItemSandbox sandbox, ProcessKiller killer, RunningProcesses running,
                    ScheduledExecutorService timeouts) {
        this.files = files;
        this.sandbox = sandbox;
        this.killer = killer;
        this.running = running;
        this.timeouts = timeouts;
    }

    @Override
    public Result run(ItemRun run, Path home) throws IOException, InterruptedException {
        ensureStarted();
        boolean newCommand = !run.command().equals(lastCommand);
        if (newCommand) {
            Files.writeString(files.command(), run.command(), StandardCharsets.UTF_8);
            lastCommand = run.command();
        }
        // The item's processes are the long-lived bash's children: its subshell, and what was re-parented to it.
        ProcessHandle parent = itemParent;
        RunningProcesses.ItemProcesses item = () -> parent.children().toList();
        running.add(run.taskId(), item);
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> watchdog = timeouts.schedule(() -> {
            timedOut.set(true);
            killer.kill(item.roots());
        }, run.timeout().toMillis(), TimeUnit.MILLISECONDS);
        try {
            requests.write((run.item() == null ? "0 " : "1 ") + run.itemIndex() + " " + run.shardIndex() + " " + run.taskId()
                    + (newCommand ? " 1 " : " 0 ") + home + "\n");
            requests.flush();
            String exitLine = replies.readLine();
            if (exitLine == null) {
                close();
                Files.writeString(files.err(), "dts: the worker's bash exited while running this item "
                        + "(did the command kill its parent?)\n", StandardCharsets.UTF_8);
                return new Result(255, false);
            }
            return new Result(Integer.parseInt(exitLine.trim()), timedOut.get());
        } finally {
            watchdog.cancel(false);
            running.remove(run.taskId(), item);
        }
    }

    private void ensureStarted() throws IOException, InterruptedException {
        if (shell != null && shell.isAlive()) {
            return;
        }
        List<String> argv = new ArrayList<>(List.of("bash", "-c", LOOP, "dts", files.dir().toString(),
                sandbox.namespaced() ? "1" : "0", sandbox.limits()));
        argv.addAll(sandbox.userSwitch());
        shell = sandbox.shellBuilder(argv)
                .directory(files.dir().toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(files.dir().resolve("shell.log").toFile()))
                .start();
        itemParent = sandbox.itemParent(shell);
        requests = new BufferedWriter(new OutputStreamWriter(shell.getOutputStream(), StandardCharsets.UTF_8));
        replies = new BufferedReader(new InputStreamReader(shell.getInputStream(), StandardCharsets.UTF_8));
        lastCommand = null;
    }

    @Override
    public void close() {
        if (shell != null) {
            // Outside a namespace the items' processes would outlive the shell: end them first.
            killer.kill(itemParent.children().toList());
            shell.destroy();
            shell = null;
        }
    }
}
