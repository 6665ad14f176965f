package io.dts.model;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Lifecycle of a MasterTask. Every status change in the system goes through {@link #canMoveTo}, the
 * single transition table, so a duplicate or late message can never move a task backwards.
 */
public enum TaskStatus {
    QUEUED, RETRYING, SUBMITTED, SUBMISSION_FAILED, INPROGRESS, COMPLETED, FAILED, CANCELLED;

    private static final Map<TaskStatus, Set<TaskStatus>> ALLOWED = Map.of(
            QUEUED, EnumSet.of(RETRYING, SUBMITTED, SUBMISSION_FAILED, INPROGRESS, CANCELLED),
            RETRYING, EnumSet.of(RETRYING, SUBMITTED, SUBMISSION_FAILED, INPROGRESS, CANCELLED),
            // A consumer may shard the task before the publisher has recorded SUBMITTED.
            SUBMITTED, EnumSet.of(INPROGRESS, CANCELLED),
            INPROGRESS, EnumSet.of(COMPLETED, FAILED, CANCELLED),
            // retry-failed queues a FAILED task again; nothing else leaves a terminal status.
            FAILED, EnumSet.of(QUEUED),
            SUBMISSION_FAILED, EnumSet.noneOf(TaskStatus.class),
            COMPLETED, EnumSet.noneOf(TaskStatus.class),
            CANCELLED, EnumSet.noneOf(TaskStatus.class));

    public boolean canMoveTo(TaskStatus next) {
        return ALLOWED.get(this).contains(next);
    }

    /** Finished: no item of the task will run again on its own. */
    public boolean isTerminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED || this == SUBMISSION_FAILED;
    }

    /** Accepted but not yet split into shards. */
    public boolean awaitsSharding() {
        return this == QUEUED || this == RETRYING || this == SUBMITTED;
    }
}
