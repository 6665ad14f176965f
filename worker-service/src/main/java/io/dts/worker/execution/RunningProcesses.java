package io.dts.worker.execution;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

/** The item processes this worker runs right now, by task, so a task's processes can be found and killed. */
@Component
public class RunningProcesses {

    private final Map<String, Set<ProcessHandle>> byTask = new ConcurrentHashMap<>();

    void add(String taskId, ProcessHandle process) {
        byTask.computeIfAbsent(taskId, id -> ConcurrentHashMap.newKeySet()).add(process);
    }

    void remove(String taskId, ProcessHandle process) {
        byTask.computeIfPresent(taskId, (id, processes) -> {
            processes.remove(process);
            return processes.isEmpty() ? null : processes;
        });
    }

    Set<ProcessHandle> of(String taskId) {
        return Set.copyOf(byTask.getOrDefault(taskId, Set.of()));
    }
}
