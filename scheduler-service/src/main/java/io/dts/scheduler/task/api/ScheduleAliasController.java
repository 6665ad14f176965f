package io.dts.scheduler.task.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.dts.model.MasterTask;
import io.dts.scheduler.task.domain.InvalidTaskException;
import io.dts.scheduler.task.domain.TaskIds;
import io.dts.scheduler.task.domain.TaskService;
import jakarta.validation.Validator;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * The original {@code /schedule/*} paths, kept as aliases of the task API. Create also takes the
 * original client's serialized MasterTask: its {@code id} (a UUID it generated) becomes the task id,
 * and the fields the server owns ({@code status}, the chunk counts) are ignored.
 */
@RestController
@RequestMapping("/schedule")
public class ScheduleAliasController {

    private static final String CLIENT_ID = "id";
    /** Fields of the original client's MasterTask that the server owns: accepted and ignored. */
    private static final Set<String> SERVER_OWNED = Set.of("status", "chunksToExecute", "chunksExecuted");
    private static final Set<String> FORM_FIELDS = Set.of("templateFunction", "variableJson", "inputList", "timeoutSeconds", "maxRetries",
            CLIENT_ID, "status", "chunksToExecute", "chunksExecuted");

    private final TaskService tasks;
    private final JsonMapper json;
    private final Validator validator;

    public ScheduleAliasController(TaskService tasks, JsonMapper json, Validator validator) {
        this.tasks = tasks;
        this.json = json;
        this.validator = validator;
    }

    @PostMapping(path = "/create", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<TaskView> create(@RequestBody ObjectNode body,
                                           @RequestHeader(name = TaskController.IDEMPOTENCY_KEY, required = false) String idempotencyKey) {
        JsonNode id = body.remove(CLIENT_ID);
        body.remove(SERVER_OWNED);
        if (id != null && !id.isNull() && !id.isString()) {
            throw new InvalidTaskException(CLIENT_ID, "must be a UUID string, like \"" + java.util.UUID.randomUUID() + "\"");
        }
        // The rest is a MasterTask, read as strictly as on /api/tasks.
        MasterTask request = valid(json.treeToValue(body, MasterTask.class));
        return TaskController.accepted(tasks.submit(request, idempotencyKey, clientId(id == null ? null : id.stringValue())));
    }

    /**
     * Form-encoded create: {@code inputList} is either a JSON array or repeated once per item;
     * {@code variableJson} is the JSON object as text.
     */
    @PostMapping(path = "/create", consumes = MediaType.APPLICATION_FORM_URLENCODED_VALUE)
    public ResponseEntity<TaskView> createFromForm(@RequestParam MultiValueMap<String, String> form,
                                                   @RequestHeader(name = TaskController.IDEMPOTENCY_KEY, required = false) String idempotencyKey) {
        MasterTask request = valid(fromForm(form));
        return TaskController.accepted(tasks.submit(request, idempotencyKey, clientId(form.getFirst(CLIENT_ID))));
    }

    private MasterTask valid(MasterTask request) {
        var violations = validator.validate(request);
        if (!violations.isEmpty()) {
            throw new InvalidTaskException(violations.stream()
                    .map(v -> new InvalidTaskException.FieldError(v.getPropertyPath().toString(), v.getMessage())).toList());
        }
        return request;
    }

    /** A client-sent id, or {@code null} for none; only a UUID may name a task. */
    private static String clientId(String id) {
        if (id == null || id.isEmpty()) {
            return null;
        }
        if (!TaskIds.isValid(id)) {
            throw new InvalidTaskException(CLIENT_ID, "must be a UUID, like \"" + java.util.UUID.randomUUID() + "\"");
        }
        return id;
    }

    @GetMapping("/status")
    public TaskView status(@RequestParam String taskId) {
        return TaskView.of(tasks.get(taskId));
    }

    @GetMapping("/ping")
    public Map<String, String> ping() {
        return Map.of("status", "pong");
    }

    private MasterTask fromForm(MultiValueMap<String, String> form) {
        for (String field : form.keySet()) {
            if (!FORM_FIELDS.contains(field)) {
                throw new InvalidTaskException(field, "unknown field; expected one of " + FORM_FIELDS);
            }
        }
        String variables = form.getFirst("variableJson");
        Long maxRetries = number(form.getFirst("maxRetries"), "maxRetries");
        return new MasterTask(form.getFirst("templateFunction"),
                variables == null ? null : StringNode.valueOf(variables),
                inputList(form.get("inputList")),
                number(form.getFirst("timeoutSeconds"), "timeoutSeconds"),
                maxRetries == null ? null : (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, maxRetries)));
    }

    private List<JsonNode> inputList(List<String> values) {
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() == 1 && values.get(0).trim().startsWith("[")) {
            try {
                JsonNode array = json.readTree(values.get(0));
                return new ArrayList<>(array.valueStream().toList());
            } catch (JacksonException e) {
                throw new InvalidTaskException("inputList", "looks like a JSON array but is not valid JSON: " + e.getOriginalMessage());
            }
        }
        return values.stream().map(v -> (JsonNode) StringNode.valueOf(v)).toList();
    }

    private static Long number(String value, String field) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new InvalidTaskException(field, "must be a whole number, got '" + value + "'");
        }
    }
}
