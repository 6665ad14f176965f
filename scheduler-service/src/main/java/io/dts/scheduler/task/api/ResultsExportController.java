package io.dts.scheduler.task.api;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.dts.model.ItemResult;
import io.dts.scheduler.task.domain.Caller;
import io.dts.scheduler.task.domain.InvalidTaskException;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.task.domain.TaskService;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every result of a task at once, streamed as it is read from Redis a few at a time (constant memory
 * whatever the task's size): CSV with a header, or JSON Lines. The columns are a joblog's.
 */
@RestController
public class ResultsExportController {

    static final String[] COLUMNS = {"index", "item", "exitCode", "timedOut", "skipped", "durationMs", "attempts", "workerId", "stdout", "stderr"};
    private static final Map<String, MediaType> FORMATS = Map.of(
            "csv", new MediaType("text", "csv", StandardCharsets.UTF_8),
            "jsonl", new MediaType("application", "jsonl", StandardCharsets.UTF_8));

    private final TaskService tasks;
    private final JsonMapper json;

    public ResultsExportController(TaskService tasks, JsonMapper json) {
        this.tasks = tasks;
        this.json = json;
    }

    @GetMapping(path = "/api/tasks/{id}/results", params = "format")
    public ResponseEntity<StreamingResponseBody> export(@PathVariable String id, @RequestParam String format,
                                                        @RequestParam(defaultValue = "false") boolean failed, Caller caller) {
        MediaType type = FORMATS.get(format);
        if (type == null) {
            throw new InvalidTaskException("format", "is csv or jsonl");
        }
        Task task = tasks.get(id, caller);
        StreamingResponseBody body = out -> {
            Writer writer = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 64 * 1024);
            if (format.equals("csv")) {
                writer.write(String.join(",", COLUMNS) + "\r\n");
            }
            try {
                tasks.forEachResult(task, result -> {
                    if (!failed || !result.succeeded()) {
                        write(writer, format, result);
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            writer.flush();
        };
        return ResponseEntity.ok().contentType(type)
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"" + id + "-results." + format + "\"")
                .body(body);
    }

    private void write(Writer writer, String format, ItemResult result) {
        try {
            if (format.equals("jsonl")) {
                writer.write(json.writeValueAsString(result));
                writer.write('\n');
            } else {
                writer.write(Stream.of(result.index(), result.item(), result.exitCode(), result.timedOut(), result.skipped(), result.durationMs(),
                        result.attempts(), result.workerId(), result.stdout(), result.stderr())
                        .map(ResultsExportController::csv).collect(Collectors.joining(",")));
                writer.write("\r\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled; null is empty. */
    static String csv(Object value) {
        String text = value == null ? "" : value.toString();
        return text.contains(",") || text.contains("\"") || text.contains("\n") || text.contains("\r")
                ? "\"" + text.replace("\"", "\"\"") + "\"" : text;
    }
}
