package io.dts.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Starts the services faster: each module's executable jar is extracted once per test run (Spring Boot's
 * {@code jarmode=tools}: the same classes on a plain class path), and the first of its processes to exit cleanly
 * leaves a class data sharing archive of the classes it loaded ({@code -XX:ArchiveClassesAtExit}), which every later
 * start of the module maps instead of loading them from the jars. The end-to-end tests start some fifty JVMs;
 * what they run is the same code as the executable jar's.
 */
final class StartupArchive {

    private static final Path DIR = Path.of("target", "cds").toAbsolutePath();
    /** The extracted jar of each module extracted in this test run. */
    private static final Map<String, Path> EXTRACTED = new HashMap<>();

    private final String module;
    private final Path pending;

    private StartupArchive(String module) {
        this.module = module;
        this.pending = DIR.resolve(module + "-" + UUID.randomUUID() + ".jsa.pending");
    }

    static StartupArchive of(String module) {
        return new StartupArchive(module);
    }

    /** The module's jar to run with {@code java -jar}: its exec jar extracted, once per test run. */
    Path jar(Path execJar) {
        synchronized (EXTRACTED) {
            return EXTRACTED.computeIfAbsent(module, name -> extract(name, execJar));
        }
    }

    /** Uses the module's archive once there is one; until then, leaves one at this process's exit. */
    List<String> options() {
        Path archive = archive();
        return Files.exists(archive) ? List.of("-XX:SharedArchiveFile=" + archive) : List.of("-XX:ArchiveClassesAtExit=" + pending);
    }

    /** After the process exited: the archive it left becomes the module's, unless another did first. */
    void exited() {
        try {
            if (Files.exists(pending) && !Files.exists(archive())) {
                Files.move(pending, archive(), StandardCopyOption.ATOMIC_MOVE);
            }
            Files.deleteIfExists(pending);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path archive() {
        return DIR.resolve(module + ".jsa");
    }

    private static Path extract(String module, Path execJar) {
        Path destination = DIR.resolve(module);
        try {
            deleteRecursively(destination);
            Files.deleteIfExists(DIR.resolve(module + ".jsa"));
            Files.createDirectories(DIR);
            Process extract = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Djarmode=tools",
                    "-jar", execJar.toString(), "extract", "--destination", destination.toString())
                    .redirectErrorStream(true).redirectOutput(DIR.resolve(module + "-extract.log").toFile()).start();
            if (!extract.waitFor(2, TimeUnit.MINUTES) || extract.exitValue() != 0) {
                throw new IllegalStateException("could not extract " + execJar + "; see " + DIR.resolve(module + "-extract.log"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return destination.resolve(execJar.getFileName());
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }
}
