package io.dts.scheduler.security;

import static io.dts.scheduler.task.domain.Tasks.aTask;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.ArgumentMatchers.isNull;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.delete;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.List;

import io.dts.scheduler.config.SchedulerProperties;
import io.dts.scheduler.task.api.ScheduleAliasController;
import io.dts.scheduler.task.api.TaskController;
import io.dts.scheduler.task.domain.Caller;
import io.dts.scheduler.task.domain.TaskPage;
import io.dts.scheduler.task.domain.TaskService;
import io.dts.scheduler.worker.WorkerController;
import io.dts.scheduler.worker.WorkerDirectory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoBean;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.request.MockHttpServletRequestBuilder;

/** The rules of token mode, role by role, over the real controllers and a real keys file. */
@WebMvcTest({TaskController.class, ScheduleAliasController.class, WorkerController.class})
@Import({SecurityConfig.class, SecurityConfigTest.Properties.class})
class SecurityConfigTest {

    @EnableConfigurationProperties({SchedulerProperties.class, DtsSecurityProperties.class})
    static class Properties {
    }

    private static final String READER = "reader-token-0123456789";
    private static final String ALICE = "alice-token-0123456789";
    private static final String OPERATOR = "operator-token-0123456789";
    private static final Path KEYS = keysFile("""
            # name role sha256-of-token
            ann reader %s

            alice submitter %s
            ops operator %s
            """.formatted(sha256(READER), sha256(ALICE), sha256(OPERATOR)));

    @DynamicPropertySource
    static void keys(DynamicPropertyRegistry registry) {
        registry.add("dts.security.keys-file", KEYS::toString);
    }

    @Autowired
    MockMvc mvc;
    @MockitoBean
    TaskService tasks;
    @MockitoBean
    WorkerDirectory workers;

    @BeforeEach
    void anEmptyListing() {
        when(tasks.recent(any(), any(), anyInt(), any(), any())).thenReturn(new TaskPage(List.of(), null));
    }

    private static MockHttpServletRequestBuilder as(String token, MockHttpServletRequestBuilder request) {
        return request.header(HttpHeaders.AUTHORIZATION, "Bearer " + token);
    }

    private static MockHttpServletRequestBuilder submit() {
        return post("/api/tasks").contentType(MediaType.APPLICATION_JSON).content("{\"templateFunction\":\"echo hi\"}");
    }

    @Test
    void no_token_is_a_401_problem_with_a_bearer_challenge_and_reaches_no_controller() throws Exception {
        for (MockHttpServletRequestBuilder request : List.of(get("/api/tasks"), submit(), get("/api/workers"), get("/v3/api-docs"),
                get("/.well-known/oauth-protected-resource"),
                post("/schedule/create").contentType(MediaType.APPLICATION_FORM_URLENCODED).content("templateFunction=id"))) {
            mvc.perform(request)
                    .andExpect(status().isUnauthorized())
                    .andExpect(header().string(HttpHeaders.WWW_AUTHENTICATE, startsWith("Bearer")))
                    .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                    .andExpect(jsonPath("$.detail", containsString("Authorization: Bearer")));
        }
        verify(tasks, never()).submit(any(), any(), any());
        verify(tasks, never()).submit(any(), any(), any(), any());
        verify(tasks, never()).recent(any(), any(), anyInt(), any(), any());
    }

    @Test
    void an_unknown_token_or_another_scheme_is_a_401() throws Exception {
        mvc.perform(as("not-a-key", get("/api/tasks")))
                .andExpect(status().isUnauthorized())
                .andExpect(header().string(HttpHeaders.WWW_AUTHENTICATE, containsString("invalid_token")))
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON));
        mvc.perform(get("/api/tasks").header(HttpHeaders.AUTHORIZATION, "Basic b3BzOm9wcw=="))
                .andExpect(status().isUnauthorized());
        // The hash itself is no token.
        mvc.perform(as(sha256(OPERATOR), get("/api/tasks"))).andExpect(status().isUnauthorized());
    }

    @Test
    void ping_and_the_probes_need_no_token() throws Exception {
        mvc.perform(get("/schedule/ping")).andExpect(status().isOk());
        // No actuator in this slice: the probes are let through, to a 404.
        mvc.perform(get("/actuator/health/liveness")).andExpect(status().isNotFound());
        mvc.perform(get("/actuator/health/readiness")).andExpect(status().isNotFound());
    }

    @Test
    void a_reader_makes_every_get_of_tasks_but_cannot_change_anything_or_see_workers_and_metrics() throws Exception {
        mvc.perform(as(READER, get("/api/tasks"))).andExpect(status().isOk());
        verify(tasks).recent(null, null, 20, null, new Caller("ann", true));

        for (MockHttpServletRequestBuilder request : List.of(submit(), post("/api/tasks/x/cancel"), post("/api/tasks/x/retry-failed"),
                post("/schedule/create").contentType(MediaType.APPLICATION_FORM_URLENCODED).content("templateFunction=id"),
                get("/api/workers"), get("/actuator/prometheus"), get("/actuator/env"), delete("/api/tasks/x"))) {
            mvc.perform(as(READER, request))
                    .andExpect(status().isForbidden())
                    .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
                    .andExpect(jsonPath("$.detail", containsString("'ann' (reader) may not")));
        }
        verify(tasks, never()).submit(any(), any(), any());
        verify(tasks, never()).submit(any(), any(), any(), any());
        verify(tasks, never()).cancel(anyString(), any());
    }

    @Test
    void a_submitter_submits_as_itself_and_reads_cancels_and_lists_as_one_that_sees_only_its_own() throws Exception {
        Caller alice = new Caller("alice", false);
        when(tasks.submit(any(), isNull(), eq(alice))).thenReturn(aTask().owner("alice").build());
        when(tasks.submit(any(), isNull(), isNull(), eq(alice))).thenReturn(aTask().owner("alice").build());
        when(tasks.cancel("x", alice)).thenReturn(aTask().owner("alice").build());

        mvc.perform(as(ALICE, submit())).andExpect(status().isAccepted()).andExpect(jsonPath("$.owner").value("alice"));
        mvc.perform(as(ALICE, post("/schedule/create").contentType(MediaType.APPLICATION_FORM_URLENCODED).content("templateFunction=id")))
                .andExpect(status().isAccepted());
        mvc.perform(as(ALICE, get("/api/tasks"))).andExpect(status().isOk());
        mvc.perform(as(ALICE, post("/api/tasks/x/cancel"))).andExpect(status().isOk());
        mvc.perform(as(ALICE, get("/api/workers"))).andExpect(status().isForbidden());

        verify(tasks).submit(any(), isNull(), eq(alice));
        verify(tasks).submit(any(), isNull(), isNull(), eq(alice));
        verify(tasks).recent(null, null, 20, null, alice);
    }

    @Test
    void an_operator_sees_every_task_and_the_workers() throws Exception {
        Caller ops = new Caller("ops", true);
        when(tasks.cancel("x", ops)).thenReturn(aTask().build());

        mvc.perform(as(OPERATOR, get("/api/workers"))).andExpect(status().isOk());
        mvc.perform(as(OPERATOR, post("/api/tasks/x/cancel"))).andExpect(status().isOk());
        mvc.perform(as(OPERATOR, get("/api/tasks?limit=5"))).andExpect(status().isOk());

        verify(tasks).recent(null, null, 5, null, ops);
    }

    @Test
    void a_key_added_to_the_file_works_at_once() throws Exception {
        String token = "new-token-" + System.nanoTime();
        mvc.perform(as(token, get("/api/tasks"))).andExpect(status().isUnauthorized());

        Files.writeString(KEYS, "bob reader " + sha256(token) + "\n", StandardOpenOption.APPEND);

        mvc.perform(as(token, get("/api/tasks"))).andExpect(status().isOk());
    }

    @Test
    void a_path_the_firewall_refuses_is_a_400_problem() throws Exception {
        mvc.perform(as(OPERATOR, get(URI.create("/api/tasks/..%2F.."))))
                .andExpect(status().isBadRequest())
                .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON));
    }

    static String sha256(String token) {
        return HexFormat.of().formatHex(KeysFile.sha256(token));
    }

    private static Path keysFile(String content) {
        try {
            Path file = Files.createTempFile("dts-keys", "");
            file.toFile().deleteOnExit();
            return Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
