package io.dts.scheduler.task.api;

import static io.dts.scheduler.task.domain.Tasks.aTask;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.dts.model.TaskStatus;
import io.dts.model.WorkerHeartbeat;
import io.dts.model.WorkerHeartbeat.Slot;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.worker.WorkerDirectory;
import org.junit.jupiter.api.Test;

/** What a task's view says about its running items and, while some wait, why: from the live workers' heartbeats. */
class TaskViewTest {

    /** One live worker of two slots, running these items (task, owner). */
    private static WorkerDirectory running(Slot... slots) {
        Map<String, Integer> byTask = new HashMap<>();
        for (Slot slot : slots) {
            byTask.merge(slot.taskId(), 1, Integer::sum);
        }
        WorkerHeartbeat beat = new WorkerHeartbeat("w1", "i1", "host", 1, 2, slots.length, 0, 0, List.of(0), List.copyOf(byTask.keySet()),
                byTask, List.of(slots));
        return () -> List.of(beat);
    }

    private static Task running(Integer maxParallel, Integer ownerLimit) {
        return aTask().status(TaskStatus.INPROGRESS).items(10).limits(maxParallel, ownerLimit).build();
    }

    @Test
    void a_task_at_its_max_parallel_says_so() {
        Task task = running(1, null);

        TaskView view = TaskView.of(task, running(new Slot(task.id(), "alice", 0, 0)));

        assertThat(view.itemsRunning()).isEqualTo(1);
        assertThat(view.waitingReason()).isEqualTo("maxParallel: 1 of its items run at once, the most it allows");
    }

    @Test
    void a_task_whose_owner_is_at_its_running_items_limit_says_so_naming_the_setting() {
        Task task = running(null, 2);

        TaskView view = TaskView.of(task, running(new Slot(task.id(), "alice", 0, 0), new Slot("another-task", "alice", 0, 0)));

        assertThat(view.waitingReason()).isEqualTo("owner limit: alice runs 2 items at once, the most an owner may (scheduler.owner-limits.running-items)");
    }

    @Test
    void a_task_with_no_item_running_while_every_slot_runs_others_says_its_items_wait_their_turn() {
        Task task = running(null, null);

        TaskView view = TaskView.of(task, running(new Slot("t1", "bob", 0, 0), new Slot("t2", "carol", 0, 0)));

        assertThat(view.itemsRunning()).isZero();
        assertThat(view.waitingReason()).startsWith("every slot runs items that take their turn first");
    }

    @Test
    void a_task_with_free_slots_or_a_finished_one_gives_no_reason() {
        assertThat(TaskView.of(running(null, null), running(new Slot("t1", "bob", 0, 0))).waitingReason()).isNull();
        assertThat(TaskView.of(aTask().status(TaskStatus.COMPLETED).build(), running()).waitingReason()).isNull();
    }
}
