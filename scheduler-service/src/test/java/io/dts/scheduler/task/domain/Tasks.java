package io.dts.scheduler.task.domain;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

import io.dts.model.ShardHalt;
import io.dts.model.ShardPlacement;
import io.dts.model.TaskStatus;

/** Test data: {@code aTask().status(INPROGRESS).items(10).build()} instead of spelling out every field. */
public final class Tasks {

    private ShardHalt halt;
    private Integer maxParallel;
    private Integer ownerRunningLimit;
    private String id = UUID.randomUUID().toString();
    private String owner = "alice";
    private TaskStatus status = TaskStatus.QUEUED;
    private long items = 4;
    private int shards;
    private Instant updatedAt = Instant.parse("2026-01-01T00:00:00Z");
    private Instant shardsPublishedAt;
    private boolean shardsPublished;
    private Map<Integer, ShardPlacement> shardPlacements = Map.of();
    private int round = 1;

    public static Tasks aTask() {
        return new Tasks();
    }

    public Tasks id(String id) {
        this.id = id;
        return this;
    }

    public Tasks owner(String owner) {
        this.owner = owner;
        return this;
    }

    public Tasks status(TaskStatus status) {
        this.status = status;
        return this;
    }

    public Tasks items(long items) {
        this.items = items;
        return this;
    }

    public Tasks shards(int shards) {
        this.shards = shards;
        return this;
    }

    public Tasks updatedAt(Instant updatedAt) {
        this.updatedAt = updatedAt;
        return this;
    }

    /** Published (or not) when it was last updated. */
    public Tasks shardsPublished(boolean shardsPublished) {
        this.shardsPublished = shardsPublished;
        return this;
    }

    public Tasks shardsPublishedAt(Instant shardsPublishedAt) {
        this.shardsPublishedAt = shardsPublishedAt;
        return this;
    }

    public Tasks shardPlacements(Map<Integer, ShardPlacement> shardPlacements) {
        this.shardPlacements = shardPlacements;
        return this;
    }

    public Tasks halt(ShardHalt halt) {
        this.halt = halt;
        return this;
    }

    public Tasks limits(Integer maxParallel, Integer ownerRunningLimit) {
        this.maxParallel = maxParallel;
        this.ownerRunningLimit = ownerRunningLimit;
        return this;
    }

    public Tasks round(int round) {
        this.round = round;
        return this;
    }

    public Task build() {
        return new Task(id, status, new TaskDefinition(owner, "echo {{item}}", "echo {{item}}", items, false, 30L, 0, halt, 0, maxParallel, ownerRunningLimit),
                new TaskProgress(shards, 0, 0, 0, 0, 1, round), new TaskTimes(updatedAt, updatedAt, null), null, null,
                shardsPublishedAt != null ? shardsPublishedAt : shardsPublished ? updatedAt : null,
                shardPlacements, null);
    }
}
