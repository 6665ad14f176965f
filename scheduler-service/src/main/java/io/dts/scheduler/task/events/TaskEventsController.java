package io.dts.scheduler.task.events;

import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import io.dts.scheduler.task.api.TaskView;
import io.dts.scheduler.task.domain.Caller;
import io.dts.scheduler.task.domain.Task;
import io.dts.scheduler.task.domain.TaskService;
import io.dts.scheduler.worker.WorkerDirectory;
import jakarta.annotation.PreDestroy;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * {@code GET /api/tasks/{id}/events}: a task's live progress as server-sent events. A {@code snapshot}
 * on connect, then a {@code progress} at most once per {@code scheduler.events.interval} while the task
 * changes, then a final {@code status} once it is finished, and the stream ends. Every event is read
 * from Redis, so any scheduler serves any stream; nothing is kept between streams.
 */
@RestController
public class TaskEventsController {

    private static final Logger log = LoggerFactory.getLogger(TaskEventsController.class);

    private final TaskService tasks;
    private final WorkerDirectory workers;
    private final EventStreamProperties properties;
    private final Clock clock;
    private final Semaphore streams;
    private final ScheduledExecutorService ticks = Executors.newScheduledThreadPool(2, runnable -> {
        Thread thread = new Thread(runnable, "task-events");
        thread.setDaemon(true);
        return thread;
    });

    public TaskEventsController(TaskService tasks, WorkerDirectory workers, EventStreamProperties properties, Clock clock) {
        this.tasks = tasks;
        this.workers = workers;
        this.properties = properties;
        this.clock = clock;
        this.streams = new Semaphore(properties.maxStreams());
    }

    @GetMapping(path = "/api/tasks/{id}/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    public SseEmitter events(@PathVariable String id, Caller caller, HttpServletResponse response) {
        Task first = tasks.get(id, caller);
        if (!streams.tryAcquire()) {
            throw new ResponseStatusException(HttpStatus.SERVICE_UNAVAILABLE,
                    "This scheduler serves " + properties.maxStreams() + " event streams already (scheduler.events.max-streams); retry later");
        }
        // nginx and other proxies pass the events as they come instead of buffering them.
        response.setHeader("X-Accel-Buffering", "no");
        SseEmitter emitter = new SseEmitter(properties.timeout().toMillis());
        Stream stream = new Stream(id, caller, emitter, new TaskRate(clock.millis(), done(first)));
        AtomicBoolean ended = new AtomicBoolean();
        AtomicReference<ScheduledFuture<?>> ticking = new AtomicReference<>();
        Runnable end = () -> {
            if (ended.compareAndSet(false, true)) {
                streams.release();
            }
            ScheduledFuture<?> tick = ticking.get();
            if (tick != null) {
                tick.cancel(false);
            }
        };
        emitter.onCompletion(end);
        emitter.onTimeout(end);
        emitter.onError(error -> end.run());
        ticking.set(ticks.scheduleWithFixedDelay(stream::tick, 0, properties.interval().toMillis(), TimeUnit.MILLISECONDS));
        if (ended.get()) {
            ticking.get().cancel(false); // it ended before its ticks were scheduled
        }
        return emitter;
    }

    /** Items that will not run again in this round: succeeded, failed, or skipped by a halt. */
    private static long done(Task task) {
        return task.progress().itemsSucceeded() + task.progress().itemsFailed() + task.progress().itemsSkipped();
    }

    /** One open stream: what it sent last, and when. */
    private final class Stream {

        private final String id;
        private final Caller caller;
        private final SseEmitter emitter;
        private final TaskRate rate;
        private LiveTask sent;
        private long lastSentAt;

        Stream(String id, Caller caller, SseEmitter emitter, TaskRate rate) {
            this.id = id;
            this.caller = caller;
            this.emitter = emitter;
            this.rate = rate;
        }

        void tick() {
            try {
                Task task = tasks.get(id, caller);
                long now = clock.millis();
                LiveTask live = new LiveTask(TaskView.of(task, workers), rate.perSecond(now, done(task)),
                        rate.etaSeconds(now, done(task), task.definition().itemsTotal()));
                if (sent == null) {
                    send("snapshot", live, now);
                } else if (!sameProgress(live, sent)) {
                    send("progress", live, now);
                } else if (now - lastSentAt >= properties.heartbeat().toMillis()) {
                    emitter.send(SseEmitter.event().comment("still " + task.status()));
                    lastSentAt = now;
                }
                if (task.status().isTerminal()) {
                    send("status", live, now);
                    emitter.complete();
                }
            } catch (IOException | IllegalStateException gone) {
                // The client went away (or the emitter was completed): the completion callback frees the slot.
                emitter.completeWithError(gone);
            } catch (RuntimeException e) {
                log.warn("Task {}: event stream ended: {}", id, e.toString());
                emitter.completeWithError(e);
            }
        }

        private void send(String name, LiveTask live, long now) throws IOException {
            emitter.send(SseEmitter.event().name(name).data(live, MediaType.APPLICATION_JSON));
            sent = live;
            lastSentAt = now;
        }

        /** The rate moves a little every tick: only what a person reads as progress makes an event. */
        private static boolean sameProgress(LiveTask a, LiveTask b) {
            return a.task().status() == b.task().status() && a.task().itemsSucceeded() == b.task().itemsSucceeded()
                    && a.task().itemsFailed() == b.task().itemsFailed() && a.task().itemsRunning().equals(b.task().itemsRunning())
                    && a.task().chunksExecuted() == b.task().chunksExecuted();
        }
    }

    @PreDestroy
    void stop() {
        ticks.shutdownNow();
    }
}
