package io.dts.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * The tests' temp dirs, in {@code target/test-work} instead of {@code /tmp}: items get a private {@code /tmp}, so a
 * worker's work directory (and a directory a test shares with its items) must lie outside it.
 */
public class ItemReachableTempDirs implements TempDirFactory {

    @Override
    public Path createTempDirectory(AnnotatedElementContext elementContext, ExtensionContext extensionContext) throws IOException {
        Path base = Files.createDirectories(Path.of("target", "test-work").toAbsolutePath());
        return Files.createTempDirectory(base, "junit");
    }
}
