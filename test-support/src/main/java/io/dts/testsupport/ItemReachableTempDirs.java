package io.dts.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * The tests' temp dirs, outside {@code /tmp}: items get a private {@code /tmp}, so a worker's work directory (and a
 * directory a test shares with its items) must lie elsewhere. As root (the sandbox tests need it) they live in
 * {@value #BASE}, which the item user may pass through; else in {@code target/test-work}, unless the checkout itself
 * is under {@code /tmp}.
 */
public class ItemReachableTempDirs implements TempDirFactory {

    static final String BASE = "/var/lib/dts-tests";

    @Override
    public Path createTempDirectory(AnnotatedElementContext elementContext, ExtensionContext extensionContext) throws IOException {
        Path base = Path.of(BASE);
        try {
            Files.createDirectories(base, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        } catch (IOException notRoot) {
            base = Files.createDirectories(Path.of("target", "test-work").toAbsolutePath());
        }
        return Files.createTempDirectory(base, "junit");
    }
}
