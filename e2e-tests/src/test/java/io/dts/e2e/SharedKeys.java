package io.dts.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/** The shard key every scheduler and worker of the tests shares, in a file only the tests' user may read. */
final class SharedKeys {

    private static final Path SHARD_KEY = Path.of("target", "e2e-keys", "shard.key").toAbsolutePath();

    private SharedKeys() {
    }

    static synchronized Path shardKeyFile() {
        try {
            if (!Files.exists(SHARD_KEY)) {
                Files.createDirectories(SHARD_KEY.getParent());
                byte[] key = new byte[32];
                new SecureRandom().nextBytes(key);
                Files.writeString(SHARD_KEY, Base64.getEncoder().encodeToString(key) + "\n");
                Files.setPosixFilePermissions(SHARD_KEY, PosixFilePermissions.fromString("rw-------"));
            }
            return SHARD_KEY;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
