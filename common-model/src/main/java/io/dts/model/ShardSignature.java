package io.dts.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The HMAC-SHA256 signature a shard carries in its Kafka record header {@link #HEADER}, made with a key that
 * only schedulers and workers read (a file, not readable by items). A worker runs only shards whose
 * signature matches, so a record anyone else puts on the shard topic never runs.
 */
public final class ShardSignature {

    public static final String HEADER = "dts-signature";
    /** Shorter keys are refused: 32 bytes is SHA-256's own size. */
    public static final int MIN_KEY_BYTES = 32;

    private final SecretKeySpec key;

    private ShardSignature(byte[] key) {
        if (key.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException("a shard key needs at least " + MIN_KEY_BYTES + " bytes, this one has " + key.length);
        }
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    /** The key in {@code file} (the property {@code dts.security.shard-key-file}): its bytes, without a trailing newline. */
    public static ShardSignature fromKeyFile(String file) {
        if (file == null || file.isBlank()) {
            throw new IllegalStateException("dts.security.shard-key-file is not set: schedulers and workers need the same shard key "
                    + "(make one with: head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE)");
        }
        return fromKeyFile(Path.of(file));
    }

    private static ShardSignature fromKeyFile(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            return new ShardSignature(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the shard key file " + file
                    + " (dts.security.shard-key-file; make one with: head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE)", e);
        }
    }

    public static ShardSignature of(byte[] key) {
        return new ShardSignature(key.clone());
    }

    public byte[] sign(TaskShard shard) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(canonical(shard));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** True only for this key's signature of exactly this shard; compared in constant time. */
    public boolean verify(TaskShard shard, byte[] signature) {
        return signature != null && MessageDigest.isEqual(sign(shard), signature);
    }

    /** Every field, each length-prefixed, so no two shards read the same. */
    private static byte[] canonical(TaskShard shard) {
        StringBuilder text = new StringBuilder();
        for (Object field : new Object[] {shard.taskId(), shard.shardIndex(), shard.shardCount(), shard.startIndex(), shard.endIndex(),
                // No timeout signs as 0, the form of earlier versions: their shards verify here and ours there.
                shard.command(), shard.withoutItems(), shard.timeoutSeconds() == null ? 0L : shard.timeoutSeconds(), shard.maxRetries(),
                shard.round(), shard.halt()}) {
            String value = String.valueOf(field);
            text.append(value.length()).append(':').append(value).append(';');
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }
}
