package io.dts.worker.item;

import io.dts.worker.sandbox.StdioFiles;

import java.io.IOException;
import java.nio.file.Path;

/** A way of running one item with bash; each slice thread has its own. */
interface ItemShell extends AutoCloseable {

    /** The stdio files the next item of the task uses; called before each {@link #run}. */
    StdioFiles prepare(String taskId) throws IOException, InterruptedException;

    /**
     * Runs the item to its end (or its timeout) in {@code home}, its working directory; stdout and stderr are
     * left in the files {@link #prepare} gave. When it returns, no process of the item is left (inside a PID namespace).
     */
    Result run(ItemRun run, Path home) throws IOException, InterruptedException;

    @Override
    void close();

    /** @param exitCode the process's exit code; meaningless when timed out */
    record Result(int exitCode, boolean timedOut) {
    }
}
