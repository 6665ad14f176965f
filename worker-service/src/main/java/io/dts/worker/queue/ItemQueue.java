package io.dts.worker.queue;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToDoubleFunction;

import io.dts.model.TaskShard;
import io.dts.worker.redis.ShardProgress.Scheduling;

/**
 * The items waiting to run on this worker, from every shard it holds, and which one a free slot takes next:
 * the highest priority first; among equals, the owner with the fewest items running (in the whole cluster: here,
 * plus elsewhere as the workers' heartbeats tell); then that owner's task served longest ago (round robin between
 * its tasks), then that task's shard served longest ago (a task's shards not served yet in index order). A task at
 * its {@code maxParallel} here waits. A shard's items wait here a few at a time, its coordinator reading more from
 * Redis as they are taken, so a worker holding many shards holds little.
 */
public final class ItemQueue {

    /** Items of one shard read ahead of the slots; the coordinator waits while this many wait. */
    private static final int READ_AHEAD = 64;

    private final Clock clock;
    private final ToDoubleFunction<String> runningElsewhere;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Guarded by {@link #lock}, like everything below. */
    private final List<Waiting> waiting = new ArrayList<>();
    private final Map<String, Long> ownerServedAt = new HashMap<>();
    private final Map<String, Long> taskServedAt = new HashMap<>();
    private final Map<String, Integer> runningByOwner = new HashMap<>();
    private long turns;
    private boolean closed;

    /** @param runningElsewhere items of an owner running on other workers now (smoothed, so not a whole number) */
    public ItemQueue(Clock clock, ToDoubleFunction<String> runningElsewhere) {
        this.clock = clock;
        this.runningElsewhere = runningElsewhere;
    }

    public record Item(long index, String value) {
    }

    /** Runs one item of a shard, on the slot that took it. */
    public interface ItemRunner {
        void run(Item item);
    }

    /** An item a slot is to run, and the shard it came from. */
    public record Turn(Waiting from, Item item) {

        public void run() {
            from.runner.run(item);
        }
    }

    /** One run of a shard here: its items waiting, and how many of them run. */
    public static final class Waiting {
        private final TaskShard shard;
        private final Scheduling scheduling;
        private final ItemRunner runner;
        private final ArrayDeque<Item> items = new ArrayDeque<>();
        private int running;
        private boolean allOffered;
        private boolean dropped;
        private long servedAt;
        /** Clock millis before which none of its items is taken (its task was at its cluster-wide cap). */
        private long notBefore;

        private Waiting(TaskShard shard, Scheduling scheduling, ItemRunner runner) {
            this.shard = shard;
            this.scheduling = scheduling;
            this.runner = runner;
        }

        public TaskShard shard() {
            return shard;
        }

        public Scheduling scheduling() {
            return scheduling;
        }

        private boolean done() {
            return (allOffered || dropped) && items.isEmpty() && running == 0;
        }
    }

    /** Starts taking the shard's items; a slot runs each with {@code runner}. */
    public Waiting open(TaskShard shard, Scheduling scheduling, ItemRunner runner) {
        return locked(() -> {
            Waiting run = new Waiting(shard, scheduling, runner);
            waiting.add(run);
            return run;
        });
    }

    /** Adds the shard's next item; waits while enough of its items wait already. False when its items were dropped. */
    public boolean offer(Waiting run, Item item) {
        return locked(() -> {
            while (!run.dropped && !closed && run.items.size() >= READ_AHEAD) {
                changed.awaitUninterruptibly();
            }
            if (run.dropped || closed) {
                return false;
            }
            run.items.add(item);
            changed.signalAll();
            return true;
        });
    }

    /** Whether a free slot would find an item to run now. */
    public boolean hasTakeable() {
        return locked(() -> {
            long now = clock.millis();
            return waiting.stream().anyMatch(run -> takeable(run, now));
        });
    }

    /** Every item of the shard has been offered. */
    public void allOffered(Waiting run) {
        locked(() -> {
            run.allOffered = true;
            changed.signalAll();
            return null;
        });
    }

    /** None of the shard's waiting items is to run, nor any it would offer: it stops here. */
    public void drop(Waiting run) {
        locked(() -> {
            run.dropped = true;
            run.items.clear();
            changed.signalAll();
            return null;
        });
    }

    /** Waits until every offered item of the shard has run (or was dropped), then forgets the shard. */
    public void awaitDone(Waiting run) {
        locked(() -> {
            while (!run.done() && !closed) {
                changed.awaitUninterruptibly();
            }
            waiting.remove(run);
            String task = run.shard.taskId();
            if (waiting.stream().noneMatch(other -> other.shard.taskId().equals(task))) {
                taskServedAt.remove(task);
            }
            if (waiting.stream().noneMatch(other -> other.scheduling.owner().equals(run.scheduling.owner()))) {
                ownerServedAt.remove(run.scheduling.owner());
            }
            return null;
        });
    }

    /** The next item to run, by priority and fair share; waits for one. Null once the queue is closed. */
    public Turn take() {
        return locked(() -> {
            while (!closed) {
                long now = clock.millis();
                Waiting next = next(now);
                if (next != null) {
                    return serve(next);
                }
                long wait = waiting.stream().filter(run -> run.notBefore > now && !run.items.isEmpty())
                        .mapToLong(run -> run.notBefore - now).min().orElse(Long.MAX_VALUE);
                if (wait == Long.MAX_VALUE) {
                    changed.awaitUninterruptibly();
                } else {
                    changed.await(wait, TimeUnit.MILLISECONDS);
                }
            }
            return null;
        });
    }

    /** The item ran (or will not): its slot is free. */
    public void ended(Turn turn) {
        locked(() -> {
            turn.from.running--;
            runningByOwner.computeIfPresent(turn.from.scheduling.owner(), (owner, count) -> count > 1 ? count - 1 : null);
            changed.signalAll();
            return null;
        });
    }

    /**
     * The item may not run yet (its task has {@code maxParallel} items running in the cluster): it goes back to the
     * head of its shard's items, which wait {@code retryAfterMillis}, and its slot is free.
     */
    public void putBack(Turn turn, long retryAfterMillis) {
        locked(() -> {
            if (!turn.from.dropped) {
                turn.from.items.addFirst(turn.item);
            }
            turn.from.notBefore = clock.millis() + retryAfterMillis;
            return null;
        });
        ended(turn);
    }

    /** Wakes every waiting slot and coordinator; no item is taken after this. */
    public void close() {
        locked(() -> {
            closed = true;
            changed.signalAll();
            return null;
        });
    }

    private Waiting next(long now) {
        Comparator<Waiting> order = Comparator.<Waiting>comparingInt(run -> -run.scheduling.priority())
                .thenComparingDouble(run -> ownerRunning(run.scheduling.owner()))
                .thenComparingLong(run -> ownerServedAt.getOrDefault(run.scheduling.owner(), 0L))
                .thenComparingLong(run -> taskServedAt.getOrDefault(run.shard.taskId(), 0L))
                .thenComparingLong(run -> run.servedAt)
                // Shards of one task never served yet start in index order, not in the order their coordinators came.
                .thenComparingLong(run -> run.shard.startIndex());
        return waiting.stream().filter(run -> takeable(run, now)).min(order).orElse(null);
    }

    private boolean takeable(Waiting run, long now) {
        if (run.items.isEmpty() || run.notBefore > now) {
            return false;
        }
        Integer cap = run.scheduling.maxParallel();
        return cap == null || runningHere(run.shard.taskId()) < cap;
    }

    private Turn serve(Waiting run) {
        long turn = ++turns;
        run.servedAt = turn;
        run.running++;
        taskServedAt.put(run.shard.taskId(), turn);
        ownerServedAt.put(run.scheduling.owner(), turn);
        runningByOwner.merge(run.scheduling.owner(), 1, Integer::sum);
        changed.signalAll();
        return new Turn(run, run.items.poll());
    }

    private double ownerRunning(String owner) {
        return runningByOwner.getOrDefault(owner, 0) + runningElsewhere.applyAsDouble(owner);
    }

    private int runningHere(String taskId) {
        return waiting.stream().filter(run -> run.shard.taskId().equals(taskId)).mapToInt(run -> run.running).sum();
    }

    private interface Locked<T> {
        T get() throws InterruptedException;
    }

    private <T> T locked(Locked<T> body) {
        lock.lock();
        try {
            return body.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            lock.unlock();
        }
    }
}
