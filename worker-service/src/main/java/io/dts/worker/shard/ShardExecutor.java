package io.dts.worker.shard;

import java.time.Clock;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import io.dts.model.TaskEvent;
import io.dts.model.TaskShard;
import io.dts.model.TaskStatus;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.item.ItemLauncher;
import io.dts.worker.redis.PatientRedis;
import io.dts.worker.redis.ShardProgress;
import io.dts.worker.redis.ShardProgress.Scheduling;
import io.dts.worker.redis.ShardProgress.ShardState;
import io.dts.worker.redis.ShardSplits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.stereotype.Component;

/**
 * Decides what becomes of each shard this worker is given (its {@link ShardFate}): skipped (stale, done, or
 * its task over), quarantined, or run ({@link Slots}, under the {@link Quarantine} guard) and then
 * marked done, or handed back when the worker stops. Only when every item's result is in Redis is the shard marked
 * done, and only then does the returned future complete, so the Kafka offset is committed after the
 * work is recorded. It also stops cancelled tasks and drains the worker on a clean stop.
 */
@Component
public class ShardExecutor {

    private static final Logger log = LoggerFactory.getLogger(ShardExecutor.class);

    private final WorkerProperties properties;
    private final ShardProgress progress;
    private final PatientRedis redis;
    private final RunningWork running;
    private final Slots slots;
    private final Quarantine quarantine;
    private final ItemLauncher launcher;
    private final TaskEvents events;
    private final Clock clock;
    private final ExecutorService coordinators;

    ShardExecutor(WorkerProperties properties, ShardProgress progress, PatientRedis redis, RunningWork running, Slots slots,
                  Quarantine quarantine, ItemLauncher launcher, TaskEvents events, Clock clock) {
        this.properties = properties;
        this.progress = progress;
        this.redis = redis;
        this.running = running;
        this.slots = slots;
        this.quarantine = quarantine;
        this.launcher = launcher;
        this.events = events;
        this.clock = clock;
        CustomizableThreadFactory threads = new CustomizableThreadFactory("shard-");
        threads.setDaemon(true);
        this.coordinators = Executors.newFixedThreadPool(properties.maxShardsInFlight(), threads);
    }

    /**
     * Runs the shard in the background; the future completes with what became of it, once that is recorded.
     *
     * @throws java.util.concurrent.RejectedExecutionException once the worker is stopping: it takes no new shard
     */
    public CompletableFuture<ShardFate> execute(TaskShard shard) {
        return CompletableFuture.supplyAsync(() -> run(shard), coordinators);
    }

    /**
     * Runs, in the background, items this worker took from another worker's shard ({@link Stealer}), registered at
     * {@code askedAt}; they are recorded here, and the shard stays the other worker's to finish.
     */
    void executeStolen(ShardSplits.Stolen stolen, long askedAt) {
        TaskShard part = stolen.part();
        ShardLease lease = ShardLease.stolen(progress, part, stolen.holder(), properties.heartbeatTtl(), clock, askedAt);
        try {
            coordinators.execute(() -> {
                running.shardStarted(part.taskId());
                try {
                    quarantine.runStolen(lease, held -> runStolen(part, held));
                } finally {
                    running.shardEnded(part.taskId());
                }
            });
        } catch (RejectedExecutionException stopping) {
            // Its owner runs them once this registration is gone.
            redis.run(() -> progress.release(part.taskId(), stolen.holder()));
        }
    }

    private int runStolen(TaskShard part, ShardLease lease) {
        Optional<ShardState> state = state(part);
        if (skipped(part, state)) {
            return 0;
        }
        long started = clock.millis();
        int skipped = slots.run(part, state.get().scheduling(), lease::held);
        log.info("Task {} shard {}/{}: items {} to {} taken from a busy worker done here ({} already recorded) in {} ms", part.taskId(),
                part.shardIndex() + 1, part.shardCount(), part.startIndex(), part.endIndex() - 1, skipped, clock.millis() - started);
        return skipped;
    }

    /** Tasks with a shard running on this worker now. */
    public Set<String> runningTasks() {
        return running.runningTasks();
    }

    /** Threads running an item now. */
    public int busyThreads() {
        return running.busyThreads();
    }

    /** Kills the task's running processes and starts none of its remaining items here. */
    public void cancel(String taskId) {
        if (running.cancel(taskId)) {
            log.info("Task {} cancelled: stopping its items on this worker", taskId);
            launcher.killAll(taskId);
        }
    }

    /**
     * On a clean stop (SIGTERM), before the Kafka consumer closes: let running items finish and be
     * recorded, start no new one, and leave the unfinished shards uncommitted so Kafka hands them to
     * another worker, which runs only what is not recorded.
     */
    @EventListener(ContextClosedEvent.class)
    void drain() throws InterruptedException {
        running.drain();
        log.info("Worker {} stopping: finishing running items, handing back {} unfinished shards", properties.id(),
                running.runningTasks().size());
        coordinators.shutdown();
        if (!coordinators.awaitTermination(properties.drainTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
            log.warn("Worker {}: items still running after {}; killing them", properties.id(), properties.drainTimeout());
            // Before the kill, so that no killed item's outcome is recorded: the shard is handed back and runs them again.
            running.itemsKilled();
            running.runningTasks().forEach(launcher::killAll);
        }
    }

    private ShardFate run(TaskShard shard) {
        running.shardStarted(shard.taskId());
        try {
            return runShard(shard);
        } finally {
            running.shardEnded(shard.taskId());
        }
    }

    /**
     * Runs the shard once no live process runs it any more. Kafka hands a shard's record to a second worker
     * when a rebalance (a worker joining or leaving the group) moves its partition while the first worker
     * still runs it, and to the same worker again when the partition comes back to it. Run at once, every
     * item not yet recorded would run twice, side by side. So this run waits for that one to end: then the
     * shard is done and skipped, or the process running it died and its recorded items are skipped, the
     * rest run here.
     */
    private ShardFate runShard(TaskShard shard) {
        boolean waitingTold = false;
        while (true) {
            Optional<ShardState> state = state(shard);
            if (anotherRunGoes(shard, state)) {
                if (!waitingTold) {
                    log.info("Task {} shard {}: a run of it still goes (its partition moved while it ran); waiting for that run to end",
                            shard.taskId(), shard.shardIndex());
                    waitingTold = true;
                }
            } else if (skipped(shard, state)) {
                return ShardFate.FINISHED;
            } else {
                int deaths = state.get().deadHolders();
                if (quarantine.isDue(deaths)) {
                    quarantine.failUnrecorded(shard, deaths);
                    complete(shard);
                    return ShardFate.QUARANTINED;
                }
                Optional<ShardFate> fate = quarantine.run(shard, deaths, lease -> runRegistered(shard, lease, deaths == 0));
                if (fate.isPresent()) {
                    return fate.get();
                }
                // Another delivery registered its run between the state read and this one's registration: wait for it too.
            }
            if (!paused()) {
                return ShardFate.HANDED_BACK;
            }
        }
    }

    /** A wait before the shard's state is read again; false, at once, when the worker stops (the shard goes back). */
    private boolean paused() {
        if (running.draining()) {
            return false;
        }
        try {
            Thread.sleep(properties.cancelCheckInterval().toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Optional<ShardState> state(TaskShard shard) {
        return redis.call(() -> progress.state(shard.taskId(), shard.shardIndex(), shard.round()));
    }

    private static boolean anotherRunGoes(TaskShard shard, Optional<ShardState> state) {
        return skipReason(shard, state).isEmpty() && state.get().liveHolders() > 0;
    }

    private static boolean skipped(TaskShard shard, Optional<ShardState> state) {
        Optional<String> reason = skipReason(shard, state);
        reason.ifPresent(why -> log.info("Task {} shard {} skipped: {}", shard.taskId(), shard.shardIndex(), why));
        return reason.isPresent();
    }

    /**
     * Why the shard is not to run, if it is not: its task is gone or finished, it belongs to an earlier
     * round (its items are the new round's now), or it is done already (a redelivery, or a republish
     * while it ran elsewhere).
     */
    private static Optional<String> skipReason(TaskShard shard, Optional<ShardState> state) {
        if (state.isEmpty() || state.get().status().isTerminal()) {
            return Optional.of("task is " + state.map(s -> s.status().name()).orElse("gone"));
        }
        if (state.get().round() != shard.round()) {
            return Optional.of("it is of round " + shard.round() + ", the task is in round " + state.get().round());
        }
        return state.get().done() ? Optional.of("already done") : Optional.empty();
    }

    /**
     * Runs the shard under its registration, unless it is no longer to run: the state read before may be old by now (a
     * suspect waits to run alone, maybe for minutes, and meanwhile the task can finish and be retried as a new round,
     * whose items this shard's record would run beside that round's own run). Read again once registered, it stays
     * true while this run goes: no other run of the shard's round can complete the shard meanwhile, so its task
     * cannot finish and be retried under it.
     */
    private ShardFate runRegistered(TaskShard shard, ShardLease lease, boolean splittable) {
        Optional<ShardState> state = state(shard);
        if (skipped(shard, state)) {
            return ShardFate.FINISHED;
        }
        return runHeld(shard, state.get().scheduling(), lease, splittable);
    }

    /** Runs the shard; idle workers may take some of its items unless {@code splittable} is false (a worker died running it). */
    private ShardFate runHeld(TaskShard shard, Scheduling scheduling, ShardLease lease, boolean splittable) {
        String taskId = shard.taskId();
        long started = clock.millis();
        int skipped = slots.run(shard, scheduling, lease::held, splittable && properties.stealing() ? lease.holder() : null);
        if (running.draining() || !lease.held()) {
            // Stopping, or the shard is another run's now: that run finishes it, or the one this hand-back makes.
            return ShardFate.HANDED_BACK;
        }
        if (running.cancelled(taskId)) {
            log.info("Task {} shard {} stopped: the task was cancelled", taskId, shard.shardIndex());
            return ShardFate.FINISHED;
        }
        complete(shard);
        log.info("Task {} shard {}/{} done: {} items ({} already recorded) in {} ms", taskId, shard.shardIndex() + 1,
                shard.shardCount(), shard.size(), skipped, clock.millis() - started);
        return ShardFate.FINISHED;
    }

    /** Marks the shard done and tells who listens; finishes the task when it was the last shard. */
    private void complete(TaskShard shard) {
        String taskId = shard.taskId();
        Optional<TaskStatus> finished = redis.call(() -> progress.completeShard(taskId, shard.shardIndex(), shard.round()));
        events.publish(new TaskEvent(TaskEvent.Type.SHARD_DONE, taskId, shard.shardIndex(), null, properties.id(), clock.millis()));
        finished.ifPresent(terminal -> {
            log.info("Task {} finished: {}", taskId, terminal);
            events.publish(new TaskEvent(TaskEvent.Type.TASK_DONE, taskId, shard.shardIndex(), terminal, properties.id(), clock.millis()));
        });
    }
}
