package io.dts.worker.sandbox;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Finds the processes of a test's {@code sleep}, by a duration no other test uses. */
public final class Processes {

    private Processes() {
    }

    /** A long sleep duration, unique enough to find its process: {@code 600.<random>}. */
    public static String uniqueSleep() {
        return "600." + ThreadLocalRandom.current().nextInt(100_000, 999_999);
    }

    public static List<ProcessHandle> sleeping(String duration) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("sleep " + duration))
                .toList();
    }
}
