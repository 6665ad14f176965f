package io.dts.scheduler.task.domain;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

import io.dts.model.ItemResult;
import io.dts.model.MasterTask;
import io.dts.model.TaskStatus;
import io.dts.scheduler.config.SchedulerProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Accepts tasks (validate, render, save, hand to the submitter) and answers questions about them. */
@Service
public class TaskService {

    private static final Logger log = LoggerFactory.getLogger(TaskService.class);

    private final TaskStore store;
    private final TaskSubmitter submitter;
    private final SchedulerProperties properties;
    private final TemplateRenderer renderer;
    private final JsonMapper json;
    private final Clock clock;

    public TaskService(TaskStore store, TaskSubmitter submitter, SchedulerProperties properties, JsonMapper json, Clock clock) {
        this.store = store;
        this.submitter = submitter;
        this.properties = properties;
        this.renderer = new TemplateRenderer(json);
        this.json = json;
        this.clock = clock;
    }

    /**
     * Saves the task as {@code QUEUED} and starts publishing it. With an idempotency key already used
     * for the same request, returns the task it was used for instead of creating another.
     */
    public Task submit(MasterTask request, String idempotencyKey) {
        return submit(request, idempotencyKey, null);
    }

    /**
     * As {@link #submit(MasterTask, String)}, and {@code clientTaskId}, when not {@code null}, becomes the
     * task's id (the original client chooses its own): sent again with the same request it returns that
     * task, so a retry is safe; with another request, or naming a task it did not create, it is a conflict.
     */
    public Task submit(MasterTask request, String idempotencyKey, String clientTaskId) {
        NewTask task = accept(request, clientTaskId == null ? UUID.randomUUID().toString() : clientTaskId);
        RequestClaim claim = new RequestClaim(task.id(), task.fingerprint());
        // Claims this request made, undone if it ends without a task of its own.
        Deque<Runnable> releases = new ArrayDeque<>();
        try {
            if (idempotencyKey != null) {
                Optional<RequestClaim> earlier = store.claimIdempotencyKey(idempotencyKey, claim, properties.idempotencyRetention());
                if (earlier.isPresent()) {
                    log.info("Task {} returned again for a reused Idempotency-Key", earlier.get().taskId());
                    return earlierTask(earlier.get(), claim, () -> new RequestMismatchException("The Idempotency-Key was used for task "
                            + earlier.get().taskId() + " with another request; use a new key for a new task."));
                }
                releases.push(() -> store.releaseIdempotencyKey(idempotencyKey));
            }
            if (clientTaskId != null) {
                Optional<RequestClaim> earlier = store.claimClientTaskId(claim, properties.retention());
                if (earlier.isPresent()) {
                    Task same = earlierTask(earlier.get(), claim, () -> new TaskConflictException("Task " + clientTaskId
                            + " exists with another request; send a new id for a new task."));
                    releases.clear(); // an Idempotency-Key claimed above names this same task
                    return same;
                }
                releases.push(() -> store.releaseClientTaskId(clientTaskId));
                if (store.find(clientTaskId).isPresent()) {
                    throw new TaskConflictException("Task " + clientTaskId + " exists already; send a new id for a new task.");
                }
            }
            store.create(task);
            releases.clear();
        } finally {
            releases.forEach(TaskService::quietly);
        }
        log.info("Task {} accepted: {} items", task.id(), task.itemsTotal());
        submitter.submit(task.id());
        return Task.queued(task);
    }

    /** The task an earlier claim made, if this is the same request; a request still being saved is a conflict to retry. */
    private Task earlierTask(RequestClaim earlier, RequestClaim claim, Supplier<RuntimeException> mismatch) {
        if (!earlier.sameRequestAs(claim)) {
            throw mismatch.get();
        }
        return store.find(earlier.taskId()).orElseThrow(() -> new TaskConflictException(
                "The same request for task " + earlier.taskId() + " is still being saved; retry in a moment."));
    }

    private static void quietly(Runnable release) {
        try {
            release.run();
        } catch (RuntimeException e) {
            // It expires with its retention; until then the same request is answered as still being saved.
            log.warn("Could not release a request claim: {}", e.getMessage());
        }
    }

    /** Stops a task: workers kill its running processes and start none of its remaining items. */
    public Task cancel(String taskId) {
        Task task = get(taskId);
        if (!store.transition(taskId, TaskStatus.CANCELLED, task.attempts(), null)) {
            throw new TaskConflictException("Task " + taskId + " is already " + get(taskId).status()
                    + "; a finished task cannot be cancelled.");
        }
        log.info("Task {} cancelled", taskId);
        return get(taskId);
    }

    /** Runs the failed and timed-out items of a FAILED task again, as the same task. */
    public Task retryFailed(String taskId) {
        Task task = get(taskId);
        if (task.status() != TaskStatus.FAILED || !store.reopenFailed(taskId)) {
            throw new TaskConflictException("Task " + taskId + " is " + task.status()
                    + "; only a FAILED task can retry its failed items.");
        }
        log.info("Task {} queued again for its {} failed items", taskId, task.itemsFailed());
        submitter.submit(taskId);
        return get(taskId);
    }

    public Task get(String taskId) {
        return store.find(taskId).orElseThrow(() -> new TaskNotFoundException(taskId));
    }

    public List<Task> recent(TaskStatus status, int limit) {
        return store.recent(status, Math.max(1, Math.min(limit, properties.maxResultsPage())));
    }

    public List<ItemResult> results(String taskId, long offset, int limit) {
        get(taskId);
        if (offset < 0 || limit < 1) {
            throw new InvalidTaskException(offset < 0 ? "offset" : "limit", "must be positive");
        }
        return store.results(taskId, offset, Math.min(limit, properties.maxResultsPage()));
    }

    private NewTask accept(MasterTask request, String id) {
        String command = renderer.render(request.templateFunction(), request.variableJson());
        List<String> items = items(request.inputList());
        return new NewTask(id, request.templateFunction(), command, items,
                request.timeoutSeconds() == null ? 0 : request.timeoutSeconds(),
                request.maxRetries() == null ? 0 : request.maxRetries(), properties.retention(), clock.instant());
    }

    /** Strings pass as-is, any other JSON value as its compact JSON text. */
    private List<String> items(List<JsonNode> inputList) {
        if (inputList == null) {
            return List.of();
        }
        if (inputList.size() > properties.maxItems()) {
            throw new PayloadTooLargeException("inputList has " + inputList.size() + " items; the limit is "
                    + properties.maxItems() + " (scheduler.max-items). Split the work into several tasks.");
        }
        long maxBytes = properties.maxItemSize().toBytes();
        List<String> items = new ArrayList<>(inputList.size());
        for (int i = 0; i < inputList.size(); i++) {
            JsonNode node = inputList.get(i);
            String item = node.isString() ? node.stringValue() : json.writeValueAsString(node);
            int bytes = item.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > maxBytes) {
                throw new PayloadTooLargeException("inputList[" + i + "] is " + bytes + " bytes; the limit is " + maxBytes
                        + " (scheduler.max-item-size). Pass large data by path instead.");
            }
            items.add(item);
        }
        return items;
    }
}
