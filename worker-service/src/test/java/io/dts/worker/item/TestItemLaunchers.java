package io.dts.worker.item;

import io.dts.worker.config.WorkerProperties;
import io.dts.worker.sandbox.ItemSandbox;
import io.dts.worker.sandbox.ProcessKiller;
import io.dts.worker.sandbox.RunningProcesses;
import io.dts.worker.sandbox.WorkDirectories;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/** A real item launcher, sandbox included, for tests of what runs items. */
public final class TestItemLaunchers {

    private TestItemLaunchers() {
    }

    /**
     * Replaces the work directories the workers made under {@code workDir} by plain files, so the next thread
     * that needs its stdio files cannot make them: trouble of the worker's own, as a full disk is.
     */
    public static void breakWorkDirectories(Path workDir) throws IOException {
        try (Stream<Path> roots = Files.list(workDir)) {
            for (Path root : roots.filter(Files::isDirectory).toList()) {
                try (Stream<Path> inside = Files.walk(root)) {
                    inside.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
                }
                Files.writeString(root, "");
            }
        }
    }

    /** A directory in {@code workDir} that items (the sandbox user) may write, for tests that count runs in files. */
    public static Path itemWritable(Path workDir) {
        try {
            Path shared = Files.createDirectories(workDir.resolve("shared"));
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
            return shared;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ItemLauncher aLauncher(WorkerProperties properties) {
        ItemSandbox sandbox = new ItemSandbox(properties);
        return new ItemLauncher(properties, new RunningProcesses(), new ProcessKiller(properties), sandbox,
                new WorkDirectories(properties, sandbox));
    }
}
