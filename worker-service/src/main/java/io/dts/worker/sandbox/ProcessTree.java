package io.dts.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** A process's children, from the kernel's list of them: {@link ProcessHandle#children()} reads every process in /proc. */
public final class ProcessTree {

    private ProcessTree() {
    }

    public static List<ProcessHandle> children(ProcessHandle parent) {
        Path list = Path.of("/proc", String.valueOf(parent.pid()), "task", String.valueOf(parent.pid()), "children");
        try {
            String pids = Files.readString(list).trim();
            return pids.isEmpty() ? List.of() : Arrays.stream(pids.split(" "))
                    .map(pid -> ProcessHandle.of(Long.parseLong(pid)))
                    .flatMap(Optional::stream)
                    .toList();
        } catch (IOException noList) {
            // Gone, or a kernel without the list (CONFIG_PROC_CHILDREN).
            return parent.isAlive() ? parent.children().toList() : List.of();
        }
    }
}
