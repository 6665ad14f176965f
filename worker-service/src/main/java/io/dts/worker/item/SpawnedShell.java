package io.dts.worker.item;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import io.dts.model.ItemResult;
import io.dts.worker.sandbox.ItemSandbox;
import io.dts.worker.sandbox.ProcessKiller;
import io.dts.worker.sandbox.RunningProcesses;
import io.dts.worker.sandbox.StdioFiles;
import io.dts.worker.sandbox.WorkDirectories;

/**
 * The plain way: a new {@code bash -c <command> dts <item>} process per item, started through the sandbox
 * (a fresh private {@code /tmp} each) by a bash that sets the limits first and waits for it. Inside a PID
 * namespace that bash is the first process, so the item's bash is not: its {@code $$} is its own and
 * {@code kill $$} ends it; and when the first process ends, the kernel ends everything the item left behind.
 */
final class SpawnedShell implements ItemShell {

    /**
     * Why {@link ProcessBuilder#start} fails because of the item itself: E2BIG (its argument list too
     * long) or a NUL in an argument. Anything else (EAGAIN: no process left to fork, ENOENT:
     * no bash) is this worker's trouble and is thrown.
     */
    private static final Pattern ITEM_CANNOT_START = Pattern.compile("error=7,|invalid null character");

    private final StdioFiles files;
    private final WorkDirectories directories;
    private final ItemSandbox sandbox;
    private final ProcessKiller killer;
    private final RunningProcesses running;

    SpawnedShell(WorkDirectories directories, ItemSandbox sandbox, ProcessKiller killer, RunningProcesses running) {
        this.directories = directories;
        this.files = directories.newStdioFiles(false);
        this.sandbox = sandbox;
        this.killer = killer;
        this.running = running;
    }

    @Override
    public StdioFiles prepare(String taskId) {
        return files;
    }

    @Override
    public Result run(ItemRun run, Path home) throws IOException, InterruptedException {
        if (run.item() != null && run.item().indexOf('\0') >= 0) {
            // No argument or environment variable can hold a NUL; ProcessBuilder would refuse DTS_ITEM.
            return notStarted("it holds a NUL character");
        }
        // The item's bash as bash -c would start it, a child of the one that sets the limits, not exec'd (see above).
        // That one's stderr goes nowhere, so the item's stderr gets no "Killed" when the item kills itself.
        List<String> argv = new ArrayList<>(List.of("bash", "-c", sandbox.limits() + " || exit 126; exec 3>&2 2>/dev/null; "
                + "bash -c \"$@\" 2>&3 3>&-; exit", "dts", run.command(), "dts"));
        if (run.item() != null) {
            argv.add(run.item());
        }
        Path privateTmp = directories.newItemDirectory(files);
        try {
            return run(run, home, privateTmp, argv);
        } finally {
            directories.remove(privateTmp);
        }
    }

    private Result run(ItemRun run, Path home, Path privateTmp, List<String> argv) throws IOException, InterruptedException {
        ProcessBuilder builder = sandbox.processBuilder(privateTmp, argv)
                .directory(home.toFile())
                .redirectInput(files.in().toFile())
                .redirectOutput(files.out().toFile())
                .redirectError(files.err().toFile());
        builder.environment().put("HOME", home.toString());
        builder.environment().put("TMPDIR", home.toString());
        builder.environment().put("DTS_ITEM", run.item() == null ? "" : run.item());
        builder.environment().put("DTS_TASK_ID", run.taskId());
        builder.environment().put("DTS_ITEM_INDEX", String.valueOf(run.itemIndex()));
        builder.environment().put("DTS_SHARD_INDEX", String.valueOf(run.shardIndex()));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            if (e.getMessage() != null && ITEM_CANNOT_START.matcher(e.getMessage()).find()) {
                return notStarted(e.getMessage());
            }
            throw e;
        }
        RunningProcesses.ItemProcesses item = () -> List.of(process.toHandle());
        running.add(run.taskId(), item);
        try {
            if (process.waitFor(run.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                return new Result(process.exitValue(), false);
            }
            killer.kill(process.toHandle());
            return new Result(-1, true);
        } finally {
            running.remove(run.taskId(), item);
        }
    }

    /** What bash answers for a command it cannot execute: exit 126, the reason on stderr (and no stdout from an earlier item). */
    private Result notStarted(String reason) throws IOException {
        Files.writeString(files.out(), "", StandardCharsets.UTF_8);
        Files.writeString(files.err(), "dts: the item could not be started: " + reason + "\n", StandardCharsets.UTF_8);
        return new Result(ItemResult.NOT_STARTED_EXIT_CODE, false);
    }

    @Override
    public void close() {
    }
}
