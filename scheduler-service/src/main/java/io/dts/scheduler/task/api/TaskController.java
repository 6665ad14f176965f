package io.dts.scheduler.task.api;

import java.net.URI;
import java.util.List;

import io.dts.model.ItemResult;
import io.dts.model.MasterTask;
import io.dts.model.TaskStatus;
import io.dts.scheduler.task.domain.Caller;
import io.dts.scheduler.task.domain.ResultsPage;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.task.domain.TaskService;
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

/** The task API: submit, read, list, and read per-item results, each as the {@link Caller} may. */
@RestController
@RequestMapping("/api/tasks")
public class TaskController {

    static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private final TaskService tasks;

    public TaskController(TaskService tasks) {
        this.tasks = tasks;
    }

    @PostMapping(consumes = "application/json")
    public ResponseEntity<TaskView> submit(@Valid @RequestBody MasterTask request,
                                           @RequestHeader(name = IDEMPOTENCY_KEY, required = false) String idempotencyKey,
                                           Caller caller) {
        return accepted(tasks.submit(request, idempotencyKey, caller));
    }

    static ResponseEntity<TaskView> accepted(Task task) {
        return ResponseEntity.accepted().location(URI.create("/api/tasks/" + task.id())).body(TaskView.of(task));
    }

    @GetMapping("/{id}")
    public TaskView get(@PathVariable String id, Caller caller) {
        return TaskView.of(tasks.get(id, caller));
    }

    @GetMapping
    public List<TaskView> recent(@RequestParam(required = false) TaskStatus status,
                                 @RequestParam(defaultValue = "20") int limit, Caller caller) {
        return tasks.recent(status, limit, caller).stream().map(TaskView::of).toList();
    }

    @PostMapping("/{id}/cancel")
    public TaskView cancel(@PathVariable String id, Caller caller) {
        return TaskView.of(tasks.cancel(id, caller));
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
