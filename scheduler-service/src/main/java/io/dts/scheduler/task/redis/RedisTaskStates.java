package io.dts.scheduler.task.redis;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.dts.model.TaskStatus;
import io.dts.redis.TaskHash;
import io.dts.redis.TaskLifecycle;
import io.dts.scheduler.task.domain.TaskStates;
import org.springframework.stereotype.Repository;

/** {@link TaskStates} on Redis: the scheduler's side of the {@link TaskLifecycle}, which the workers share. */
@Repository
public class RedisTaskStates implements TaskStates {

    private final TaskLifecycle lifecycle;

    public RedisTaskStates(TaskLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    @Override
    public boolean transition(String taskId, TaskStatus next, int attempts, String error) {
        Map<String, String> fields = new HashMap<>();
        TaskHash.ATTEMPTS.put(fields, attempts);
        TaskHash.LAST_ERROR.put(fields, error);
        return lifecycle.moveTo(taskId, next, fields);
    }

    @Override
    public boolean startSharding(String taskId, int shardCount) {
        return lifecycle.startSharding(taskId, shardCount);
    }

    @Override
    public boolean reopenFailed(String taskId) {
        return lifecycle.reopenFailed(taskId);
    }

    @Override
    public Optional<TaskStatus> repair(String taskId) {
        return lifecycle.repair(taskId);
    }

    @Override
    public void markWaiting(String taskId, String reason) {
        lifecycle.markWaiting(taskId, reason);
    }

    @Override
    public List<String> pendingOlderThan(Duration age, int limit) {
        return lifecycle.pendingOlderThan(age, limit);
    }

    @Override
    public List<String> runningTasks(int limit) {
        return lifecycle.runningTasks(limit);
    }

    @Override
    public void forgetFinishedBefore(Duration age) {
        lifecycle.forgetCreatedBefore(age);
    }
}
