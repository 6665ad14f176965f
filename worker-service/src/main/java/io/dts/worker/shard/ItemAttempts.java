package io.dts.worker.shard;

import java.time.Clock;
import java.time.Duration;

import io.dts.model.ItemPlaceholder;
import io.dts.model.ItemResult;
import io.dts.model.TaskShard;
import io.dts.model.Utf8;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.item.ItemLauncher;
import io.dts.worker.item.ItemRun;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Runs one item of a shard to its result: again after a failure or a timeout, up to the task's
 * {@code maxRetries} times, waiting {@code worker.item-retry-backoff} before the first retry and twice
 * as long before each next one, at most {@code worker.item-retry-max-backoff}.
 */
@Component
class ItemAttempts {

    /** How the wait between two attempts is spent; tests see the waits without waiting them. */
    interface Pause {
        void sleep(Duration duration) throws InterruptedException;
    }

    /** The backoff stops doubling here, long past any sensible cap, so the shift cannot overflow. */
    private static final int MAX_DOUBLINGS = 16;

    private final WorkerProperties properties;
    private final ItemLauncher launcher;
    private final RunningWork running;
    private final Clock clock;
    private final Pause pause;

    ItemAttempts(WorkerProperties properties, ItemLauncher launcher, RunningWork running, Clock clock, Pause pause) {
        this.properties = properties;
        this.launcher = launcher;
        this.running = running;
        this.clock = clock;
        this.pause = pause;
    }

    @Autowired
    ItemAttempts(WorkerProperties properties, ItemLauncher launcher, RunningWork running, Clock clock) {
        this(properties, launcher, running, clock, duration -> Thread.sleep(duration.toMillis()));
    }

    /** The shard's command, measured once per shard: its size and placeholders give each item's command size. */
    record Command(String text, long bytes, int placeholders) {

        static Command of(String text) {
            return new Command(text, Utf8.length(text), ItemPlaceholder.occurrences(text));
        }
    }

    /**
     * Runs item {@code index} of the shard; {@code item} is {@code null} for a task without inputList.
     * An attempt of a task killed here (cancelled, or drained) is the last one.
     *
     * @return the last attempt's outcome, with the number of attempts
     */
    ItemResult run(TaskShard shard, Command command, long index, String item) {
        // The one place the worker's default applies: a task that sets no timeout carries none to here.
        Duration timeout = shard.timeoutSeconds() == null ? properties.defaultTimeout() : Duration.ofSeconds(shard.timeoutSeconds());
        long bytes = item == null ? 0 : ItemPlaceholder.expandedBytes(command.bytes(), command.placeholders(), item);
        if (bytes > ItemPlaceholder.MAX_COMMAND_BYTES) {
            // The scheduler refuses such tasks; a shard from elsewhere must not make this worker build it.
            return notRun(index, item, "dts: not run: the command would be " + bytes + " bytes with this item in {{item}}, over the "
                    + ItemPlaceholder.MAX_COMMAND_BYTES + " bytes a command may have\n", properties.id(), clock);
        }
        ItemRun run = new ItemRun(shard.taskId(), shard.shardIndex(), index, ItemPlaceholder.expand(command.text(), item), item, timeout);
        ItemLauncher.Outcome outcome = null;
        int attempts = 0;
        while (attempts <= shard.maxRetries()) {
            if (attempts > 0) {
                pause(backoff(attempts));
            }
            attempts++;
            outcome = launcher.run(run);
            if ((outcome.exitCode() == 0 && !outcome.timedOut()) || running.killed(shard.taskId())) {
                break;
            }
        }
        return ItemResult.ran(index, item, outcome.exitCode(), outcome.timedOut(),
                outcome.stdout().text(), outcome.stdout().truncated(), outcome.stderr().text(), outcome.stderr().truncated(),
                outcome.durationMs(), attempts, properties.id(), clock.millis());
    }

    /** The wait after {@code attempts} failed attempts: the backoff, doubled for each attempt after the first, capped. */
    Duration backoff(int attempts) {
        Duration wait = properties.itemRetryBackoff().multipliedBy(1L << Math.min(attempts - 1, MAX_DOUBLINGS));
        return wait.compareTo(properties.itemRetryMaxBackoff()) > 0 ? properties.itemRetryMaxBackoff() : wait;
    }

    /** The result of an item this worker did not start; {@code reason} is its stderr. */
    static ItemResult notRun(long index, String item, String reason, String workerId, Clock clock) {
        return ItemResult.ran(index, item, ItemResult.NOT_STARTED_EXIT_CODE, false, "", false, reason, false, 0, 0, workerId,
                clock.millis());
    }

    private void pause(Duration duration) {
        try {
            pause.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
