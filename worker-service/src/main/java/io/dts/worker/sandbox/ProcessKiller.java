package io.dts.worker.sandbox;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.dts.worker.config.WorkerProperties;
import org.springframework.stereotype.Component;

/** Stops processes and everything they started: TERM to every tree at once, KILL to what is left after the grace. */
@Component
public class ProcessKiller {

    private final WorkerProperties properties;

    public ProcessKiller(WorkerProperties properties) {
        this.properties = properties;
    }

    public void kill(ProcessHandle process) {
        kill(Set.of(process));
    }

    public void kill(Collection<ProcessHandle> processes) {
        // Collect the trees first: once a parent dies its children are re-parented and out of reach.
        List<ProcessHandle> all = new ArrayList<>();
        for (ProcessHandle process : processes) {
            all.addAll(process.descendants().toList());
            all.add(process);
        }
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + properties.killGrace().toNanos();
        for (ProcessHandle p : all) {
            try {
                p.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception stillAlive) {
                p.destroyForcibly();
            }
        }
    }
}
