package io.dts.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The Kafka users of the tests' brokers, with passwords of this test run, laid out as the stack lays them out
 * and {@code deploy/kafka/KafkaAccess.java} reads them: a directory per role holding {@code dts.kafka.username}
 * and {@code dts.kafka.password} (a Spring config tree: pass it as {@code --dts.kafka.credentials-dir}).
 */
public final class KafkaUsers {

    /** The nodes' super user (PLAIN, in server.properties) and the services' users (SCRAM, with deploy/kafka/acls). */
    public enum Role {
        BROKER, SCHEDULER, WORKER;

        public String user() {
            return "dts-" + name().toLowerCase(Locale.ROOT);
        }
    }

    private static Path dir;

    private KafkaUsers() {
    }

    /** The directory of every role's credentials, made on first use (each readable by this user only). */
    public static synchronized Path secrets() {
        if (dir == null) {
            try {
                dir = Files.createTempDirectory("dts-kafka-users-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                for (Role role : Role.values()) {
                    Path credentials = Files.createDirectory(dir.resolve(role.name().toLowerCase(Locale.ROOT)),
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                    Files.writeString(credentials.resolve("dts.kafka.username"), role.user());
                    Files.writeString(credentials.resolve("dts.kafka.password"), randomPassword());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    /** A role's directory: {@code --dts.kafka.credentials-dir} of a service. */
    public static Path credentials(Role role) {
        return secrets().resolve(role.name().toLowerCase(Locale.ROOT));
    }

    public static String password(Role role) {
        try {
            return Files.readString(credentials(role).resolve("dts.kafka.password"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String randomPassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
