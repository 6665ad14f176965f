package io.dts.scheduler.task.domain;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

import io.dts.model.ShardHalt;

/**
 * A validated, rendered task ready to be saved as {@code QUEUED}.
 *
 * @param owner     who submitted it (a key's name, a JWT's subject); see {@link Caller}
 * @param items     the input items as bash will see them; empty for a task without inputList
 * @param timeoutSeconds per-item limit; {@code null} when the request sets none (the worker's default applies)
 * @param retention how long the task and its results are kept once it is finished
 * @param halt      when to stop it early; {@code null} for never
 * @param priority  0-9, higher first among waiting items
 * @param maxParallel items of it that may run at once in the cluster; {@code null} for no cap
 * @param ownerRunningLimit items of its owner that may run at once in the cluster, over all the owner's tasks, as
 *                  {@code scheduler.owner-limits.running-items} was when it was accepted; 0 for none
 * @param fingerprint what it runs and for whom, hashed ({@link #withFingerprint}); {@code null} unless a client names
 *                  the task (an Idempotency-Key, its own id) and may send the same request again
 */
public record NewTask(
        String id,
        String owner,
        String templateFunction,
        String command,
        List<String> items,
        Long timeoutSeconds,
        int maxRetries,
        ShardHalt halt,
        int priority,
        Integer maxParallel,
        int ownerRunningLimit,
        Duration retention,
        Instant createdAt,
        String fingerprint) {

    public NewTask(String id, String owner, String templateFunction, String command, List<String> items, Long timeoutSeconds,
                   int maxRetries, ShardHalt halt, int priority, Integer maxParallel, int ownerRunningLimit, Duration retention,
                   Instant createdAt) {
        this(id, owner, templateFunction, command, items, timeoutSeconds, maxRetries, halt, priority, maxParallel, ownerRunningLimit,
                retention, createdAt, null);
    }

    public boolean withoutItems() {
        return items.isEmpty();
    }

    /**
     * With its fingerprint: SHA-256 of what the task runs (template, rendered command, items, limits) and
     * of its owner, not of its id or time, so two requests with the same fingerprint ask for the same work
     * for the same owner, and another owner's request never matches a task that is not its own.
     */
    public NewTask withFingerprint() {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            update(digest, owner);
            update(digest, templateFunction);
            update(digest, command);
            // No timeout hashes as 0, as it did when 0 stood for none: a request sent again after an upgrade still matches.
            update(digest, (timeoutSeconds == null ? 0 : timeoutSeconds) + "/" + maxRetries + "/" + items.size() + "/" + halt);
            // Only when set, so that a request of an earlier version sent again still matches.
            if (priority != 0 || maxParallel != null) {
                update(digest, priority + "/" + maxParallel);
            }
            items.forEach(item -> update(digest, item));
            return new NewTask(id, owner, templateFunction, command, items, timeoutSeconds, maxRetries, halt, priority, maxParallel,
                    ownerRunningLimit, retention, createdAt, HexFormat.of().formatHex(digest.digest()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** Length-prefixed, so that ("ab", "c") and ("a", "bc") differ. */
    private static void update(MessageDigest digest, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        digest.update(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
        digest.update((byte) ':');
        digest.update(bytes);
    }

    /** A task without items still runs its command once. */
    public long itemsTotal() {
        return withoutItems() ? 1 : items.size();
    }
}
