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

    public String id() {
        return id;
    }
}
