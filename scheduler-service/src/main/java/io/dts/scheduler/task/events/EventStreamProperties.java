package io.dts.scheduler.task.events;

import java.time.Duration;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * The live progress streams ({@code GET /api/tasks/{id}/events}), under {@code scheduler.events.*}.
 *
 * @param maxStreams most streams one scheduler serves at once; one more is a 503 (each costs a Redis read a second)
 * @param interval   how often a stream reads its task; at most one progress event per interval
 * @param heartbeat  a comment line after this long without an event, so proxies keep the connection
 * @param timeout    a stream open this long is closed; clients reconnect (the first event is a full snapshot)
 */
@Validated
@ConfigurationProperties("scheduler.events")
public record EventStreamProperties(
        @Min(1) int maxStreams,
        @NotNull Duration interval,
        @NotNull Duration heartbeat,
        @NotNull Duration timeout) {
}
