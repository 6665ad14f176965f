package io.dts.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TaskStatusTest {

    @ParameterizedTest
    @EnumSource(value = TaskStatus.class, names = {"COMPLETED", "CANCELLED", "SUBMISSION_FAILED"})
    void a_finished_task_never_moves_again(TaskStatus terminal) {
        for (TaskStatus next : TaskStatus.values()) {
            assertThat(terminal.canMoveTo(next)).as("%s -> %s", terminal, next).isFalse();
        }
    }

    @Test
    void a_late_submitted_ack_cannot_move_a_sharded_task_back() {
        assertThat(TaskStatus.INPROGRESS.canMoveTo(TaskStatus.SUBMITTED)).isFalse();
        assertThat(TaskStatus.QUEUED.canMoveTo(TaskStatus.INPROGRESS)).isTrue();
    }

    @Test
    void only_retry_failed_reopens_a_failed_task() {
        assertThat(TaskStatus.FAILED.canMoveTo(TaskStatus.QUEUED)).isTrue();
        assertThat(TaskStatus.FAILED.canMoveTo(TaskStatus.INPROGRESS)).isFalse();
        assertThat(TaskStatus.FAILED.canMoveTo(TaskStatus.COMPLETED)).isFalse();
        assertThat(TaskStatus.FAILED.isTerminal()).isTrue();
    }
}
