package io.dts.worker.execution;

import java.io.IOException;

/** A way of running one item with bash; each slice thread has its own. */
interface ItemShell extends AutoCloseable {

    /** Runs the item to its end (or its timeout); stdout and stderr are left in the thread's files. */
    Result run(ItemRun run) throws IOException, InterruptedException;

    @Override
    void close();

    /** @param exitCode the process's exit code; meaningless when timed out */
    record Result(int exitCode, boolean timedOut) {
    }
}
