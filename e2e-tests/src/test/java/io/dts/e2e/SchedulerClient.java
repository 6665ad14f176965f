package io.dts.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A plain HTTP client of the scheduler API, as a user's script would be. It sends the operator token of
 * the tests' keys file ({@link SharedKeys}) unless given another token, or none.
 */
final class SchedulerClient {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final String baseUrl;
    private final String token;

    SchedulerClient(String baseUrl) {
        this(baseUrl, SharedKeys.operatorToken());
    }

    /** Sends {@code Authorization: Bearer <token>}, or nothing when {@code token} is null. */
    SchedulerClient(String baseUrl, String token) {
        this.baseUrl = baseUrl;
        this.token = token;
    }

    /** The same scheduler, with another token (null for none). */
    SchedulerClient withToken(String token) {
        return new SchedulerClient(baseUrl, token);
    }

    record Response(int status, String contentType, JsonNode body, String location, java.net.http.HttpHeaders headers) {

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }
    }

    /** The JSON of a task that runs {@code command} (no placeholders) for each of {@code items}. */
    static String taskJson(String command, List<String> items) {
        return JSON.writeValueAsString(Map.of("templateFunction", command, "inputList", items));
    }

    /** The items "0", "1", ... up to {@code count - 1}. */
    static List<String> numbers(int count) {
        return IntStream.range(0, count).mapToObj(String::valueOf).toList();
    }

    Response post(String path, String contentType, String body) {
        return post(path, contentType, body, Map.of());
    }

    Response post(String path, String contentType, String body, Map<String, String> headers) {
        HttpRequest.Builder request = request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return send(request);
    }

    Response get(String path) {
        return send(request(path).GET());
    }

    /** The body as text, for endpoints that do not answer JSON. */
    String getText(String path) {
        try {
            return http.send(request(path).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Submits a task as JSON and returns its id, failing unless it was accepted. */
    String submit(String taskJson) {
        Response response = post("/api/tasks", "application/json", taskJson);
        if (response.status() != 202) {
            throw new AssertionError("submit answered " + response.status() + ": " + response.body());
        }
        return response.body().get("id").asString();
    }

    JsonNode task(String id) {
        return get("/api/tasks/" + id).body();
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path));
        return token == null ? request : request.header("Authorization", "Bearer " + token);
    }

    private Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body = response.body().isEmpty() ? null : JSON.readTree(response.body());
            return new Response(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""), body,
                    response.headers().firstValue("Location").orElse(null), response.headers());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
