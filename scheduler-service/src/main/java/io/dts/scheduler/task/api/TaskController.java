package io.dts.scheduler.task.api;

import java.net.URI;
import java.util.List;
import java.util.Map;

import io.dts.model.ItemResult;
import io.dts.model.MasterTask;
import io.dts.model.TaskStatus;
import io.dts.scheduler.task.domain.Caller;
import io.dts.scheduler.task.domain.ResultsPage;
import io.dts.scheduler.task.domain.TaskPage;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.task.domain.TaskService;
import io.dts.scheduler.worker.WorkerDirectory;
import jakarta.validation.Valid;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriComponentsBuilder;

/** The task API: submit, read, list, and read per-item results, each as the {@link Caller} may. */
@RestController
@RequestMapping("/api/tasks")
public class TaskController {

    static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private final TaskService tasks;
    private final WorkerDirectory workers;

    public TaskController(TaskService tasks, WorkerDirectory workers) {
        this.workers = workers;
        this.tasks = tasks;
    }

    @PostMapping(consumes = "application/json")
    public ResponseEntity<TaskView> submit(@Valid @RequestBody MasterTask request,
                                           @RequestHeader(name = IDEMPOTENCY_KEY, required = false) String idempotencyKey,
                                           Caller caller) {
        return accepted(tasks.submit(request, idempotencyKey, caller));
    }

    static ResponseEntity<TaskView> accepted(Task task) {
        return ResponseEntity.accepted().location(URI.create("/api/tasks/" + task.id())).body(TaskView.accepted(task));
    }

    @GetMapping("/{id}")
    public TaskView get(@PathVariable String id, Caller caller) {
        return TaskView.of(tasks.get(id, caller), workers);
    }

    /** Newest first; when there is more, a {@code Link: <...>; rel="next"} header says where the next page starts. */
    @GetMapping
    public ResponseEntity<List<TaskView>> recent(@RequestParam(required = false) TaskStatus status,
                                                 @RequestParam(required = false) String owner,
                                                 @RequestParam(defaultValue = "20") int limit,
                                                 @RequestParam(required = false) String cursor, Caller caller) {
        TaskPage page = tasks.recent(status, owner, limit, cursor, caller);
        ResponseEntity.BodyBuilder response = ResponseEntity.ok();
        if (page.next() != null) {
            UriComponentsBuilder next = UriComponentsBuilder.fromPath("/api/tasks").queryParam("limit", limit).queryParam("cursor", page.next());
            if (status != null) {
                next.queryParam("status", status);
            }
            if (owner != null) {
                next.queryParam("owner", owner);
            }
            response.header(HttpHeaders.LINK, "<" + next.encode().build().toUriString() + ">; rel=\"next\"");
        }
        return response.body(page.tasks().stream().map(TaskView::of).toList());
    }

    /** How many of the latest tasks (up to 1,000) are in each status, for a dashboard's filters. */
    @GetMapping("/counts")
    public Map<TaskStatus, Long> counts(Caller caller) {
        return tasks.counts(caller);
    }

    @PostMapping("/{id}/cancel")
    public TaskView cancel(@PathVariable String id, Caller caller) {
        return TaskView.of(tasks.cancel(id, caller), workers);
    }

    @PostMapping("/{id}/retry-failed")
    public ResponseEntity<TaskView> retryFailed(@PathVariable String id, Caller caller) {
        return accepted(tasks.retryFailed(id, caller));
    }

    /** A page of results; when the task has items past it, a {@code Link: <...>; rel="next"} header says where to go on. */
    @GetMapping("/{id}/results")
    public ResponseEntity<List<ItemResult>> results(@PathVariable String id,
                                                    @RequestParam(defaultValue = "0") long offset,
                                                    @RequestParam(defaultValue = "100") int limit, Caller caller) {
        ResultsPage page = tasks.results(id, offset, limit, caller);
        ResponseEntity.BodyBuilder response = ResponseEntity.ok();
        if (page.nextOffset() != null) {
            response.header(HttpHeaders.LINK, "</api/tasks/" + id + "/results?offset=" + page.nextOffset() + "&limit=" + limit
                    + ">; rel=\"next\"");
        }
        return response.body(page.results());
    }
}
