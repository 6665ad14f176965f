package io.dts.scheduler.task.redis;

import java.time.Clock;
import java.util.List;
import java.util.Set;

import io.dts.model.TaskStatus;
import io.dts.redis.LuaScripts;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskHash;
import io.dts.redis.TaskRedis;
import io.dts.scheduler.task.domain.OwnerTasks;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Repository;

/**
 * {@link OwnerTasks} on Redis ({@link RedisKeys#ownerUnfinished}): a task joins its owner's set when it is accepted,
 * with the limit checked in the same script, and leaves it when it finishes (TaskLifecycle). At the limit, entries
 * whose task finished or is gone (a save that failed, a removal that did not happen) are dropped and the claim tried
 * once more, so a stale entry never holds an owner back.
 */
@Repository
public class RedisOwnerTasks implements OwnerTasks {

    private static final RedisScript<Long> CLAIM = LuaScripts.load("claim-unfinished.lua", Long.class);

    private final StringRedisTemplate redis;
    private final TaskRedis tasks;
    private final Clock clock;

    public RedisOwnerTasks(StringRedisTemplate redis, TaskRedis tasks, Clock clock) {
        this.redis = redis;
        this.tasks = tasks;
        this.clock = clock;
    }

    @Override
    public boolean claim(String owner, String taskId, int limit) {
        if (tryClaim(owner, taskId, limit)) {
            return true;
        }
        dropFinished(owner);
        return tryClaim(owner, taskId, limit);
    }

    private boolean tryClaim(String owner, String taskId, int limit) {
        return Long.valueOf(1).equals(redis.execute(CLAIM, List.of(RedisKeys.ownerUnfinished(owner)), taskId, String.valueOf(limit),
                String.valueOf(clock.millis())));
    }

    private void dropFinished(String owner) {
        Set<String> ids = redis.opsForZSet().range(RedisKeys.ownerUnfinished(owner), 0, -1);
        for (String id : ids == null ? Set.<String>of() : ids) {
            TaskStatus status = TaskHash.STATUS.read(tasks.forTask(id), id);
            if (status == null || status.isTerminal()) {
                redis.opsForZSet().remove(RedisKeys.ownerUnfinished(owner), id);
            }
        }
    }
}
