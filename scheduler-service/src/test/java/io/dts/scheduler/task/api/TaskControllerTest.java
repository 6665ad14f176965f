package io.dts.scheduler.task.api;

import static io.dts.scheduler.task.domain.Tasks.aTask;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasItem;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.doThrow;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import io.dts.model.TaskStatus;
import io.dts.scheduler.config.ClockConfig;
import io.dts.scheduler.config.PubsubProperties;
import io.dts.scheduler.config.RequestReadingConfig;
import io.dts.scheduler.config.SchedulerProperties;
import io.dts.scheduler.security.DtsSecurityProperties;
import io.dts.scheduler.task.events.EventStreamProperties;
import io.dts.scheduler.security.SecurityConfig;
import io.dts.scheduler.task.domain.NewTask;
import io.dts.scheduler.task.domain.OwnerTasks;
import io.dts.scheduler.task.domain.RequestClaim;
import io.dts.scheduler.task.domain.TaskService;
import io.dts.scheduler.task.domain.TemplateRenderer;
import io.dts.scheduler.task.domain.IdempotencyKeys;
import io.dts.scheduler.task.domain.TaskResults;
import io.dts.scheduler.task.domain.TaskStates;
import io.dts.scheduler.task.domain.TaskStore;
import io.dts.scheduler.task.domain.TaskSubmitter;
import io.dts.scheduler.worker.WorkerDirectory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.http.MediaType;
import org.springframework.test.context.bean.override.mockito.MockitoBean;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.ResultActions;

/**
 * Every bad input gets its own 4xx/503 problem+json, and nothing is saved for it. Who may send what is
 * SecurityConfigTest's: here every request is the operator of {@code dts.security.mode=off}.
 */
@WebMvcTest(properties = {"scheduler.max-request-size=2KB", "scheduler.max-items=5", "scheduler.max-item-size=16B",
        "dts.security.mode=off", "server.address=127.0.0.1"})
@Import({TaskService.class, TemplateRenderer.class, ClockConfig.class, RequestReadingConfig.class, SecurityConfig.class,
        TaskControllerTest.Properties.class})
class TaskControllerTest {

    @EnableConfigurationProperties({SchedulerProperties.class, PubsubProperties.class, DtsSecurityProperties.class,
            EventStreamProperties.class})
    static class Properties {
    }

    @Autowired
    MockMvc mvc;
    @MockitoBean
    TaskStore store;
    @MockitoBean
    TaskStates states;
    @MockitoBean
    TaskResults results;
    @MockitoBean
    IdempotencyKeys idempotencyKeys;
    @MockitoBean
    TaskSubmitter submitter;
    @MockitoBean
    WorkerDirectory workers;
    @MockitoBean
    OwnerTasks ownerTasks;

    private final AtomicReference<NewTask> saved = new AtomicReference<>();

    @BeforeEach
    void storeKeepsTheSavedTask() {
        when(ownerTasks.claim(anyString(), anyString(), org.mockito.ArgumentMatchers.anyInt())).thenReturn(true);
        org.mockito.Mockito.doAnswer(call -> {
            saved.set(call.getArgument(0));
            return null;
        }).when(store).create(any());
        org.mockito.Mockito.doAnswer(call -> {
            saved.set(call.getArgument(0));
            return Optional.empty();
        }).when(store).createUnlessExists(any());
        when(store.find(anyString())).thenAnswer(call -> Optional.ofNullable(saved.get())
                .filter(t -> t.id().equals(call.getArgument(0)))
                .map(t -> aTask().id(t.id()).build()));
    }

    private ResultActions submit(String body) throws Exception {
        return mvc.perform(post("/api/tasks").contentType(MediaType.APPLICATION_JSON).content(body));
    }

    private void assertNothingSaved() {
        verify(store, never()).create(any());
        verify(store, never()).createUnlessExists(any());
        verify(submitter, never()).submit(any());
    }

    @Test
    void accepts_a_valid_task_with_202_its_location_and_the_rendered_command() throws Exception {
        submit("""
                {"templateFunction":"echo {{greeting}} $1","variableJson":"{\\"greeting\\":\\"hi\\"}","inputList":["a","b",3]}
                """)
                .andExpect(status().isAccepted())
                .andExpect(header().string("Location", containsString("/api/tasks/")))
                .andExpect(jsonPath("$.status").value("QUEUED"))
                .andExpect(jsonPath("$.command").value("echo hi $1"))
                .andExpect(jsonPath("$.itemsTotal").value(3));
        verify(submitter).submit(saved.get().id());
        org.assertj.core.api.Assertions.assertThat(saved.get().items()).containsExactly("a", "b", "3");
    }

    @Test
    void variable_json_may_be_an_object_and_input_list_may_be_absent() throws Exception {
        submit("""
                {"templateFunction":"echo {{n}}","variableJson":{"n":42}}
                """)
                .andExpect(status().isAccepted())
                .andExpect(jsonPath("$.command").value("echo 42"))
                .andExpect(jsonPath("$.itemsTotal").value(1));
    }

    @Test
    void malformed_json_is_a_400_problem() throws Exception {
        submit("{\"templateFunction\": \"echo\",")
                .andExpect(status().isBadRequest())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.title").value("Malformed JSON"));
        assertNothingSaved();
    }

    @Test
    void a_timeout_of_zero_or_less_is_a_400_not_the_none_it_is_stored_as() throws Exception {
        for (String timeout : new String[] {"0", "-1"}) {
            submit("{\"templateFunction\":\"echo\",\"timeoutSeconds\":" + timeout + "}")
                    .andExpect(status().isBadRequest())
                    .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                    .andExpect(jsonPath("$.errors[0].field").value("timeoutSeconds"));
        }
        assertNothingSaved();
    }

    @Test
    void a_priority_outside_0_to_9_or_a_max_parallel_outside_1_to_100000_is_a_400_naming_the_field() throws Exception {
        for (String field : new String[] {"\"priority\":-1", "\"priority\":10", "\"maxParallel\":0", "\"maxParallel\":100001"}) {
            submit("{\"templateFunction\":\"echo\"," + field + "}")
                    .andExpect(status().isBadRequest())
                    .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                    .andExpect(jsonPath("$.errors[0].field").value(field.substring(1, field.indexOf('"', 1))));
        }
        assertNothingSaved();
    }

    @Test
    void a_priority_and_a_max_parallel_are_saved_with_the_task() throws Exception {
        submit("{\"templateFunction\":\"echo\",\"priority\":9,\"maxParallel\":100000}").andExpect(status().isAccepted());

        org.assertj.core.api.Assertions.assertThat(saved.get()).extracting(NewTask::priority, NewTask::maxParallel).containsExactly(9, 100_000);
    }

    @Test
    void a_submit_over_the_owners_unfinished_tasks_is_a_429_naming_the_limit_and_saves_nothing() throws Exception {
        when(ownerTasks.claim(anyString(), anyString(), org.mockito.ArgumentMatchers.anyInt())).thenReturn(false);

        submit("{\"templateFunction\":\"echo\"}")
                .andExpect(status().isTooManyRequests())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(header().string("Retry-After", "5"))
                .andExpect(jsonPath("$.detail").value(containsString("scheduler.owner-limits.unfinished-tasks")));
        assertNothingSaved();
    }

    @Test
    void a_wrong_type_is_a_400_naming_the_field() throws Exception {
        submit("{\"templateFunction\":\"echo\",\"timeoutSeconds\":\"soon\"}")
                .andExpect(status().isBadRequest())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.errors[0].field").value("timeoutSeconds"));
        submit("{\"templateFunction\":\"echo\",\"inputList\":\"a.png\"}")
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("inputList"));
        assertNothingSaved();
    }

    @Test
    void a_missing_or_blank_template_is_a_400_naming_the_field() throws Exception {
        submit("{\"inputList\":[\"a\"]}")
                .andExpect(status().isBadRequest())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.errors[*].field", hasItem("templateFunction")));
        submit("{\"templateFunction\":\"   \"}").andExpect(status().isBadRequest());
        assertNothingSaved();
    }

    @Test
    void a_placeholder_without_a_value_is_a_400_at_submit_time() throws Exception {
        submit("{\"templateFunction\":\"cp {{src}} {{dst}}\",\"variableJson\":{\"src\":\"/a\"}}")
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("variableJson"))
                .andExpect(jsonPath("$.detail", containsString("{{dst}}")));
        assertNothingSaved();
    }

    @Test
    void variable_json_that_is_not_an_object_is_a_400() throws Exception {
        submit("{\"templateFunction\":\"echo\",\"variableJson\":\"[1,2]\"}")
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.detail", containsString("must be a JSON object")));
        assertNothingSaved();
    }

    @Test
    void an_unknown_field_is_a_400_naming_it() throws Exception {
        submit("{\"templateFunction\":\"echo\",\"inputlist\":[\"a\"]}")
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.title").value("Unknown field"))
                .andExpect(jsonPath("$.errors[0].field").value("inputlist"));
        assertNothingSaved();
    }

    @Test
    void a_body_over_the_limit_is_a_413() throws Exception {
        submit("{\"templateFunction\":\"echo " + "x".repeat(3000) + "\"}")
                .andExpect(status().isPayloadTooLarge())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.detail", containsString("scheduler.max-request-size")));
        assertNothingSaved();
    }

    @Test
    void too_many_items_or_an_item_too_large_is_a_413() throws Exception {
        submit("{\"templateFunction\":\"echo\",\"inputList\":[1,2,3,4,5,6]}")
                .andExpect(status().isPayloadTooLarge())
                .andExpect(jsonPath("$.detail", containsString("scheduler.max-items")));
        submit("{\"templateFunction\":\"echo\",\"inputList\":[\"" + "y".repeat(17) + "\"]}")
                .andExpect(status().isPayloadTooLarge())
                .andExpect(jsonPath("$.detail", containsString("inputList[0]")));
        assertNothingSaved();
    }

    @Test
    void an_unknown_task_id_is_a_404_problem() throws Exception {
        String unknown = java.util.UUID.randomUUID().toString();
        mvc.perform(get("/api/tasks/" + unknown))
                .andExpect(status().isNotFound())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.detail", containsString(unknown)));
        mvc.perform(get("/api/tasks/nope"))
                .andExpect(status().isNotFound())
                .andExpect(jsonPath("$.detail", containsString("task ids are UUIDs")));
        verify(store, never()).find("nope");
        mvc.perform(get("/api/tasks/nope/results")).andExpect(status().isNotFound());
        mvc.perform(get("/schedule/status").param("taskId", "nope")).andExpect(status().isNotFound());
    }

    @Test
    void a_listing_cursor_that_was_not_given_and_an_export_format_that_does_not_exist_are_400s_naming_them() throws Exception {
        mvc.perform(get("/api/tasks").param("cursor", "1:../../etc"))
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("cursor"));
        mvc.perform(get("/api/tasks/" + java.util.UUID.randomUUID() + "/results").param("format", "xml"))
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("format"));
    }

    @Test
    void redis_unreachable_is_a_503_problem_and_saves_nothing() throws Exception {
        doThrow(new RedisConnectionFailureException("Unable to connect to Redis")).when(store).create(any());

        submit("{\"templateFunction\":\"echo\"}")
                .andExpect(status().isServiceUnavailable())
                .andExpect(header().string("Retry-After", "2"))
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.detail", containsString("Redis")));
        verify(submitter, never()).submit(any());
    }

    @Test
    void the_original_create_path_takes_form_encoded_tasks() throws Exception {
        mvc.perform(post("/schedule/create").contentType(MediaType.APPLICATION_FORM_URLENCODED)
                        .param("templateFunction", "echo {{w}} $1")
                        .param("variableJson", "{\"w\":\"x\"}")
                        .param("inputList", "a").param("inputList", "b"))
                .andExpect(status().isAccepted())
                .andExpect(jsonPath("$.command").value("echo x $1"))
                .andExpect(jsonPath("$.itemsTotal").value(2));
        mvc.perform(post("/schedule/create").contentType(MediaType.APPLICATION_FORM_URLENCODED)
                        .param("templateFunction", "echo").param("inputList", "[\"a\",\"b\",\"c\"]"))
                .andExpect(status().isAccepted())
                .andExpect(jsonPath("$.itemsTotal").value(3));
    }

    @Test
    void the_original_create_path_refuses_unknown_form_fields_and_blank_templates() throws Exception {
        mvc.perform(post("/schedule/create").contentType(MediaType.APPLICATION_FORM_URLENCODED)
                        .param("templateFunction", "echo").param("bogus", "1"))
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("bogus"));
        mvc.perform(post("/schedule/create").contentType(MediaType.APPLICATION_FORM_URLENCODED).param("inputList", "a"))
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("templateFunction"));
        assertNothingSaved();
    }

    @Test
    void the_original_status_and_ping_paths_answer() throws Exception {
        String location = submit("{\"templateFunction\":\"echo\"}").andReturn().getResponse().getHeader("Location");
        String id = location.substring(location.lastIndexOf('/') + 1);

        mvc.perform(get("/schedule/status").param("taskId", id))
                .andExpect(status().isOk()).andExpect(jsonPath("$.id").value(id));
        mvc.perform(get("/schedule/ping")).andExpect(status().isOk()).andExpect(jsonPath("$.status").value("pong"));
    }

    @Test
    void an_unsupported_media_type_is_a_415_problem() throws Exception {
        mvc.perform(post("/api/tasks").contentType(MediaType.TEXT_PLAIN).content("echo"))
                .andExpect(status().isUnsupportedMediaType())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON));
    }

    @Test
    void cancelling_a_finished_task_is_a_409_problem() throws Exception {
        String location = submit("{\"templateFunction\":\"echo\"}").andReturn().getResponse().getHeader("Location");
        String id = location.substring(location.lastIndexOf('/') + 1);
        when(states.transition(org.mockito.ArgumentMatchers.eq(id), org.mockito.ArgumentMatchers.eq(TaskStatus.CANCELLED),
                org.mockito.ArgumentMatchers.anyInt(), org.mockito.ArgumentMatchers.any())).thenReturn(false);

        mvc.perform(post("/api/tasks/" + id + "/cancel"))
                .andExpect(status().isConflict())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.detail", containsString("cannot be cancelled")));
        mvc.perform(post("/api/tasks/" + id + "/retry-failed"))
                .andExpect(status().isConflict())
                .andExpect(jsonPath("$.detail", containsString("only a FAILED task")));
    }

    @Test
    void an_idempotency_key_reused_with_another_body_is_a_422_and_saves_nothing() throws Exception {
        when(idempotencyKeys.claim(any(), org.mockito.ArgumentMatchers.eq("key-1"), any(), any()))
                .thenReturn(Optional.of(new RequestClaim("earlier-task", "fingerprint-of-another-body")));

        mvc.perform(post("/api/tasks").header("Idempotency-Key", "key-1").contentType(MediaType.APPLICATION_JSON)
                        .content("{\"templateFunction\":\"echo\"}"))
                .andExpect(status().isUnprocessableContent())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.detail", containsString("earlier-task")));
        assertNothingSaved();
    }

    @Test
    void the_original_create_path_takes_the_seed_master_task_as_json_under_its_own_id() throws Exception {
        String id = java.util.UUID.randomUUID().toString();

        mvc.perform(post("/schedule/create").contentType(MediaType.APPLICATION_JSON).content("""
                        {"id":"%s","templateFunction":"echo $1","inputList":["a"],"status":"COMPLETED","chunksToExecute":9,"chunksExecuted":9}
                        """.formatted(id)))
                .andExpect(status().isAccepted())
                .andExpect(header().string("Location", "/api/tasks/" + id))
                .andExpect(jsonPath("$.id").value(id))
                .andExpect(jsonPath("$.status").value("QUEUED"))
                .andExpect(jsonPath("$.chunksToExecute").value(0));
        org.assertj.core.api.Assertions.assertThat(saved.get().id()).isEqualTo(id);
    }

    @Test
    void the_original_create_path_is_as_strict_as_the_api_about_everything_but_the_seed_fields() throws Exception {
        mvc.perform(post("/schedule/create").contentType(MediaType.APPLICATION_JSON)
                        .content("{\"id\":\"not-a-uuid\",\"templateFunction\":\"echo\"}"))
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("id"));
        mvc.perform(post("/schedule/create").contentType(MediaType.APPLICATION_JSON)
                        .content("{\"templateFunction\":\"echo\",\"timeoutSeconds\":\"soon\"}"))
                .andExpect(status().isBadRequest())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.errors[0].field").value("timeoutSeconds"));
        mvc.perform(post("/schedule/create").contentType(MediaType.APPLICATION_JSON).content("{\"templateFunction\":\"echo\",\"bogus\":1}"))
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("bogus"));
        mvc.perform(post("/schedule/create").contentType(MediaType.APPLICATION_JSON).content("{\"templateFunction\":\" \"}"))
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("templateFunction"));
        assertNothingSaved();
    }

    @Test
    void a_key_given_twice_or_a_scalar_of_another_type_is_a_400_and_saves_nothing() throws Exception {
        submit("{\"templateFunction\":\"true\",\"templateFunction\":\"rm -rf /\"}")
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.detail", containsString("templateFunction")));
        submit("{\"templateFunction\":\"true\",\"timeoutSeconds\":\"60\"}")
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("timeoutSeconds"));
        submit("{\"templateFunction\":\"true\",\"maxRetries\":1.5}")
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.errors[0].field").value("maxRetries"));
        assertNothingSaved();
    }
}
