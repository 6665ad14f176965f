package io.dts.scheduler.config;

import java.util.HashMap;
import java.util.Map;

import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** {@link SchedulerProperties} for tests: small, valid values, bound as Spring binds them, with the given ones changed. */
public final class TestSchedulerProperties {

    private TestSchedulerProperties() {
    }

    public static SchedulerProperties with(Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>(Map.ofEntries(
                Map.entry("max-request-size", "16MB"), Map.entry("large-request-size", "1MB"), Map.entry("max-large-requests", "2"), Map.entry("max-items", "1000"), Map.entry("max-item-size", "64KB"),
                Map.entry("max-template-size", "64KB"), Map.entry("max-variables-size", "1MB"), Map.entry("max-command-size", "100KB"),
                Map.entry("worker-liveness", "10s"), Map.entry("worker-cache", "250ms"), Map.entry("shard-publish-timeout", "1s"),
                Map.entry("sweep-interval", "2s"), Map.entry("sweep-batch", "100"), Map.entry("sweep-grace", "15s"),
                Map.entry("sweep-lease", "10s"), Map.entry("idempotency-retention", "7d"), Map.entry("max-results-page", "1000"),
                Map.entry("max-results-page-size", "4MB"), Map.entry("retention", "7d"), Map.entry("stall-timeout", "2m"), Map.entry("shards-per-worker", "1"),
                Map.entry("max-priority.submitter", "5"), Map.entry("max-priority.operator", "9"),
                Map.entry("owner-limits.unfinished-tasks", "0"), Map.entry("owner-limits.running-items", "0")));
        values.putAll(overrides);
        return new Binder(new MapConfigurationPropertySource(values)).bind("", SchedulerProperties.class).get();
    }
}
