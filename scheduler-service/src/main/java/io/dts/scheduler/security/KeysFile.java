package io.dts.scheduler.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys of token mode, read from {@code dts.security.keys-file}: one key a line, {@code name role
 * sha256-hex-of-token}, with blank lines and {@code #} comments. Only hashes are kept: a token is hashed
 * and compared with every key in constant time. The file is read again when it changes (a key added by
 * {@code stack.sh token add} works at once); a change that does not parse is logged and the keys read
 * before stay in force.
 */
final class KeysFile {

    /** One key: its {@code name} becomes the owner of the tasks submitted with it. */
    record Key(String name, String role, byte[] hash) {
    }

    private record Snapshot(List<Key> keys, FileTime modified, long size) {
    }

    private static final Logger log = LoggerFactory.getLogger(KeysFile.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

    private final Path path;
    private volatile Snapshot snapshot;

    /** Reads the file; one that cannot be read or has a bad line is an error that says which line and why. */
    KeysFile(Path path) {
        this.path = path;
        try {
            this.snapshot = read();
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("The keys file " + path + " (dts.security.keys-file) does not exist: make it with KEYS_FILE="
                    + path + " ./scripts/stack.sh token add NAME ROLE (docs/security.md)", e);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("Cannot use the keys file " + path + " (dts.security.keys-file): " + e, e);
        }
        if (snapshot.keys().isEmpty()) {
            log.warn("The keys file {} holds no key: every request but the probes is refused", path);
        }
    }

    /** The key of this token, if any. Every key is compared, so the time taken tells nothing about which matched. */
    Optional<Key> find(String token) {
        byte[] hash = sha256(token);
        Key found = null;
        for (Key key : current().keys()) {
            if (MessageDigest.isEqual(hash, key.hash()) && found == null) {
                found = key;
            }
        }
        return Optional.ofNullable(found);
    }

    private Snapshot current() {
        Snapshot known = snapshot;
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            if (attributes.lastModifiedTime().equals(known.modified()) && attributes.size() == known.size()) {
                return known;
            }
            Snapshot changed = read();
            snapshot = changed;
            log.info("Keys file {} read again: {} keys", path, changed.keys().size());
            return changed;
        } catch (IOException | IllegalArgumentException e) {
            log.error("Keys file {} changed but cannot be used, the keys read before stay in force: {}", path, e.getMessage());
            return known;
        }
    }

    private Snapshot read() throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        return new Snapshot(parse(Files.readAllLines(path, StandardCharsets.UTF_8)), attributes.lastModifiedTime(), attributes.size());
    }

    static List<Key> parse(List<String> lines) {
        List<Key> keys = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] fields = line.split("\\s+");
            if (fields.length != 3 || !NAME.matcher(fields[0]).matches() || !SecurityConfig.ROLES.contains(fields[1])
                    || !SHA256_HEX.matcher(fields[2]).matches()) {
                throw new IllegalArgumentException("line " + (i + 1) + " is not 'name role sha256-hex-of-token' with a name of letters, "
                        + "digits and ._@- and a role of " + SecurityConfig.ROLES);
            }
            keys.add(new Key(fields[0], fields[1], HexFormat.of().parseHex(fields[2])));
        }
        return keys;
    }

    static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
