package io.dts.scheduler.task.domain;

import java.time.Duration;
import java.util.Optional;

/** The {@code Idempotency-Key}s clients sent, each naming the task and request it was first used for. */
public interface IdempotencyKeys {

    /**
     * Claims an {@code Idempotency-Key} for a request, atomically, for {@code pending} (long enough to
     * save the task; a claim whose request died expires soon); returns the earlier claim when the key
     * was used before.
     */
    Optional<RequestClaim> claim(String key, RequestClaim claim, Duration pending);

    /** Keeps a claimed key for {@code retention}, once its task is saved. */
    void keep(String key, Duration retention);

    void release(String key);
}
