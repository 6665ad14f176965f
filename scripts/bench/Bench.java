import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The scheduler side of scripts/bench.sh: a plain HTTP client (bench.sh compiles it; {@code java Bench.java
 * <mode> ...} runs it too) that prints one JSON object per measurement. It sends the token in
 * {@code DTS_TOKEN} (bench.sh sets it).
 *
 * <pre>
 * throughput BASE ITEMS           one task of ITEMS trivial items, submit to terminal
 * latency BASE TASKS              one-item tasks one after another (after 20 not measured), submit-to-terminal percentiles,
 *                                 the POST's p50 and the p50 of the item's own time on its worker (its durationMs)
 * big BASE ITEMS [SECONDS]        one task of ITEMS items: accepted, completed, elapsed; cancelled after SECONDS
 * saturated BASE SLOTS PROBES     a long task of {@code sleep 0.25} items, 30 s of work for each of SLOTS slots; from 3 s
 *                                 on, PROBES one-item tasks, one a second: their submit-to-terminal percentiles, and
 *                                 how many ended while the long task still ran (then it is cancelled)
 * </pre>
 */
public class Bench {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern STATUS = Pattern.compile("\"status\"\\s*:\\s*\"([A-Z_]+)\"");
    private static final Pattern SUCCEEDED = Pattern.compile("\"itemsSucceeded\"\\s*:\\s*(\\d+)");
    private static final Pattern DURATION = Pattern.compile("\"durationMs\"\\s*:\\s*(\\d+)");
    private static final List<String> TERMINAL = List.of("COMPLETED", "FAILED", "CANCELLED", "SUBMISSION_FAILED");
    private static final String TRIVIAL = "echo \\\"$1\\\" >/dev/null";
    private static final String AUTHORIZATION = "Bearer " + System.getenv("DTS_TOKEN");

    public static void main(String[] args) throws Exception {
        String base = args[1];
        switch (args[0]) {
            case "throughput" -> throughput(base, Integer.parseInt(args[2]));
            case "latency" -> latency(base, Integer.parseInt(args[2]));
            case "big" -> big(base, Integer.parseInt(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : Integer.MAX_VALUE);
            case "saturated" -> saturated(base, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    private static String items(int count) {
        return IntStream.range(0, count).mapToObj(i -> "\"" + i + "\"").collect(Collectors.joining(",", "[", "]"));
    }

    private static HttpResponse<String> post(String base, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/tasks")).timeout(Duration.ofMinutes(5))
                .header("Authorization", AUTHORIZATION).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String submit(String base, String body) throws Exception {
        HttpResponse<String> response = post(base, body);
        if (response.statusCode() != 202) {
            throw new IllegalStateException("submit answered " + response.statusCode() + ": " + response.body());
        }
        return find(ID, response.body());
    }

    private static String get(String base, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                        .header("Authorization", AUTHORIZATION).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String view(String base, String id) throws Exception {
        return get(base, "/api/tasks/" + id);
    }

    /** Polls until the task is terminal; returns its last view. */
    private static String awaitTerminal(String base, String id, long pollMicros) throws Exception {
        while (true) {
            String view = view(base, id);
            if (TERMINAL.contains(find(STATUS, view))) {
                return view;
            }
            Thread.sleep(pollMicros / 1000, (int) (pollMicros % 1000) * 1000);
        }
    }

    private static String find(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no " + pattern + " in " + text);
        }
        return m.group(1);
    }

    private static void throughput(String base, int count) throws Exception {
        String body = "{\"templateFunction\":\"" + TRIVIAL + "\",\"inputList\":" + items(count) + "}";
        long started = System.nanoTime();
        String id = submit(base, body);
        String done = awaitTerminal(base, id, 100_000);
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf(Locale.ROOT, "{\"items\":%d,\"seconds\":%.3f,\"itemsPerSecond\":%.1f,\"status\":\"%s\",\"succeeded\":%s}%n",
                count, seconds, count / seconds, find(STATUS, done), find(SUCCEEDED, done));
    }

    private static void latency(String base, int tasks) throws Exception {
        List<Double> millis = new ArrayList<>();
        List<Double> acceptMillis = new ArrayList<>();
        List<Double> itemMillis = new ArrayList<>();
        int warmUp = Math.min(20, tasks);
        for (int i = -warmUp; i < tasks; i++) {
            long started = System.nanoTime();
            String id = submit(base, "{\"templateFunction\":\"" + TRIVIAL + "\",\"inputList\":[\"" + i + "\"]}");
            if (i >= 0) {
                acceptMillis.add((System.nanoTime() - started) / 1e6);
            }
            String done = awaitTerminal(base, id, 2_000);
            if (!"COMPLETED".equals(find(STATUS, done))) {
                throw new IllegalStateException("task " + id + " ended " + done);
            }
            if (i >= 0) {
                millis.add((System.nanoTime() - started) / 1e6);
                itemMillis.add(Double.parseDouble(find(DURATION, get(base, "/api/tasks/" + id + "/results"))));
            }
        }
        Collections.sort(millis);
        Collections.sort(acceptMillis);
        Collections.sort(itemMillis);
        // How much of it is the POST alone (202 back) and the item on its worker (a sandbox of its own, the fork,
        // its files), to tell those from the hops between them.
        System.out.printf(Locale.ROOT, "{\"tasks\":%d,\"p50Ms\":%.1f,\"p90Ms\":%.1f,\"p99Ms\":%.1f,\"maxMs\":%.1f,\"acceptP50Ms\":%.1f,\"itemP50Ms\":%.1f}%n",
                tasks, percentile(millis, 50), percentile(millis, 90), percentile(millis, 99), millis.get(millis.size() - 1),
                percentile(acceptMillis, 50), percentile(itemMillis, 50));
    }

    private static void big(String base, int count, int maxSeconds) throws Exception {
        String body = "{\"templateFunction\":\"true\",\"inputList\":" + items(count) + "}";
        long started = System.nanoTime();
        String id = submit(base, body);
        double acceptedSeconds = (System.nanoTime() - started) / 1e9;
        long deadline = started + maxSeconds * 1_000_000_000L;
        String view = view(base, id);
        while (!TERMINAL.contains(find(STATUS, view)) && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            view = view(base, id);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        boolean cutOff = !TERMINAL.contains(find(STATUS, view));
        if (cutOff) {
            // Out of time: what ran so far gives the rate; the rest is cancelled so the bench can end.
            HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/tasks/" + id + "/cancel")).POST(HttpRequest.BodyPublishers.noBody())
                    .header("Authorization", AUTHORIZATION).build(), HttpResponse.BodyHandlers.discarding());
        }
        long succeeded = Long.parseLong(find(SUCCEEDED, view));
        System.out.printf(Locale.ROOT, "{\"items\":%d,\"acceptedSeconds\":%.2f,\"seconds\":%.1f,\"itemsPerSecond\":%.1f,\"status\":\"%s\",\"succeeded\":%d,\"cutOff\":%b}%n",
                count, acceptedSeconds, seconds, succeeded / seconds, find(STATUS, view), succeeded, cutOff);
    }

    /**
     * What a small task waits while a long one fills every slot: the head-of-line blocking a fair scheduler removes.
     * Each probe is timed on a thread of its own, so a slow one does not delay the next submit.
     */
    private static void saturated(String base, int slots, int probes) throws Exception {
        int longItems = slots * 120;
        String longTask = submit(base, "{\"templateFunction\":\"sleep 0.25\",\"inputList\":" + items(longItems) + "}");
        Thread.sleep(3_000);
        List<Double> millis = Collections.synchronizedList(new ArrayList<>());
        List<Boolean> whileSaturated = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < probes; i++) {
            String body = "{\"templateFunction\":\"" + TRIVIAL + "\",\"inputList\":[\"probe-" + i + "\"]}";
            Thread probe = new Thread(() -> {
                try {
                    long started = System.nanoTime();
                    String done = awaitTerminal(base, submit(base, body), 20_000);
                    millis.add((System.nanoTime() - started) / 1e6);
                    whileSaturated.add(!TERMINAL.contains(find(STATUS, view(base, longTask))));
                    if (!"COMPLETED".equals(find(STATUS, done))) {
                        throw new IllegalStateException("a probe ended " + done);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            probe.start();
            threads.add(probe);
            Thread.sleep(1_000);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (millis.size() != probes) {
            throw new IllegalStateException((probes - millis.size()) + " probe(s) failed (above)");
        }
        HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/tasks/" + longTask + "/cancel")).POST(HttpRequest.BodyPublishers.noBody())
                .header("Authorization", AUTHORIZATION).build(), HttpResponse.BodyHandlers.discarding());
        awaitTerminal(base, longTask, 100_000);
        List<Double> sorted = new ArrayList<>(millis);
        Collections.sort(sorted);
        System.out.printf(Locale.ROOT, "{\"slots\":%d,\"longTaskItems\":%d,\"probes\":%d,\"endedWhileSaturated\":%d,\"p50Ms\":%.1f,\"p99Ms\":%.1f,\"maxMs\":%.1f}%n",
                slots, longItems, probes, whileSaturated.stream().filter(b -> b).count(), percentile(sorted, 50), percentile(sorted, 99),
                sorted.get(sorted.size() - 1));
    }

    private static double percentile(List<Double> sorted, int p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }
}
