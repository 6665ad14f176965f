package io.dts.scheduler.task.domain;

import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import io.dts.model.ItemPlaceholder;
import io.dts.model.ItemResult;
import io.dts.model.MasterTask;
import io.dts.model.TaskStatus;
import io.dts.model.Utf8;
import io.dts.scheduler.config.SchedulerProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.util.unit.DataSize;

/**
 * Accepts tasks (validate, render, save, hand to the submitter) and answers questions about them. Each
 * task belongs to the caller that submitted it; a caller that sees only its own tasks is told another
 * owner's task does not exist.
 */
@Service
public class TaskService {

    private static final Logger log = LoggerFactory.getLogger(TaskService.class);
    private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[\\x21-\\x7E]{1,255}");
    /** How long an Idempotency-Key is held by a request that is saving its task; kept for the retention once saved. */
    private static final Duration CLAIM_WHILE_SAVING = Duration.ofSeconds(60);

    /** {@code <created at, epoch ms>:<task id>}, as a listing's Link header gives it. */
    private static final int COUNTED_TASKS = 1_000;
    private static final Pattern CURSOR = Pattern.compile("\\d{1,15}:[0-9a-f-]{36}");

    private final TaskStore store;
    private final TaskStates states;
    private final TaskResults results;
    private final IdempotencyKeys idempotencyKeys;
    private final TaskSubmitter submitter;
    private final OwnerTasks ownerTasks;
    private final SchedulerProperties properties;
    private final TemplateRenderer renderer;
    private final Clock clock;

    public TaskService(TaskStore store, TaskStates states, TaskResults results, IdempotencyKeys idempotencyKeys, TaskSubmitter submitter, OwnerTasks ownerTasks, SchedulerProperties properties, TemplateRenderer renderer, Clock clock) {
        this.store = store;
        this.states = states;
        this.results = results;
        this.idempotencyKeys = idempotencyKeys;
        this.submitter = submitter;
        this.ownerTasks = ownerTasks;
        this.properties = properties;
        this.renderer = renderer;
        this.clock = clock;
    }

    /**
     * Saves the task as {@code QUEUED}, owned by the caller, and starts publishing it. With an idempotency
     * key the caller already used for the same request, returns the task it was used for instead of
     * creating another.
     */
    public Task submit(MasterTask request, String idempotencyKey, Caller caller) {
        return submit(request, idempotencyKey, null, caller);
    }

    /**
     * As {@link #submit(MasterTask, String, Caller)}, and {@code clientTaskId}, when not {@code null}, becomes
     * the task's id (the original client chooses its own, a UUID): sent again by the same owner with the same
     * request it returns that task, so a retry is safe; with another request, or by another owner, it is a
     * conflict.
     */
    public Task submit(MasterTask request, String idempotencyKey, String clientTaskId, Caller caller) {
        if (idempotencyKey != null && !IDEMPOTENCY_KEY.matcher(idempotencyKey).matches()) {
            throw new InvalidTaskException("Idempotency-Key", "must be 1 to 255 visible ASCII characters, like a UUID");
        }
        if (clientTaskId != null && !TaskIds.isValid(clientTaskId)) {
            throw new InvalidTaskException("id", "must be a UUID, like " + TaskIds.EXAMPLE);
        }
        String id = clientTaskId == null ? UUID.randomUUID().toString() : TaskIds.normalized(clientTaskId);
        NewTask task = accept(request, id, caller);
        if (idempotencyKey == null && clientTaskId == null) {
            countAgainstOwner(task);
            store.create(task);
            return accepted(task);
        }
        task = task.withFingerprint();
        RequestClaim claim = new RequestClaim(task.id(), task.fingerprint());
        if (idempotencyKey != null) {
            // Held briefly while the task is saved; kept for the retention once it is.
            Optional<RequestClaim> earlier = idempotencyKeys.claim(caller.name(), idempotencyKey, claim, CLAIM_WHILE_SAVING);
            if (earlier.isPresent()) {
                return earlierTask(earlier.get(), claim, clientTaskId != null);
            }
        }
        boolean saved = false;
        try {
            Optional<String> existing = Optional.empty();
            countAgainstOwner(task);
            if (clientTaskId == null) {
                store.create(task);
            } else {
                existing = store.createUnlessExists(task);
            }
            if (existing.isPresent()) {
                if (!existing.get().equals(task.fingerprint())) {
                    throw new TaskConflictException("Task " + id + " exists with another request; send a new id for a new task.");
                }
                log.info("Task {} returned again for the same request", id);
                saved = true;
                return get(id, caller);
            }
            saved = true;
        } finally {
            if (idempotencyKey != null) {
                keepOrRelease(caller.name(), idempotencyKey, id, saved);
            }
        }
        return accepted(task);
    }

    /** Over {@code scheduler.owner-limits.unfinished-tasks}, nothing is saved: a 429 naming the limit. */
    private void countAgainstOwner(NewTask task) {
        int limit = properties.ownerLimits().unfinishedTasks();
        if (!ownerTasks.claim(task.owner(), task.id(), limit)) {
            throw new OwnerLimitException(task.owner() + " has " + limit + " tasks not finished, the limit (scheduler.owner-limits.unfinished-tasks); "
                    + "submit again once one of them finishes.");
        }
    }

    private Task accepted(NewTask task) {
        log.info("Task {} accepted for {}: {} items", task.id(), task.owner(), task.itemsTotal());
        submitter.submit(task.id());
        return Task.queued(task);
    }

    /**
     * The task an Idempotency-Key was first used for, when this is the same request; another request is
     * a 422, the same one still being saved a conflict to retry.
     */
    private Task earlierTask(RequestClaim earlier, RequestClaim claim, boolean ownId) {
        // With its own id, the client polls that id: a key that names another task cannot be honoured.
        if (!earlier.sameRequestAs(claim) || ownId && !earlier.taskId().equals(claim.taskId())) {
            throw new RequestMismatchException("The Idempotency-Key was used for task " + earlier.taskId()
                    + " with another request; use a new key for a new task.");
        }
        log.info("Task {} returned again for a reused Idempotency-Key", earlier.taskId());
        return store.find(earlier.taskId()).orElseThrow(() -> new TaskConflictException(
                "The same request for task " + earlier.taskId() + " is still being saved; retry in a moment."));
    }

    /** After a failed save, the task may exist all the same (EXEC committed, its reply lost): look before releasing. */
    private void keepOrRelease(String owner, String idempotencyKey, String taskId, boolean saved) {
        try {
            if (saved || store.find(taskId).isPresent()) {
                idempotencyKeys.keep(owner, idempotencyKey, properties.idempotencyRetention());
            } else {
                idempotencyKeys.release(owner, idempotencyKey);
            }
        } catch (RuntimeException e) {
            // A claim that is not kept expires with CLAIM_WHILE_SAVING; until then a retry is told to wait.
            log.warn("Could not update an Idempotency-Key claim: {}", e.getMessage());
        }
    }

    /** Stops a task: workers kill its running processes and start none of its remaining items. */
    public Task cancel(String taskId, Caller caller) {
        Task task = get(taskId, caller);
        if (!states.transition(taskId, TaskStatus.CANCELLED, task.progress().attempts(), null)) {
            throw new TaskConflictException("Task " + taskId + " is already " + get(taskId, caller).status()
                    + "; a finished task cannot be cancelled.");
        }
        log.info("Task {} cancelled by {}", taskId, caller.name());
        return get(taskId, caller);
    }

    /** Runs the failed and timed-out items of a FAILED task again, as the same task. */
    public Task retryFailed(String taskId, Caller caller) {
        Task task = get(taskId, caller);
        if (task.status() != TaskStatus.FAILED || !states.reopenFailed(taskId)) {
            throw new TaskConflictException("Task " + taskId + " is " + task.status()
                    + "; only a FAILED task can retry its failed items.");
        }
        log.info("Task {} queued again by {} for its {} failed items", taskId, caller.name(), task.progress().itemsFailed());
        submitter.submit(taskId);
        return get(taskId, caller);
    }

    /** The task, when it exists and the caller may see it; otherwise it is not found, whoever owns it. */
    public Task get(String taskId, Caller caller) {
        if (!TaskIds.isValid(taskId)) {
            throw new TaskNotFoundException(taskId);
        }
        return store.find(taskId).filter(caller::sees).orElseThrow(() -> new TaskNotFoundException(taskId));
    }

    /**
     * A page of the tasks the caller may see, newest first, from {@code cursor} (null for the newest); a
     * caller limited to its own tasks gets only those, whatever {@code owner} it asks for.
     */
    public TaskPage recent(TaskStatus status, String owner, int limit, String cursor, Caller caller) {
        if (cursor != null && !CURSOR.matcher(cursor).matches()) {
            throw new InvalidTaskException("cursor", "is the cursor of a listing's Link header, as it was given");
        }
        String shown = caller.ownerShown() != null ? caller.ownerShown() : owner;
        return store.recent(status, shown, Math.max(1, Math.min(limit, properties.maxResultsPage())), cursor);
    }

    /** How many of the latest tasks the caller may see are in each status (those of one listing's reach, up to 1,000). */
    public Map<TaskStatus, Long> counts(Caller caller) {
        Map<TaskStatus, Long> counts = new EnumMap<>(TaskStatus.class);
        store.recent(null, caller.ownerShown(), COUNTED_TASKS, null).tasks()
                .forEach(task -> counts.merge(task.status(), 1L, Long::sum));
        return counts;
    }

    /** Every result of {@code task} (one the caller was allowed to {@link #get}), in index order. */
    public void forEachResult(Task task, Consumer<ItemResult> each) {
        results.forEach(task.id(), task.definition().itemsTotal(), each);
    }

    /** A page of results, at most {@code scheduler.max-results-page} of them and about {@code scheduler.max-results-page-size} bytes. */
    public ResultsPage results(String taskId, long offset, int limit, Caller caller) {
        long itemsTotal = get(taskId, caller).definition().itemsTotal();
        if (offset < 0 || limit < 1) {
            throw new InvalidTaskException(offset < 0 ? "offset" : "limit", offset < 0 ? "must be 0 or more" : "must be 1 or more");
        }
        if (offset >= itemsTotal) {
            return new ResultsPage(List.of(), null);
        }
        int inRange = (int) Math.min(Math.min(limit, properties.maxResultsPage()), itemsTotal - offset);
        ResultsPage page = results.page(taskId, offset, inRange, properties.maxResultsPageSize().toBytes());
        return page.nextOffset() != null && page.nextOffset() < itemsTotal ? page : new ResultsPage(page.results(), null);
    }

    private NewTask accept(MasterTask request, String id, Caller caller) {
        String template = request.templateFunction();
        checkSize("templateFunction", Utf8.length(template), properties.maxTemplateSize(), "scheduler.max-template-size");
        if (template.indexOf('\0') >= 0) {
            throw new InvalidTaskException("templateFunction", "holds a NUL byte (\\u0000), which no bash command can hold");
        }
        if (request.variableJson() != null) {
            String variables = request.variableJson().isString() ? request.variableJson().stringValue() : request.variableJson().toString();
            checkSize("variableJson", Utf8.length(variables), properties.maxVariablesSize(), "scheduler.max-variables-size");
        }
        String command = renderer.render(template, request.variableJson());
        List<String> items = request.inputList() == null ? List.of() : request.inputList();
        // A JSON body was checked item by item while it was read; a form was not.
        properties.inputLimits().checkItems(items);
        checkItemsFit(command, items);
        return new NewTask(id, caller.name(), template, command, items, request.timeoutSeconds(),
                request.maxRetries() == null ? 0 : request.maxRetries(), HaltRules.of(request.halt(), items.isEmpty() ? 1 : items.size()),
                priority(request, caller), request.maxParallel(), properties.ownerLimits().runningItems(), properties.retention(),
                clock.instant());
    }

    /** The request's priority, if the caller's role may use it (scheduler.max-priority.*). */
    private int priority(MasterTask request, Caller caller) {
        int priority = request.priority() == null ? 0 : request.priority();
        // Only submitters and operators submit; an operator sees every task.
        String role = caller.seesEveryTask() ? "operator" : "submitter";
        int allowed = caller.seesEveryTask() ? properties.maxPriority().operator() : properties.maxPriority().submitter();
        if (priority > allowed) {
            throw new InvalidTaskException("priority", "is at most " + allowed + " for a " + role + " (scheduler.max-priority." + role + ")");
        }
        return priority;
    }

    private static void checkSize(String field, long bytes, DataSize limit, String property) {
        if (bytes > limit.toBytes()) {
            throw new PayloadTooLargeException(field + " is " + bytes + " bytes; the limit is " + limit.toBytes() + " (" + property + ").");
        }
    }

    /** Every item must fit the command once {{item}} holds it, shell-quoted, wherever it appears: else it could never run. */
    private void checkItemsFit(String command, List<String> items) {
        int occurrences = ItemPlaceholder.occurrences(command);
        if (occurrences == 0) {
            return;
        }
        long commandBytes = Utf8.length(command);
        long max = properties.maxCommandSize().toBytes();
        for (int i = 0; i < items.size(); i++) {
            long bytes = ItemPlaceholder.expandedBytes(commandBytes, occurrences, items.get(i));
            if (bytes > max) {
                throw new PayloadTooLargeException("inputList[" + i + "] makes the command " + bytes + " bytes once {{item}} ("
                        + occurrences + " times in the command) holds it; the limit is " + max
                        + " (scheduler.max-command-size). Use \"$1\" instead of {{item}}, or pass large data by path.");
            }
        }
    }
}
