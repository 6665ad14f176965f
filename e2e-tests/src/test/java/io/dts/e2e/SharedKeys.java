package io.dts.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The keys every scheduler and worker of the tests shares, in files only the tests' user may read: the
 * shard key, and the API's keys file (dts.security.keys-file) with the operator token that
 * {@link SchedulerClient} sends unless told otherwise.
 */
final class SharedKeys {

    private static final Path SHARD_KEY = Path.of("target", "e2e-keys", "shard.key").toAbsolutePath();
    private static final Path API_KEYS = Path.of("target", "e2e-keys", "api-keys").toAbsolutePath();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static String operatorToken;

    private SharedKeys() {
    }

    /** The keys file every scheduler of the tests reads; written afresh, with the operator key, once per test run. */
    static synchronized Path apiKeysFile() {
        if (operatorToken == null) {
            operatorToken = newToken();
            write(API_KEYS, "# name role sha256-of-token\ne2e-operator operator " + sha256(operatorToken) + "\n");
        }
        return API_KEYS;
    }

    static String operatorToken() {
        apiKeysFile();
        return operatorToken;
    }

    /** Adds a key to the keys file (schedulers read it again when it changes) and returns its token. */
    static synchronized String addKey(String name, String role) {
        String token = newToken();
        try {
            Files.writeString(apiKeysFile(), name + " " + role + " " + sha256(token) + "\n", StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return token;
    }

    static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String newToken() {
        byte[] token = new byte[32];
        RANDOM.nextBytes(token);
        return HexFormat.of().formatHex(token);
    }

    private static void write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
