package io.dts.scheduler.task.api;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.dts.model.InputLimits;
import io.dts.model.InputListDeserializer;
import io.dts.model.MasterTask;
import io.dts.scheduler.task.domain.Caller;
import io.dts.scheduler.task.domain.InvalidTaskException;
import io.dts.scheduler.task.domain.TaskIds;
import io.dts.scheduler.task.domain.TaskService;
import io.dts.scheduler.worker.WorkerDirectory;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Validator;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.annotation.JsonDeserialize;
import tools.jackson.databind.deser.DeserializationProblemHandler;
import tools.jackson.databind.json.JsonMapper;
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
    private static final Set<String> TASK_FIELDS = Set.of("templateFunction", "variableJson", "inputList", "timeoutSeconds", "maxRetries");

    private final TaskService tasks;
    private final JsonMapper json;
    private final Validator validator;
    private final WorkerDirectory workers;

    public ScheduleAliasController(TaskService tasks, JsonMapper json, Validator validator, WorkerDirectory workers) {
        this.workers = workers;
        this.tasks = tasks;
        this.json = json;
        this.validator = validator;
    }

    /** The original client's MasterTask, read as strictly as on /api/tasks and as a stream, its seed fields aside. */
    @PostMapping(path = "/create", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<TaskView> create(HttpServletRequest request,
                                           @RequestHeader(name = TaskController.IDEMPOTENCY_KEY, required = false) String idempotencyKey,
                                           Caller caller) throws IOException {
        SeedFields seed = new SeedFields();
        MasterTask task;
        try {
            task = json.readerFor(MasterTask.class).withHandler(seed).readValue(request.getInputStream());
        } catch (JacksonException e) {
            throw new HttpMessageNotReadableException("Cannot read the task: " + e.getOriginalMessage(), e, new ServletServerHttpRequest(request));
        }
        return TaskController.accepted(tasks.submit(valid(task), idempotencyKey, seed.id, caller));
    }

    /** Takes the seed's {@code id} and skips the server-owned fields; any other unknown field stays an error. */
    private static final class SeedFields extends DeserializationProblemHandler {

        private String id;

        @Override
        public boolean handleUnknownProperty(DeserializationContext context, JsonParser parser, ValueDeserializer<?> deserializer,
                                             Object beanOrClass, String name) {
            if (CLIENT_ID.equals(name)) {
                if (parser.currentToken() != JsonToken.VALUE_STRING && parser.currentToken() != JsonToken.VALUE_NULL) {
                    throw new InvalidTaskException(CLIENT_ID, "must be a UUID string, like \"" + TaskIds.EXAMPLE + "\"");
                }
                id = parser.getString();
                return true;
            }
            if (SERVER_OWNED.contains(name)) {
                parser.skipChildren();
                return true;
            }
            return false;
        }
    }

    /**
     * Form-encoded create: {@code inputList} is either a JSON array or repeated once per item;
     * {@code variableJson} is the JSON object as text.
     */
    @PostMapping(path = "/create", consumes = MediaType.APPLICATION_FORM_URLENCODED_VALUE)
    public ResponseEntity<TaskView> createFromForm(@RequestParam MultiValueMap<String, String> form,
                                                   @RequestHeader(name = TaskController.IDEMPOTENCY_KEY, required = false) String idempotencyKey,
                                                   Caller caller) {
        MasterTask request = valid(fromForm(form));
        String id = form.getFirst(CLIENT_ID);
        return TaskController.accepted(tasks.submit(request, idempotencyKey, id == null || id.isEmpty() ? null : id, caller));
    }

    private MasterTask valid(MasterTask request) {
        var violations = validator.validate(request);
        if (!violations.isEmpty()) {
            throw new InvalidTaskException(violations.stream()
                    .map(v -> new InvalidTaskException.FieldError(v.getPropertyPath().toString(), v.getMessage())).toList());
        }
        return request;
    }

    @GetMapping("/status")
    public TaskView status(@RequestParam String taskId, Caller caller) {
        return TaskView.of(tasks.get(taskId, caller), workers);
    }

    @GetMapping("/ping")
    public Map<String, String> ping() {
        return Map.of("status", "pong");
    }

    private MasterTask fromForm(MultiValueMap<String, String> form) {
        for (String field : form.keySet()) {
            if (!TASK_FIELDS.contains(field) && !SERVER_OWNED.contains(field) && !CLIENT_ID.equals(field)) {
                throw new InvalidTaskException(ClientText.shown(field), "unknown field; expected one of " + TASK_FIELDS);
            }
        }
        String variables = form.getFirst("variableJson");
        Long maxRetries = number(form.getFirst("maxRetries"), "maxRetries");
        return new MasterTask(form.getFirst("templateFunction"),
                variables == null ? null : StringNode.valueOf(variables),
                inputList(form.get("inputList")),
                number(form.getFirst("timeoutSeconds"), "timeoutSeconds"),
                maxRetries == null ? null : (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, maxRetries)), null, null, null);
    }

    /** Items repeated one per field, or one JSON array read item by item like a JSON body's. */
    private List<String> inputList(List<String> values) {
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() == 1 && values.get(0).trim().startsWith("[")) {
            try {
                return json.readValue("{\"inputList\":" + values.get(0) + "}", FormInputList.class).inputList();
            } catch (JacksonException e) {
                if (e.getCause() instanceof InputLimits.Exceeded exceeded) {
                    throw exceeded;
                }
                throw new InvalidTaskException("inputList", "looks like a JSON array but is not one: " + ClientText.shown(e.getOriginalMessage()));
            }
        }
        return values;
    }

    private record FormInputList(@JsonDeserialize(using = InputListDeserializer.class) List<String> inputList) {
    }

    private static Long number(String value, String field) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new InvalidTaskException(field, "must be a whole number, got '" + ClientText.shown(value) + "'");
        }
    }
}
