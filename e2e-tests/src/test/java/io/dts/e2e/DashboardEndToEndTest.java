package io.dts.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.regex.Pattern;

import org.awaitility.core.ThrowingRunnable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.util.FileSystemUtils;
import tools.jackson.databind.json.JsonMapper;

/**
 * The dashboard at {@code /} in a real headless Chromium (Debian's chromium and chromedriver) against a
 * real scheduler and worker: it asks for a token, lists tasks with status filters, shows a finished
 * task's results as text (the items are hostile), follows a running task without a reload and cancels
 * it. Chromium missing is a failure, not a skip. With {@code -Ddts.screenshot[=FILE]} it saves the task
 * page as {@code docs/dashboard.png} (or FILE) for the README.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardEndToEndTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String HOSTILE_ITEM = "<img src=x onerror=alert(1)>";
    /** Endpoints the dashboard probes and does without (chips without counts, polling instead of events). */
    private static final Pattern OPTIONAL_ENDPOINT_MISSING =
            Pattern.compile("/api/tasks/(counts|[^/ ]+/events) - Failed to load resource: the server responded with a status of 404");

    private final Cluster cluster = new Cluster(List.of(), List.of());
    private final HttpClient http = HttpClient.newHttpClient();
    private SchedulerClient api;
    private ChromeDriver browser;
    private Path profile;
    private Path downloads;
    private String finishedTask;

    @BeforeAll
    void start() throws IOException {
        assertThat(CHROMIUM).as("Chromium drives the dashboard test: apt-get install -y chromium chromium-driver "
                + "(./scripts/test.sh installs them)").isExecutable();
        assertThat(CHROMEDRIVER).as("chromedriver: apt-get install -y chromium-driver").isExecutable();
        cluster.startScheduler();
        cluster.startWorkers(1);
        api = cluster.client();
        finishedTask = api.submit(JSON.writeValueAsString(Map.of("templateFunction", "echo \"out $1\"; echo \"err $1\" >&2; [ \"$1\" != bad ]",
                "inputList", List.of("alpha", HOSTILE_ITEM, "bad"), "priority", 3, "maxParallel", 2)));
        assertThat(cluster.awaitTerminal(finishedTask, WAIT).get("status").asString()).isEqualTo("FAILED");

        profile = Files.createTempDirectory("dts-chromium-");
        downloads = Files.createDirectories(Path.of("target", "e2e-downloads").toAbsolutePath());
        browser = chromium();
    }

    /** Headless, with a fresh profile, the driver given so Selenium Manager never goes online, and the console kept. */
    private ChromeDriver chromium() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile);
        options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(),
                "download.prompt_for_download", false));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().withLogFile(Path.of("target", "e2e-logs", "chromedriver.log").toAbsolutePath().toFile()).build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().window().setSize(new Dimension(1280, 1000));
        return driver;
    }

    @AfterAll
    void stop() throws InterruptedException, IOException {
        if (browser != null) {
            browser.quit();
        }
        cluster.close();
        if (profile != null) {
            FileSystemUtils.deleteRecursively(profile);
        }
    }

    @Test
    void the_page_needs_no_token_but_asks_for_one_and_refuses_a_wrong_one() throws Exception {
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp -> assertThat(csp).contains("default-src 'self'"));
        browser.get(baseUrl() + "/");
        browser.executeScript("sessionStorage.clear()");
        browser.navigate().refresh();

        WebElement token = visible("token");
        assertThat(token.getDomAttribute("type")).isEqualTo("password");
        assertThat(browser.findElement(By.cssSelector("label[for=token]")).getText()).isEqualTo("Token");
        token.sendKeys("not-a-token" + Keys.ENTER);

        eventually("the refusal is shown", () -> assertThat(text("login-error")).contains("not accepted"));
        assertThat(browser.findElement(By.id("login-view")).isDisplayed()).isTrue();
        assertThat(browser.executeScript("return sessionStorage.getItem('dts.token')")).as("a refused token is not kept").isNull();
        assertThat(consoleErrors()).as("the only console errors: the refused call's 401").allMatch(message -> message.contains("status of 401")
                || OPTIONAL_ENDPOINT_MISSING.matcher(message).find());
    }

    @Test
    void an_operator_sees_a_finished_task_in_the_list_opens_it_and_reads_its_results_as_text() throws IOException {
        signIn();
        eventually("the finished task listed", () -> assertThat(rowStatus(finishedTask)).isEqualTo("FAILED"));

        // The pause switch: a task submitted while paused shows up only once refreshing resumes.
        browser.findElement(By.id("auto-refresh")).click();
        String later = api.submit(SchedulerClient.taskJson("true", List.of("x")));
        await("no refresh while paused").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> browser.findElements(By.cssSelector("tr[data-task-id='" + later + "']")).isEmpty());
        browser.findElement(By.id("auto-refresh")).click();
        eventually("the later task listed once resumed", () -> assertThat(rowStatus(later)).isNotEmpty());

        click(By.cssSelector("#chips [data-status='FAILED']"));
        eventually("the filter in the URL", () -> assertThat(browser.getCurrentUrl()).endsWith("#/?status=FAILED"));
        eventually("only failed tasks listed", () -> {
            assertThat(rowStatus(finishedTask)).isEqualTo("FAILED");
            assertThat(browser.findElements(By.cssSelector("tr[data-task-id='" + later + "']"))).isEmpty();
            assertThat(browser.findElement(By.cssSelector("#chips [data-status='FAILED']")).getDomAttribute("aria-pressed")).isEqualTo("true");
        });
        new Select(browser.findElement(By.id("page-size"))).selectByValue("10");
        eventually("the page size in the URL", () -> assertThat(browser.getCurrentUrl()).endsWith("#/?status=FAILED&limit=10"));

        click(By.cssSelector("tr[data-task-id='" + finishedTask + "'] a"));
        eventually("the task page", () -> {
            assertThat(text("task-id")).isEqualTo(finishedTask);
            assertThat(text("task-status")).isEqualTo("FAILED");
            assertThat(text("task-owner")).contains("priority 3").contains("at most 2 items at once");
            assertThat(progress()).isEqualTo(3);
            assertThat(browser.findElement(By.id("task-progress")).getDomProperty("max")).isEqualTo("3");
            assertThat(text("count-succeeded")).isEqualTo("2");
            assertThat(text("count-failed")).isEqualTo("1");
            assertThat(resultItems()).containsExactly("alpha", HOSTILE_ITEM, "bad");
        });
        assertThat(browser.findElements(By.cssSelector("#result-rows img"))).as("items are text, never markup").isEmpty();
        assertThat(browser.findElement(By.id("cancel-task")).isEnabled()).as("a finished task cannot be cancelled").isFalse();
        assertThat(browser.findElement(By.id("retry-task")).isEnabled()).isTrue();

        WebElement stdout = browser.findElement(By.cssSelector("tr[data-index='1'] details[data-key='1:stdout']"));
        stdout.findElement(By.tagName("summary")).click();
        assertThat(stdout.findElement(By.tagName("pre")).getText()).isEqualTo("out " + HOSTILE_ITEM);

        browser.findElement(By.id("failed-only")).click();
        eventually("only the failed item", () -> assertThat(resultItems()).containsExactly("bad"));
        assertThat(browser.getCurrentUrl()).endsWith("?failed=1");
        assertThat(text("result-rows")).contains("err bad");

        if (exportsCsv()) {
            browser.findElement(By.id("download-csv")).click();
            Path csv = downloads.resolve(finishedTask + "-results.csv");
            eventually("the CSV downloaded", () -> assertThat(csv).exists());
            eventually("the CSV complete", () -> assertThat(Files.readString(csv, StandardCharsets.UTF_8))
                    .startsWith("index,item,exitCode").contains("bad").doesNotContain("alpha"));
        } else {
            System.out.println("DashboardEndToEndTest: this scheduler has no CSV export yet; the download shows an error");
            browser.findElement(By.id("download-csv")).click();
            eventually("the export error", () -> assertThat(text("error")).contains("does not export"));
        }
        assertNoConsoleErrors();
    }

    @Test
    void a_running_task_updates_by_itself_and_is_cancelled_from_its_page() throws IOException {
        signIn();
        String running = api.submit(SchedulerClient.taskJson("sleep 0.5; echo \"slept $1\"", SchedulerClient.numbers(80)));

        // The form a link from elsewhere takes; the page turns it into its own route.
        browser.get(baseUrl() + "/?task=" + running);
        eventually("the task page", () -> assertThat(text("task-id")).isEqualTo(running));
        assertThat(browser.getCurrentUrl()).endsWith("/#/tasks/" + running);
        browser.executeScript("window.dtsNoReload = 'still this page'");

        eventually("items finish", () -> assertThat(progress()).isGreaterThan(0));
        double first = progress();
        eventually("more items finish, with no reload", () -> assertThat(progress()).isGreaterThan(first));
        eventually("the rate shown", () -> assertThat(text("count-rate")).matches("\\d+\\.\\d"));
        String liveMode = text("task-live");
        System.out.println("DashboardEndToEndTest: live progress by " + liveMode);
        assertThat(liveMode).containsAnyOf("event stream", "polling");
        assertThat(text("task-progress-text")).matches("\\d+ of 80 items done \\(\\d+%\\), INPROGRESS");
        eventually("results appear while it runs", () -> assertThat(resultItems()).isNotEmpty());
        screenshot();

        browser.findElement(By.id("cancel-task")).click();
        new WebDriverWait(browser, WAIT).until(ExpectedConditions.alertIsPresent()).accept();

        eventually("the task cancelled", () -> {
            assertThat(text("task-status")).isEqualTo("CANCELLED");
            assertThat(text("task-live")).isEqualTo("Finished.");
        });
        assertThat(api.task(running).get("status").asString()).isEqualTo("CANCELLED");
        assertThat(progress()).isLessThan(80);
        assertThat(browser.findElement(By.id("cancel-task")).isEnabled()).isFalse();
        assertThat(browser.executeScript("return window.dtsNoReload")).isEqualTo("still this page");

        // Readable on a phone: nothing wider than the window but the tables, which scroll by themselves.
        browser.manage().window().setSize(new Dimension(375, 800));
        eventually("no page-wide horizontal scroll", () -> assertThat((Long) browser.executeScript(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")).isLessThanOrEqualTo(0L));
        browser.manage().window().setSize(new Dimension(1280, 1000));
        assertNoConsoleErrors();
    }

    @Test
    void without_an_events_stream_the_task_page_polls_and_follows_the_task_to_its_end() {
        signIn();
        String running = api.submit(SchedulerClient.taskJson("sleep 0.3; echo \"slept $1\"", SchedulerClient.numbers(30)));
        // A scheduler without the stream (an older one behind the same nginx, say) answers 404 there.
        browser.executeScript("const real = window.fetch;"
                + "window.fetch = (url, init) => String(url).endsWith('/events')"
                + "  ? Promise.resolve(new Response('{\"status\":404,\"detail\":\"No static resource\"}',"
                + "      {status: 404, headers: {'Content-Type': 'application/problem+json'}}))"
                + "  : real(url, init);"
                + "location.hash = '#/tasks/' + arguments[0];", running);

        eventually("the task page, polling", () -> assertThat(text("task-live")).contains("polling"));
        eventually("items finish", () -> assertThat(progress()).isGreaterThan(0));
        double first = progress();
        eventually("more items finish, with no reload", () -> assertThat(progress()).isGreaterThan(first));
        eventually("the task completes on the page", () -> {
            assertThat(text("task-status")).isEqualTo("COMPLETED");
            assertThat(text("task-live")).isEqualTo("Finished.");
            assertThat(resultItems()).hasSize(30);
        });
        assertThat(progress()).isEqualTo(30);
        assertNoConsoleErrors();
    }

    @Test
    void the_workers_page_lists_the_live_worker_and_what_each_busy_slot_runs() {
        String sleeping = api.submit(SchedulerClient.taskJson("sleep 20", List.of("a", "b")));
        // In a heartbeat before the page loads, so the first load shows it.
        eventually("both slots busy", () -> assertThat(api.get("/api/workers").body().get(0).get("busyThreads").asInt()).isEqualTo(2));
        signIn();
        click(By.id("nav-workers"));

        eventually("worker-1 listed, its two slots running the task's items 0 and 1", () -> {
            WebElement row = browser.findElement(By.cssSelector("tr[data-worker-id='worker-1']"));
            assertThat(row.getText()).contains("worker-1").contains("just now").contains(sleeping + " #0").contains(sleeping + " #1");
            assertThat(row.findElements(By.tagName("td")).get(2).getText()).isEqualTo("2");
        });
        api.post("/api/tasks/" + sleeping + "/cancel", "application/json", "");
        assertThat(browser.findElement(By.id("nav-workers")).getDomAttribute("aria-current")).isEqualTo("page");
        assertNoConsoleErrors();
    }

    /** Opens the dashboard and, unless this tab has a token already, signs in with the operator's (keyboard only). */
    private void signIn() {
        browser.get(baseUrl() + "/");
        eventually("a view shown", () -> assertThat(browser.findElement(By.id("login-view")).isDisplayed()
                || browser.findElement(By.id("list-view")).isDisplayed()).isTrue());
        if (browser.findElement(By.id("login-view")).isDisplayed()) {
            visible("token").sendKeys(SharedKeys.operatorToken() + Keys.ENTER);
        }
        eventually("the task list", () -> assertThat(browser.findElement(By.id("list-view")).isDisplayed()).isTrue());
    }

    private boolean exportsCsv() throws IOException {
        try {
            HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/api/tasks/" + finishedTask
                            + "/results?format=csv")).header("Authorization", "Bearer " + SharedKeys.operatorToken()).build(),
                    HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200 && response.headers().firstValue("Content-Type").orElse("").startsWith("text/csv");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private void screenshot() throws IOException {
        String target = System.getProperty("dts.screenshot");
        if (target == null) {
            return;
        }
        Path file = (target.isBlank() || target.equals("true") ? Path.of("..", "docs", "dashboard.png") : Path.of(target)).toAbsolutePath();
        Files.write(file, browser.getScreenshotAs(OutputType.BYTES));
        System.out.println("DashboardEndToEndTest: screenshot saved as " + file.normalize());
    }

    private String baseUrl() {
        return cluster.scheduler().baseUrl();
    }

    private WebElement visible(String id) {
        return new WebDriverWait(browser, WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id(id)));
    }

    /** The text of an element, hidden or not. */
    private String text(String id) {
        return (String) ((JavascriptExecutor) browser).executeScript("return document.getElementById(arguments[0]).textContent", id);
    }

    private double progress() {
        return Double.parseDouble(browser.findElement(By.id("task-progress")).getDomProperty("value"));
    }

    private String rowStatus(String taskId) {
        return browser.findElement(By.cssSelector("tr[data-task-id='" + taskId + "'] .badge")).getText();
    }

    private List<String> resultItems() {
        return browser.findElements(By.cssSelector("#result-rows td.item")).stream().map(WebElement::getText).toList();
    }

    /** Clicks what the auto-refresh may have just drawn again. */
    private void click(By by) {
        eventually("click " + by, () -> browser.findElement(by).click());
    }

    private void eventually(String what, ThrowingRunnable assertion) {
        await(what).atMost(WAIT).pollInterval(Duration.ofMillis(100)).ignoreExceptionsInstanceOf(WebDriverException.class)
                .untilAsserted(assertion);
    }

    /** SEVERE entries of the browser console since the last call. */
    private List<String> consoleErrors() {
        List<String> errors = new ArrayList<>();
        for (LogEntry entry : browser.manage().logs().get(LogType.BROWSER)) {
            if (entry.getLevel().intValue() >= Level.SEVERE.intValue()) {
                errors.add(entry.getMessage());
            }
        }
        return errors;
    }

    private void assertNoConsoleErrors() {
        List<String> errors = consoleErrors();
        errors.stream().filter(message -> OPTIONAL_ENDPOINT_MISSING.matcher(message).find())
                .forEach(message -> System.out.println("DashboardEndToEndTest: an optional endpoint is missing: " + message));
        assertThat(errors).as("errors in the browser console").allMatch(message -> OPTIONAL_ENDPOINT_MISSING.matcher(message).find());
    }
}
