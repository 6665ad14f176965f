package io.dts.scheduler.task.domain;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import io.dts.model.ItemPlaceholder;
import io.dts.model.MasterTask;
import io.dts.model.TaskStatus;
import io.dts.scheduler.config.SchedulerProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Accepts tasks (validate, render, save, hand to the submitter) and answers questions about them. */
@Service
public class TaskService {

    private static final Logger log = LoggerFactory.getLogger(TaskService.class);
    /** Deepest JSON nesting of variableJson or of one item: no command needs more, and a deep tree costs stack to write out. */
    static final int MAX_JSON_DEPTH = 32;
    private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[\\x21-\\x7E]{1,255}");

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
        this.renderer = new TemplateRenderer(json, properties.maxCommandSize().toBytes());
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
        if (idempotencyKey != null && !IDEMPOTENCY_KEY.matcher(idempotencyKey).matches()) {
            throw new InvalidTaskException("Idempotency-Key", "must be 1 to 255 visible ASCII characters, like a UUID");
        }
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
        if (!TaskIds.isValid(taskId)) {
            throw new TaskNotFoundException(taskId);
        }
        return store.find(taskId).orElseThrow(() -> new TaskNotFoundException(taskId));
    }

    public List<TaskSummary> recent(TaskStatus status, int limit) {
        return store.recent(status, Math.max(1, Math.min(limit, properties.maxResultsPage())));
    }

    /** A page of results, at most {@code scheduler.max-results-page} of them and about {@code scheduler.max-results-page-size} bytes. */
    public ResultsPage results(String taskId, long offset, int limit) {
        get(taskId);
        if (offset < 0 || limit < 1) {
            throw new InvalidTaskException(offset < 0 ? "offset" : "limit", offset < 0 ? "must be 0 or more" : "must be 1 or more");
        }
        return store.results(taskId, offset, Math.min(limit, properties.maxResultsPage()), properties.maxResultsPageSize().toBytes());
    }

    private NewTask accept(MasterTask request, String id) {
        String template = request.templateFunction();
        checkSize("templateFunction", ItemPlaceholder.utf8Bytes(template), properties.maxTemplateSize(), "scheduler.max-template-size");
        if (template.indexOf('\0') >= 0) {
            throw new InvalidTaskException("templateFunction", "holds a NUL byte (\\u0000), which no bash command can hold");
        }
        if (request.variableJson() != null) {
            checkDepth("variableJson", request.variableJson());
            String variables = request.variableJson().isString() ? request.variableJson().stringValue() : json.writeValueAsString(request.variableJson());
            checkSize("variableJson", ItemPlaceholder.utf8Bytes(variables), properties.maxVariablesSize(), "scheduler.max-variables-size");
        }
        String command = renderer.render(template, request.variableJson());
        List<String> items = items(request.inputList());
        checkItemsFit(command, items);
        return new NewTask(id, template, command, items,
                request.timeoutSeconds() == null ? 0 : request.timeoutSeconds(),
                request.maxRetries() == null ? 0 : request.maxRetries(), properties.retention(), clock.instant());
    }

    private static void checkDepth(String field, JsonNode node) {
        Deque<JsonNode> level = new ArrayDeque<>(List.of(node));
        for (int depth = 0; !level.isEmpty(); depth++) {
            if (depth > MAX_JSON_DEPTH) {
                throw new InvalidTaskException(field, "is nested deeper than " + MAX_JSON_DEPTH + " levels");
            }
            Deque<JsonNode> next = new ArrayDeque<>();
            level.forEach(n -> n.values().forEach(next::add));
            level = next;
        }
    }

    private static void checkSize(String field, long bytes, DataSize limit, String property) {
        if (bytes > limit.toBytes()) {
            throw new PayloadTooLargeException(field + " is " + bytes + " bytes; the limit is " + limit.toBytes() + " (" + property + ").");
        }
    }

    /** Every item must fit the command once {{item}} holds it, shell-quoted, wherever it appears: else it could never run. */
    private void checkItemsFit(String command, List<String> items) {
        if (ItemPlaceholder.occurrences(command) == 0) {
            return;
        }
        long max = properties.maxCommandSize().toBytes();
        for (int i = 0; i < items.size(); i++) {
            long bytes = ItemPlaceholder.expandedBytes(command, items.get(i));
            if (bytes > max) {
                throw new PayloadTooLargeException("inputList[" + i + "] makes the command " + bytes + " bytes once {{item}} ("
                        + ItemPlaceholder.occurrences(command) + " times in the command) holds it; the limit is " + max
                        + " (scheduler.max-command-size). Use \"$1\" instead of {{item}}, or pass large data by path.");
            }
        }
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
            checkDepth("inputList[" + i + "]", node);
            String item = node.isString() ? node.stringValue() : json.writeValueAsString(node);
            long bytes = ItemPlaceholder.utf8Bytes(item);
            if (bytes > maxBytes) {
                throw new PayloadTooLargeException("inputList[" + i + "] is " + bytes + " bytes; the limit is " + maxBytes
                        + " (scheduler.max-item-size). Pass large data by path instead.");
            }
            if (item.indexOf('\0') >= 0) {
                throw new InvalidTaskException("inputList[" + i + "]", "holds a NUL byte (\\u0000), which bash cannot pass as an argument");
            }
            items.add(item);
        }
        return items;
    }
}
