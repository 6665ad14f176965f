package io.dts.scheduler.task.domain;

import java.time.Duration;
import java.util.Optional;

/**
 * The {@code Idempotency-Key}s clients sent, each naming the task and request it was first used for.
 * Every owner has keys of its own: two owners sending the same key get a task each.
 */
public interface IdempotencyKeys {

    /**
     * Claims an owner's {@code Idempotency-Key} for a request, atomically, for {@code pending} (long
     * enough to save the task; a claim whose request died expires soon); returns the earlier claim when
     * the owner used the key before.
     */
    Optional<RequestClaim> claim(String owner, String key, RequestClaim claim, Duration pending);

    /** Keeps a claimed key for {@code retention}, once its task is saved. */
    void keep(String owner, String key, Duration retention);

    void release(String owner, String key);
}
