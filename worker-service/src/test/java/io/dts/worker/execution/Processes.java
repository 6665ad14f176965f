package io.dts.worker.execution;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Finds the processes of a test's {@code sleep}, by a duration no other test uses. */
final class Processes {

    private Processes() {
    }

    /** A long sleep duration, unique enough to find its process: {@code 600.<random>}. */
    static String uniqueSleep() {
        return "600." + ThreadLocalRandom.current().nextInt(100_000, 999_999);
    }

    static List<ProcessHandle> sleeping(String duration) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("sleep " + duration))
                .toList();
    }
}
