package io.dts.worker.queue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

import io.dts.model.ItemResult;

/**
 * One shard's finished results on their way to Redis, written in batches: once {@code worker.result-batch}
 * are waiting, or once {@code worker.result-flush-interval} has passed since the last write. Shared by the slots
 * running the shard's items.
 */
public final class ResultBuffer {

    private final Consumer<List<ItemResult>> write;
    private final int batch;
    private final Duration interval;
    private final Clock clock;
    private final List<ItemResult> pending;
    private Instant lastWrite;

    /** @param write writes a batch, or throws and leaves it here; it must not keep the list */
    public ResultBuffer(Consumer<List<ItemResult>> write, int batch, Duration interval, Clock clock) {
        this.write = write;
        this.batch = batch;
        this.interval = interval;
        this.clock = clock;
        this.pending = new ArrayList<>(batch);
        this.lastWrite = clock.instant();
    }

    public synchronized void add(ItemResult result) {
        pending.add(result);
    }

    /** Writes what is waiting when the batch is full or the interval has passed. */
    public synchronized void flushIfDue() {
        if (pending.size() >= batch || !clock.instant().isBefore(lastWrite.plus(interval))) {
            flush();
        }
    }

    /** Writes what is waiting now. */
    public synchronized void flush() {
        if (!pending.isEmpty()) {
            write.accept(Collections.unmodifiableList(pending));
            pending.clear();
        }
        lastWrite = clock.instant();
    }
}
