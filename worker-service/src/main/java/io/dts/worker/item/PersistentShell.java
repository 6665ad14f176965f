package io.dts.worker.item;

import io.dts.worker.sandbox.ItemSandbox;
import io.dts.worker.sandbox.ProcessKiller;
import io.dts.worker.sandbox.ProcessTree;
import io.dts.worker.sandbox.RunningProcesses;
import io.dts.worker.sandbox.StdioFiles;
import io.dts.worker.sandbox.WorkDirectories;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The fast way: one long-lived bash per slice thread and task, which starts each item from a subshell
 * instead of starting a process per item through the JVM and the sandbox (process start-up, not
 * distribution, limits throughput). The bash runs as the item user in a sandbox of its own
 * ({@link ItemSandbox}: a PID namespace or a bubblewrap, where it is the first process, with a private
 * {@code /tmp}) with stdio files of its own, and serves the items of one task only: when the thread turns to
 * another task, the sandbox is killed with everything in it and a fresh one, started ahead after the last
 * one's first item, takes over. An item may trace or disturb the bash that runs the next items of its own
 * task, which is its submitter's code anyway; nothing of it reaches another task.
 * <p>
 * Each item is {@code bash -c <command> dts <item>}, exec'd from the subshell: a process of its own, so its
 * {@code $$} is its own, {@code $PPID} the long-lived bash, and {@code kill $$} ends it (the first process of
 * a namespace would ignore it). It gets the item as {@code $1} and on stdin, the {@code DTS_*} variables, its
 * stdout, stderr, exit code and limits. After each item the bash kills whatever the item left behind, even
 * what escaped with setsid, before it answers, and empties the sandbox's {@code /tmp} before it reads the
 * next request (after the answer: a kill of the item's processes, which may come late, cannot cut it short).
 */
final class PersistentShell implements ItemShell {

    /**
     * Arguments: the stdio directory, 1 in a namespace (kill what an item leaves, empty the private /tmp), the
     * limits. One request line per item: {@code <hasItem> <itemIndex> <shardIndex> <taskId> <commandChanged> <itemDirectory>}; one reply line:
     * its exit code. Only builtins run per item besides the item's own bash (each process start costs milliseconds):
     * {@code chmod} runs only when the item took its own rights on /tmp away, {@code rm} only when it left something.
     */
    private static final String LOOP = """
            __dts_dir=$1 __dts_reap=$2 __dts_limits=$3
            shopt -s nullglob
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
                exec bash -c "$__dts_command" dts "$@"
              )
              __dts_exit=$?
              if [ "$__dts_reap" = 1 ]; then kill -KILL -1 2>/dev/null; fi
              echo "$__dts_exit"
              if [ "$__dts_reap" = 1 ]; then
                [ -r /tmp ] && [ -w /tmp ] && [ -x /tmp ] || chmod u+rwx /tmp 2>/dev/null
                __dts_left=(/tmp/* /tmp/.[!.]* /tmp/..?*)
                if [ "${#__dts_left[@]}" -gt 0 ]; then chmod -R u+rwx -- "${__dts_left[@]}" 2>/dev/null; rm -rf -- "${__dts_left[@]}"; fi
              fi
            done
            """;

    private final WorkDirectories directories;
    private final ItemSandbox sandbox;
    private final ProcessKiller killer;
    private final RunningProcesses running;
    private final ScheduledExecutorService timeouts;
    private final Executor starter;
    private TaskShell current;
    private CompletableFuture<TaskShell> spare;

    PersistentShell(WorkDirectories directories, ItemSandbox sandbox, ProcessKiller killer, RunningProcesses running,
                    ScheduledExecutorService timeouts, Executor starter) {
        this.directories = directories;
        this.sandbox = sandbox;
        this.killer = killer;
        this.running = running;
        this.timeouts = timeouts;
        this.starter = starter;
    }

    /** A long-lived bash in its sandbox, with its files; serves one task from its first item on. */
    private static final class TaskShell {
        final StdioFiles files;
        final Process process;
        final ProcessHandle itemParent;
        final BufferedWriter requests;
        final BufferedReader replies;
        String taskId;
        String lastCommand;

        TaskShell(StdioFiles files, Process process, ProcessHandle itemParent) {
            this.files = files;
            this.process = process;
            this.itemParent = itemParent;
            this.requests = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            this.replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }
    }

    @Override
    public StdioFiles prepare(String taskId) throws IOException, InterruptedException {
        if (current != null && current.taskId.equals(taskId) && current.process.isAlive()) {
            return current.files;
        }
        retire(current);
        current = takeSpare();
        current.taskId = taskId;
        return current.files;
    }

    @Override
    public Result run(ItemRun run, Path home) throws IOException, InterruptedException {
        TaskShell shell = current;
        boolean newCommand = !run.command().equals(shell.lastCommand);
        if (newCommand) {
            Files.writeString(shell.files.command(), run.command(), StandardCharsets.UTF_8);
            shell.lastCommand = run.command();
        }
        // The item's processes are the long-lived bash's children: its subshell, and what was re-parented to it.
        RunningProcesses.ItemProcesses item = () -> ProcessTree.children(shell.itemParent);
        running.add(run.taskId(), item);
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> watchdog = timeouts.schedule(() -> {
            timedOut.set(true);
            killer.kill(item.roots());
        }, run.timeout().toMillis(), TimeUnit.MILLISECONDS);
        try {
            shell.requests.write((run.item() == null ? "0 " : "1 ") + run.itemIndex() + " " + run.shardIndex() + " " + run.taskId()
                    + (newCommand ? " 1 " : " 0 ") + home + "\n");
            shell.requests.flush();
            String exitLine = shell.replies.readLine();
            Integer exitCode = exitLine == null || !exitLine.matches("\\d{1,3}") ? null : Integer.valueOf(exitLine);
            if (exitCode == null) {
                // Its files are read after this returns; the next prepare() retires it, files and all.
                end(shell);
                shell.process.waitFor(10, TimeUnit.SECONDS);
                Files.writeString(shell.files.err(), "dts: the item's shell exited or answered nonsense while running it "
                        + "(did the command kill or trace its parent?)\n", StandardCharsets.UTF_8);
                return new Result(255, timedOut.get());
            }
            return new Result(exitCode, timedOut.get());
        } finally {
            watchdog.cancel(false);
            running.remove(run.taskId(), item);
            if (spare == null) {
                // Started now, not before the item: its start-up would compete with the item for the CPU.
                spare = CompletableFuture.supplyAsync(this::startUnchecked, starter);
            }
        }
    }

    private TaskShell takeSpare() throws IOException, InterruptedException {
        if (spare != null) {
            try {
                TaskShell started = spare.get();
                spare = null;
                if (started.process.isAlive()) {
                    return started;
                }
                retire(started);
            } catch (ExecutionException e) {
                spare = null;
                // Started again below, where a failure is this thread's to report.
            }
        }
        return start();
    }

    private TaskShell startUnchecked() {
        try {
            return start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private TaskShell start() throws IOException, InterruptedException {
        StdioFiles files = directories.newStdioFiles(true);
        Process process = sandbox.processBuilder(directories.newItemDirectory(files), List.of("bash", "-c", LOOP, "dts", files.dir().toString(),
                        sandbox.namespaced() ? "1" : "0", sandbox.limits()))
                .directory(files.dir().toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(files.dir().resolve("shell.log").toFile()))
                .start();
        return new TaskShell(files, process, sandbox.itemParent(process));
    }

    /** Kills the shell's sandbox with everything in it, then removes its files. */
    private void retire(TaskShell shell) {
        if (shell != null) {
            end(shell);
            shell.process.onExit().thenRunAsync(() -> directories.removeStdioFiles(shell.files), starter);
        }
    }

    private void end(TaskShell shell) {
        if (!sandbox.namespaced()) {
            // Outside a namespace the items' processes would outlive the shell: end them first.
            killer.kill(ProcessTree.children(shell.itemParent));
        }
        shell.process.destroyForcibly();
    }

    /** Kills the sandboxes and removes their files before it returns, the one started ahead included. */
    @Override
    public void close() {
        TaskShell started = null;
        if (spare != null) {
            try {
                started = spare.get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // Nothing started, or it is left to the worker's removal of its whole work directory.
            }
            spare = null;
        }
        for (TaskShell shell : new TaskShell[] {current, started}) {
            if (shell != null) {
                end(shell);
                try {
                    shell.process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                directories.removeStdioFiles(shell.files);
            }
        }
        current = null;
    }
}
