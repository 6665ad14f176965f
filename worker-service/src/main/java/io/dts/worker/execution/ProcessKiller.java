package io.dts.worker.execution;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.dts.worker.config.WorkerProperties;
import org.springframework.stereotype.Component;

/** Stops a process and everything it started: TERM to the whole tree, KILL to what is left after the grace. */
@Component
public class ProcessKiller {

    private final WorkerProperties properties;

    public ProcessKiller(WorkerProperties properties) {
        this.properties = properties;
    }

    public void kill(ProcessHandle process) {
        // Collect the tree first: once the parent dies its children are re-parented and out of reach.
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process);
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + properties.killGrace().toNanos();
        for (ProcessHandle p : tree) {
            try {
                p.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception stillAlive) {
                p.destroyForcibly();
            }
        }
    }
}
