package io.dts.worker.sandbox;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

/** The items this worker runs right now, by task, so a task's processes can be found and killed. */
@Component
public class RunningProcesses {

    /** Where an item's processes are, looked up when they are to be killed: the roots of their trees. */
    @FunctionalInterface
    public interface ItemProcesses {
        List<ProcessHandle> roots();
    }

    private final Map<String, Set<ItemProcesses>> byTask = new ConcurrentHashMap<>();

    public void add(String taskId, ItemProcesses item) {
        byTask.computeIfAbsent(taskId, id -> ConcurrentHashMap.newKeySet()).add(item);
    }

    public void remove(String taskId, ItemProcesses item) {
        byTask.computeIfPresent(taskId, (id, items) -> {
            items.remove(item);
            return items.isEmpty() ? null : items;
        });
    }

    /** The roots of the process trees of the task's running items. */
    public List<ProcessHandle> of(String taskId) {
        return byTask.getOrDefault(taskId, Set.of()).stream().flatMap(item -> item.roots().stream()).toList();
    }
}
