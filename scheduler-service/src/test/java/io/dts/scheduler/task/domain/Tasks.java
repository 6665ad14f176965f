package io.dts.scheduler.task.domain;

import java.time.Instant;
import java.util.UUID;

import io.dts.model.TaskStatus;

/** Test data: {@code aTask().status(INPROGRESS).items(10).build()} instead of a 20-argument constructor. */
final class Tasks {

    private String id = UUID.randomUUID().toString();
    private TaskStatus status = TaskStatus.QUEUED;
    private long items = 4;
    private int shards;
    private Instant updatedAt = Instant.parse("2026-01-01T00:00:00Z");
    private boolean shardsPublished;
    private int round = 1;

    static Tasks aTask() {
        return new Tasks();
    }

    Tasks id(String id) {
        this.id = id;
        return this;
    }

    Tasks status(TaskStatus status) {
        this.status = status;
        return this;
    }

    Tasks items(long items) {
        this.items = items;
        return this;
    }

    Tasks shards(int shards) {
        this.shards = shards;
        return this;
    }

    Tasks updatedAt(Instant updatedAt) {
        this.updatedAt = updatedAt;
        return this;
    }

    Tasks shardsPublished(boolean shardsPublished) {
        this.shardsPublished = shardsPublished;
        return this;
    }

    Tasks round(int round) {
        this.round = round;
        return this;
    }

    Task build() {
        return new Task(id, status, "echo {{item}}", "echo {{item}}", items, false, shards, 0, 0, 0, 1, 30, 0, round,
                updatedAt, updatedAt, null, null, null, shardsPublished);
    }
}
