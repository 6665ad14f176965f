package io.dts.worker.execution;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The plain way: a new {@code bash -c <command> dts <item>} process per item. */
final class SpawnedShell implements ItemShell {

    private final StdioFiles files;
    private final ProcessKiller killer;
    private final RunningProcesses running;

    SpawnedShell(StdioFiles files, ProcessKiller killer, RunningProcesses running) {
        this.files = files;
        this.killer = killer;
        this.running = running;
    }

    @Override
    public Result run(ItemRun run) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("bash", "-c", run.command(), "dts"));
        if (run.item() != null) {
            argv.add(run.item());
        }
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectInput(files.in().toFile())
                .redirectOutput(files.out().toFile())
                .redirectError(files.err().toFile());
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().put("DTS_ITEM", run.item() == null ? "" : run.item());
        builder.environment().put("DTS_TASK_ID", run.taskId());
        builder.environment().put("DTS_ITEM_INDEX", String.valueOf(run.itemIndex()));
        builder.environment().put("DTS_SHARD_INDEX", String.valueOf(run.shardIndex()));
        Process process = builder.start();
        running.add(run.taskId(), process.toHandle());
        try {
            if (process.waitFor(run.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                return new Result(process.exitValue(), false);
            }
            killer.kill(process.toHandle());
            return new Result(-1, true);
        } finally {
            running.remove(run.taskId(), process.toHandle());
        }
    }

    @Override
    public void close() {
    }
}
