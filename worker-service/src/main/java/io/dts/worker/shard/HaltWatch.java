package io.dts.worker.shard;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.dts.model.TaskShard;
import io.dts.worker.item.ItemLauncher;
import io.dts.worker.redis.PatientRedis;
import io.dts.worker.redis.ShardProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * A task's halt rule on this worker. Counts each item that fails for good, at once, in Redis, where every
 * worker's failures meet; tells a slice whether the next item may start (a task that halted anywhere
 * starts no new item anywhere); and, for a rule that says {@code now}, kills the task's running items
 * here as soon as it halts here or elsewhere (the latter seen within {@code worker.cancel-check-interval}).
 * Only tasks with a halt rule pay for this: one Redis read before each item.
 */
@Component
class HaltWatch {

    private static final Logger log = LoggerFactory.getLogger(HaltWatch.class);

    private final ShardProgress progress;
    private final PatientRedis redis;
    private final ItemLauncher launcher;
    /** Task rounds known to have halted, as {@code taskId/round}. */
    private final Set<String> halted = ConcurrentHashMap.newKeySet();
    /** Running shards whose rule kills running items, by {@code taskId/round}, with how many run here. */
    private final Map<String, Integer> killing = new ConcurrentHashMap<>();

    HaltWatch(ShardProgress progress, PatientRedis redis, ItemLauncher launcher) {
        this.progress = progress;
        this.redis = redis;
        this.launcher = launcher;
    }

    void shardStarted(TaskShard shard) {
        if (shard.halt() != null && shard.halt().now()) {
            killing.merge(key(shard), 1, Integer::sum);
        }
    }

    void shardEnded(TaskShard shard) {
        if (shard.halt() != null) {
            killing.computeIfPresent(key(shard), (key, count) -> count > 1 ? count - 1 : null);
            if (!killing.containsKey(key(shard))) {
                halted.remove(key(shard));
            }
        }
    }

    /** True when the shard's task halted: the next item is not to start. */
    boolean stopsBefore(TaskShard shard) {
        if (shard.halt() == null) {
            return false;
        }
        if (halted.contains(key(shard))) {
            return true;
        }
        if (redis.call(() -> progress.halted(shard.taskId()))) {
            haltHere(shard);
            return true;
        }
        return false;
    }

    /** An item of the shard failed for good: counted against the rule, which may halt the task. */
    void failed(TaskShard shard, long itemIndex) {
        if (shard.halt() != null && redis.call(() -> progress.countHaltFailure(shard.taskId(), itemIndex, shard.halt()))) {
            haltHere(shard);
        }
    }

    /** True when the shard's running items were killed by its rule: their outcomes are the kill's, not theirs. */
    boolean killedItems(TaskShard shard) {
        return shard.halt() != null && shard.halt().now() && halted.contains(key(shard));
    }

    /**
     * Running tasks whose rule says {@code now}: once halted, here or by another worker, their items here are
     * killed, and again at every check while their shards run here. One kill is not enough: an item that
     * passed {@link #stopsBefore} an instant before the halt may still be starting its shell, or its process
     * may not be forked yet, when the first kill looks for it; the next check kills it.
     */
    @Scheduled(fixedDelayString = "${worker.cancel-check-interval}")
    void killHaltedItems() {
        for (String key : killing.keySet()) {
            String taskId = key.substring(0, key.indexOf('/'));
            try {
                if (halted.contains(key) || progress.halted(taskId)) {
                    halted.add(key);
                    launcher.killAll(taskId);
                }
            } catch (RuntimeException e) {
                log.debug("Task {}: cannot check for a halt now: {}", taskId, e.getMessage());
            }
        }
    }

    private void haltHere(TaskShard shard) {
        if (halted.add(key(shard))) {
            log.info("Task {}: halted ({}); its items not started yet are skipped", shard.taskId(), shard.halt().rule());
            if (shard.halt().now()) {
                launcher.killAll(shard.taskId());
            }
        }
    }

    private static String key(TaskShard shard) {
        return shard.taskId() + "/" + shard.round();
    }
}
