package io.dts.worker.item;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.dts.model.ItemResult;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.sandbox.ItemSandbox;
import io.dts.worker.sandbox.ProcessKiller;
import io.dts.worker.sandbox.RunningProcesses;
import io.dts.worker.sandbox.StdioFiles;
import io.dts.worker.sandbox.WorkDirectories;
import jakarta.annotation.PreDestroy;
import org.springframework.stereotype.Component;

/**
 * Runs one item with bash as {@code bash -c <command> dts <item>} would: the item as {@code $1}, one
 * line on stdin and in {@code DTS_ITEM}, inside the {@link ItemSandbox}, in a fresh directory of its own
 * (also its {@code HOME} and {@code TMPDIR}) that is removed afterwards. Each calling thread gets its own
 * {@link ItemShell} ({@code worker.shell}: a long-lived {@link PersistentShell} per task, or a
 * {@link SpawnedShell} per item) with its stdio files; only the first {@code worker.output-limit} bytes of each output are kept.
 * On timeout or cancel the item's whole process tree gets TERM, then KILL after {@code worker.kill-grace}.
 * An item that cannot start because of itself (its argument list too long) exits 126 with the reason on
 * its stderr; any other I/O failure is this worker's and is thrown.
 */
@Component
public class ItemLauncher {

    /** Outcome of one run; exit code 124 when it timed out. */
    public record Outcome(int exitCode, boolean timedOut, Output stdout, Output stderr, long durationMs) {
    }

    /** Captured output, cut at the limit. */
    public record Output(String text, boolean truncated) {
    }

    private final WorkerProperties properties;
    private final RunningProcesses running;
    private final ProcessKiller killer;
    private final ItemSandbox sandbox;
    private final WorkDirectories directories;
    /** One watchdog per item, cancelled when the item ends. */
    private final ScheduledThreadPoolExecutor timeouts = watchdogs();
    private final ExecutorService shellStarter = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "shell-starter");
        t.setDaemon(true);
        return t;
    });
    private final List<ItemShell> shells = new CopyOnWriteArrayList<>();
    private final ThreadLocal<ItemShell> threadShells = ThreadLocal.withInitial(this::newShell);

    public ItemLauncher(WorkerProperties properties, RunningProcesses running, ProcessKiller killer, ItemSandbox sandbox,
                         WorkDirectories directories) {
        this.properties = properties;
        this.running = running;
        this.killer = killer;
        this.sandbox = sandbox;
        this.directories = directories;
    }

    public Outcome run(ItemRun run) {
        ItemShell shell = threadShells.get();
        long started = System.nanoTime();
        Path home = null;
        try {
            StdioFiles files = shell.prepare(run.taskId());
            Files.writeString(files.in(), run.item() == null ? "" : run.item() + "\n", StandardCharsets.UTF_8);
            home = directories.newItemDirectory(files);
            ItemShell.Result result = shell.run(run, home);
            long durationMs = (System.nanoTime() - started) / 1_000_000;
            int exitCode = result.timedOut() ? ItemResult.TIMEOUT_EXIT_CODE : result.exitCode();
            return new Outcome(exitCode, result.timedOut(), read(files.out()), read(files.err()), durationMs);
        } catch (IOException e) {
            // Not the item's fault (an item that cannot start because of itself is a 126 from the shell): a full
            // disk, a broken pipe to the shell, no process left to fork. The shard fails and runs again,
            // here or elsewhere, instead of its items being failed for good.
            throw new UncheckedIOException("Task " + run.taskId() + " item " + run.itemIndex() + " could not be run on this worker", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while running an item of task " + run.taskId(), e);
        } finally {
            if (home != null) {
                directories.remove(home);
            }
        }
    }

    /** Kills every process this worker runs for the task. */
    public void killAll(String taskId) {
        killer.kill(running.of(taskId));
    }

    private Output read(Path file) throws IOException {
        int limit = (int) properties.outputLimit().toBytes();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] kept = in.readNBytes(limit);
            boolean truncated = in.read() >= 0;
            return new Output(new String(kept, StandardCharsets.UTF_8), truncated);
        }
    }

    private ItemShell newShell() {
        ItemShell shell = properties.shell() == WorkerProperties.Shell.SPAWN
                ? new SpawnedShell(directories, sandbox, killer, running)
                : new PersistentShell(directories, sandbox, killer, running, timeouts, shellStarter);
        shells.add(shell);
        return shell;
    }

    private static ScheduledThreadPoolExecutor watchdogs() {
        ScheduledThreadPoolExecutor watchdogs = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "item-timeouts");
            t.setDaemon(true);
            return t;
        });
        // Else a cancelled watchdog stays queued until its timeout (1 h by default) would have passed:
        // about 75 MB a million items, enough to take a worker's heap on a fast machine.
        watchdogs.setRemoveOnCancelPolicy(true);
        return watchdogs;
    }

    /** Watchdogs of items still running; for tests. */
    int watchdogsQueued() {
        return timeouts.getQueue().size();
    }

    @PreDestroy
    public void closeShells() {
        shells.forEach(ItemShell::close);
        timeouts.shutdownNow();
        shellStarter.shutdown();
        try {
            // The removals of sandboxes retired before are queued there.
            shellStarter.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
