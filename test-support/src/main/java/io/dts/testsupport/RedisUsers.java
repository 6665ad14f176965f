package io.dts.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;

/**
 * The Redis users of {@code deploy/redis/users.conf} (the stack's own file), with passwords of this test
 * run: every Redis the tests start loads the rendered file, so the default user is off; a service gets
 * its user's credentials as a Spring config tree ({@code --dts.redis.credentials-dir}); the tests' own
 * clients connect as {@link #ADMIN}.
 */
public final class RedisUsers {

    public static final String ADMIN = "dts-admin";

    /** The users services log in as. */
    public enum Role {
        SCHEDULER("dts-scheduler"), WORKER("dts-worker");

        private final String user;

        Role(String user) {
            this.user = user;
        }

        public String user() {
            return user;
        }
    }

    private static final Map<String, String> PASSWORDS = Map.of(
            Role.SCHEDULER.user(), randomPassword(), Role.WORKER.user(), randomPassword(), ADMIN, randomPassword());
    private static Path dir;

    private RedisUsers() {
    }

    public static String adminPassword() {
        return PASSWORDS.get(ADMIN);
    }

    public static String password(Role role) {
        return PASSWORDS.get(role.user());
    }

    /** The rendered users file, to give redis-server as its configuration file. */
    public static synchronized Path config() {
        Path config = dir().resolve("users.conf");
        if (!Files.exists(config)) {
            try {
                String text = Files.readString(LocalProcess.repositoryFile("deploy/redis/users.conf"))
                        .replace("${SCHEDULER_SHA256}", sha256(PASSWORDS.get(Role.SCHEDULER.user())))
                        .replace("${WORKER_SHA256}", sha256(PASSWORDS.get(Role.WORKER.user())))
                        .replace("${ADMIN_SHA256}", sha256(PASSWORDS.get(ADMIN)));
                Files.writeString(config, text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return config;
    }

    /** A directory with {@code spring.data.redis.username} and {@code .password}: pass it as {@code --dts.redis.credentials-dir}. */
    public static synchronized Path credentials(Role role) {
        Path credentials = dir().resolve(role.name().toLowerCase());
        try {
            if (!Files.exists(credentials)) {
                Files.createDirectory(credentials, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                Files.writeString(credentials.resolve("spring.data.redis.username"), role.user());
                Files.writeString(credentials.resolve("spring.data.redis.password"), PASSWORDS.get(role.user()));
            }
            return credentials;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path dir() {
        if (dir == null) {
            try {
                dir = Files.createTempDirectory("dts-redis-users-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    private static String randomPassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static String sha256(String password) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(password.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
