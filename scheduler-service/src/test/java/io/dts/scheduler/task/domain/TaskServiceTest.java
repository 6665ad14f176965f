package io.dts.scheduler.task.domain;

import static io.dts.scheduler.task.domain.Tasks.aTask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import io.dts.model.MasterTask;
import io.dts.scheduler.config.SchedulerProperties;
import io.dts.testsupport.SettableClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.dao.QueryTimeoutException;
import tools.jackson.databind.json.JsonMapper;

/** How a submit uses and gives back the names a client chose (an Idempotency-Key, its own task id) on every path. */
class TaskServiceTest {

    private final TaskStore store = mock(TaskStore.class);
    private final TaskStates states = mock(TaskStates.class);
    private final IdempotencyKeys keys = mock(IdempotencyKeys.class);
    private final TaskSubmitter submitter = mock(TaskSubmitter.class);
    private final SchedulerProperties properties = TaskDispatcherTest.properties(Map.of());
    private final OwnerTasks ownerTasks = mock(OwnerTasks.class);
    private final TaskService service = new TaskService(store, states, mock(TaskResults.class), keys, submitter, ownerTasks, properties,
            new TemplateRenderer(JsonMapper.builder().build(), properties), new SettableClock(Instant.parse("2026-01-01T00:00:00Z")));

    private static final Caller ALICE = new Caller("alice", false);

    @BeforeEach
    void ownersUnderTheirLimit() {
        when(ownerTasks.claim(anyString(), anyString(), anyInt())).thenReturn(true);
    }

    @Test
    void an_owner_at_its_unfinished_tasks_limit_gets_nothing_saved() {
        when(ownerTasks.claim(anyString(), anyString(), anyInt())).thenReturn(false);

        assertThatThrownBy(() -> service.submit(request("echo"), null, ALICE)).isInstanceOf(OwnerLimitException.class)
                .hasMessageContaining("alice").hasMessageContaining("scheduler.owner-limits.unfinished-tasks");
        verify(store, never()).create(any());
        verify(submitter, never()).submit(any());
    }

    private static MasterTask request(String command) {
        return new MasterTask(command, null, List.of("a"), null, null, null, null, null);
    }

    @Test
    void a_key_is_kept_for_the_retention_once_its_task_is_saved() {
        when(keys.claim(eq("alice"), eq("k"), any(), any())).thenReturn(Optional.empty());

        Task task = service.submit(request("echo"), "k", ALICE);

        verify(store).create(any());
        verify(keys).keep("alice", "k", properties.idempotencyRetention());
        verify(submitter).submit(task.id());
    }

    @Test
    void a_failed_save_gives_the_key_back_so_a_retry_can_use_it() {
        when(keys.claim(eq("alice"), eq("k"), any(), any())).thenReturn(Optional.empty());
        doThrow(new QueryTimeoutException("Redis timed out")).when(store).create(any());
        when(store.find(anyString())).thenReturn(Optional.empty());

        assertThatThrownBy(() -> service.submit(request("echo"), "k", ALICE)).isInstanceOf(QueryTimeoutException.class);

        verify(keys).release("alice", "k");
        verify(keys, never()).keep(anyString(), anyString(), any());
        verify(submitter, never()).submit(anyString());
    }

    @Test
    void a_save_whose_reply_was_lost_but_that_committed_keeps_the_key() {
        when(keys.claim(eq("alice"), eq("k"), any(), any())).thenReturn(Optional.empty());
        doThrow(new QueryTimeoutException("reply lost")).when(store).create(any());
        when(store.find(anyString())).thenReturn(Optional.of(aTask().build()));

        assertThatThrownBy(() -> service.submit(request("echo"), "k", ALICE)).isInstanceOf(QueryTimeoutException.class);

        verify(keys).keep("alice", "k", properties.idempotencyRetention());
        verify(keys, never()).release(anyString(), anyString());
    }

    @Test
    void a_key_used_before_answers_its_task_for_the_same_request_and_422s_another() {
        Task earlier = aTask().build();
        NewTask same = new NewTask("x", "alice", "echo", "echo", List.of("a"), null, 0, null, 0, null, 0, properties.retention(), Instant.now()).withFingerprint();
        when(keys.claim(eq("alice"), eq("k"), any(), any())).thenReturn(Optional.of(new RequestClaim(earlier.id(), same.fingerprint())));
        when(store.find(earlier.id())).thenReturn(Optional.of(earlier));

        assertThat(service.submit(request("echo"), "k", ALICE)).isEqualTo(earlier);
        assertThatThrownBy(() -> service.submit(request("echo other"), "k", ALICE)).isInstanceOf(RequestMismatchException.class);
        verify(store, never()).create(any());
    }

    @Test
    void a_key_whose_task_is_still_being_saved_is_a_conflict_to_retry() {
        NewTask same = new NewTask("x", "alice", "echo", "echo", List.of("a"), null, 0, null, 0, null, 0, properties.retention(), Instant.now()).withFingerprint();
        when(keys.claim(eq("alice"), eq("k"), any(), any())).thenReturn(Optional.of(new RequestClaim("in-flight", same.fingerprint())));
        when(store.find("in-flight")).thenReturn(Optional.empty());

        assertThatThrownBy(() -> service.submit(request("echo"), "k", ALICE)).isInstanceOf(TaskConflictException.class)
                .hasMessageContaining("still being saved");
    }

    @Test
    void a_client_id_in_use_answers_its_task_for_the_same_request_and_409s_another() {
        String id = UUID.randomUUID().toString();
        String fingerprint = new NewTask(id, "alice", "echo", "echo", List.of("a"), null, 0, null, 0, null, 0, properties.retention(), Instant.now())
                .withFingerprint().fingerprint();
        when(store.createUnlessExists(any())).thenReturn(Optional.of(fingerprint));
        when(store.find(id)).thenReturn(Optional.of(aTask().id(id).build()));

        assertThat(service.submit(request("echo"), null, id.toUpperCase(), ALICE).id()).isEqualTo(id);
        assertThatThrownBy(() -> service.submit(request("echo other"), null, id, ALICE)).isInstanceOf(TaskConflictException.class);
        verify(submitter, never()).submit(anyString());
    }

    @Test
    void a_client_id_another_owner_uses_for_the_same_request_is_a_conflict_not_its_task() {
        String id = UUID.randomUUID().toString();
        String bobs = new NewTask(id, "bob", "echo", "echo", List.of("a"), null, 0, null, 0, null, 0, properties.retention(), Instant.now())
                .withFingerprint().fingerprint();
        when(store.createUnlessExists(any())).thenReturn(Optional.of(bobs));

        assertThatThrownBy(() -> service.submit(request("echo"), null, id, ALICE)).isInstanceOf(TaskConflictException.class);
        verify(store, never()).find(id);
    }

    @Test
    void another_owners_task_is_not_found_for_a_submitter_but_is_for_a_reader() {
        Task bobs = aTask().owner("bob").build();
        when(store.find(bobs.id())).thenReturn(Optional.of(bobs));

        assertThatThrownBy(() -> service.get(bobs.id(), ALICE)).isInstanceOf(TaskNotFoundException.class);
        assertThatThrownBy(() -> service.cancel(bobs.id(), ALICE)).isInstanceOf(TaskNotFoundException.class);
        assertThatThrownBy(() -> service.retryFailed(bobs.id(), ALICE)).isInstanceOf(TaskNotFoundException.class);
        assertThat(service.get(bobs.id(), new Caller("ops", true))).isEqualTo(bobs);
        verify(states, never()).transition(anyString(), any(), org.mockito.ArgumentMatchers.anyInt(), any());
    }

    @Test
    void a_submitter_lists_only_its_own_tasks_and_a_reader_every_task() {
        service.recent(null, null, 20, null, ALICE);
        service.recent(null, null, 20, null, new Caller("ops", true));

        verify(store).recent(null, "alice", 20, null);
        verify(store).recent(null, null, 20, null);
    }

    @Test
    void a_submitter_may_give_up_to_its_roles_highest_priority_and_an_operator_up_to_its_own() {
        MasterTask urgent = new MasterTask("echo", null, List.of("a"), null, null, null, 6, 2);
        MasterTask allowed = new MasterTask("echo", null, List.of("a"), null, null, null, 5, 2);

        assertThatThrownBy(() -> service.submit(urgent, null, ALICE)).isInstanceOf(InvalidTaskException.class)
                .hasMessageContaining("priority").hasMessageContaining("at most 5 for a submitter (scheduler.max-priority.submitter)");
        verify(store, never()).create(any());

        assertThat(service.submit(allowed, null, ALICE).definition()).extracting(TaskDefinition::priority, TaskDefinition::maxParallel)
                .containsExactly(5, 2);
        assertThat(service.submit(urgent, null, new Caller("ops", true)).definition().priority()).isEqualTo(6);
    }

    @Test
    void a_client_id_that_is_not_a_uuid_never_reaches_the_store() {
        assertThatThrownBy(() -> service.submit(request("echo"), null, "task:{x}", ALICE)).isInstanceOf(InvalidTaskException.class);
        verify(store, never()).createUnlessExists(any());
    }
}
