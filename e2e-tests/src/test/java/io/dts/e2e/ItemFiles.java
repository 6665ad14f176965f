package io.dts.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Items run as the sandbox user, not as the tests' user: a test whose items leave files for it to read
 * (runs counted in a file) gives them a directory they may write.
 */
final class ItemFiles {

    private ItemFiles() {
    }

    /** {@code dir}, now writable by anyone (the test's own temp dir, gone after the test). */
    static Path writableByItems(Path dir) {
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
