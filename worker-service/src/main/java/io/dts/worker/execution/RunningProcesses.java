package io.dts.worker.execution;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

/** The processes this worker is running right now, by task, so a task's processes can be found and killed. */
@Component
public class RunningProcesses {

    private final Map<String, Set<Process>> byTask = new ConcurrentHashMap<>();

    void add(String taskId, Process process) {
        byTask.computeIfAbsent(taskId, id -> ConcurrentHashMap.newKeySet()).add(process);
    }

    void remove(String taskId, Process process) {
        byTask.computeIfPresent(taskId, (id, processes) -> {
            processes.remove(process);
            return processes.isEmpty() ? null : processes;
        });
    }

    Set<Process> of(String taskId) {
        return Set.copyOf(byTask.getOrDefault(taskId, Set.of()));
    }

    /** Items running right now on this worker. */
    public int count() {
        return byTask.values().stream().mapToInt(Set::size).sum();
    }
}
