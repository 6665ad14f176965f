package io.dts.worker.execution;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.dts.worker.config.WorkerProperties;
import org.springframework.stereotype.Component;

/**
 * Runs one item: {@code bash -c <command> dts <item>}, the item also on stdin and in {@code DTS_ITEM}.
 * stdin, stdout and stderr go through files of the calling thread (no pipe can fill up and block, no
 * reader threads), and only the first {@code worker.output-limit} bytes of each output are kept.
 * On timeout or cancel the whole process tree gets TERM, then KILL after {@code worker.kill-grace}.
 */
@Component
public class CommandRunner {

    /** Outcome of one run; exit code 124 when it timed out. */
    public record Outcome(int exitCode, boolean timedOut, Output stdout, Output stderr, long durationMs) {
    }

    /** Captured output, cut at the limit. */
    public record Output(String text, boolean truncated) {
    }

    private final WorkerProperties properties;
    private final RunningProcesses running;
    private final ThreadLocal<StdioFiles> files = ThreadLocal.withInitial(this::newFiles);

    public CommandRunner(WorkerProperties properties, RunningProcesses running) {
        this.properties = properties;
        this.running = running;
    }

    /**
     * @param item {@code null} to run the command once with no argument
     * @param env  extra environment variables
     */
    public Outcome run(String taskId, String command, String item, Map<String, String> env, Duration timeout) {
        StdioFiles stdio = files.get();
        long started = System.nanoTime();
        try {
            Files.writeString(stdio.in(), item == null ? "" : item + "\n", StandardCharsets.UTF_8);
            List<String> argv = item == null ? List.of("bash", "-c", command, "dts") : List.of("bash", "-c", command, "dts", item);
            ProcessBuilder builder = new ProcessBuilder(argv)
                    .redirectInput(stdio.in().toFile())
                    .redirectOutput(stdio.out().toFile())
                    .redirectError(stdio.err().toFile());
            // The worker's own JVM options are not the user's: a `java` in the command must not inherit them.
            builder.environment().remove("JAVA_TOOL_OPTIONS");
            builder.environment().putAll(env);
            Process process = builder.start();
            running.add(taskId, process);
            boolean finished;
            try {
                finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!finished) {
                    kill(process.toHandle());
                }
            } finally {
                running.remove(taskId, process);
            }
            long durationMs = (System.nanoTime() - started) / 1_000_000;
            int exitCode = finished ? process.exitValue() : io.dts.model.ItemResult.TIMEOUT_EXIT_CODE;
            return new Outcome(exitCode, !finished, read(stdio.out()), read(stdio.err()), durationMs);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot run bash for task " + taskId + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while running an item of task " + taskId, e);
        }
    }

    /** Kills every process this worker runs for the task. */
    public void killAll(String taskId) {
        running.of(taskId).forEach(process -> kill(process.toHandle()));
    }

    /** TERM to the process and all its descendants, then KILL to whatever is left after the grace period. */
    public void kill(ProcessHandle process) {
        List<ProcessHandle> tree = new java.util.ArrayList<>(process.descendants().toList());
        tree.add(process);
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + properties.killGrace().toNanos();
        for (ProcessHandle p : tree) {
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                p.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (Exception stillAlive) {
                p.destroyForcibly();
            }
        }
    }

    private Output read(Path file) throws IOException {
        int limit = (int) properties.outputLimit().toBytes();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] kept = in.readNBytes(limit);
            boolean truncated = in.read() >= 0;
            return new Output(new String(kept, StandardCharsets.UTF_8), truncated);
        }
    }

    private StdioFiles newFiles() {
        try {
            Path dir = Files.createDirectories(Path.of(properties.workDir(), "dts-" + properties.id()));
            String name = "t" + Thread.currentThread().getId();
            StdioFiles stdio = new StdioFiles(dir.resolve(name + ".in"), dir.resolve(name + ".out"), dir.resolve(name + ".err"));
            stdio.in().toFile().deleteOnExit();
            stdio.out().toFile().deleteOnExit();
            stdio.err().toFile().deleteOnExit();
            return stdio;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the work files under " + properties.workDir(), e);
        }
    }

    private record StdioFiles(Path in, Path out, Path err) {
    }
}
