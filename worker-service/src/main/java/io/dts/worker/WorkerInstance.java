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
    /** Set once this process's instance key is in Redis: until then a run it registers looks like a dead process's. */
    private volatile boolean announced;

    public String id() {
        return id;
    }

    /** This process's instance key is written: other workers now see the runs it registers as a live process's. */
    public void markAnnounced() {
        announced = true;
    }

    public boolean announced() {
        return announced;
    }
}
