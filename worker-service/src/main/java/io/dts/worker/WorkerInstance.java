package io.dts.worker;

import java.util.UUID;

import org.springframework.stereotype.Component;

/**
 * This worker process, as opposed to its worker id: a random id taken at start-up. A worker id comes
 * back after a restart ({@code worker-1} in the stack, {@code <host>-1} in every container), so only the
 * instance id tells whether the process that started something is still the one alive.
 */
@Component
public class WorkerInstance {

    private final String id = UUID.randomUUID().toString();
    /** Until when (epoch millis) this process's instance key is known to be in Redis: a run it registers later looks like a dead process's. */
    private volatile long knownAliveUntil;

    public String id() {
        return id;
    }

    /** This process's instance key was written to expire at {@code expiresAt}: until then others see its runs as a live process's. */
    public void announcedUntil(long expiresAt) {
        knownAliveUntil = expiresAt;
    }

    /** Whether this process's instance key is known to be in Redis at {@code millis}. */
    public boolean knownAliveAt(long millis) {
        return millis < knownAliveUntil;
    }
}
