package io.dts.worker.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import org.springframework.util.unit.DataSize;

/** Worker settings for tests: application.yml's values with short limits, changed where a test needs it. */
public final class TestWorkerProperties {

    private final Path workDir;
    private int threads = 2;
    private Duration redisOutageTolerance = Duration.ofSeconds(5);
    private Duration itemRetryBackoff = Duration.ofMillis(500);
    private Duration itemRetryMaxBackoff = Duration.ofSeconds(30);
    private int maxPasses = 3;
    private int maxShardDeliveries = 3;

    private TestWorkerProperties(Path workDir) {
        this.workDir = workDir;
    }

    /** A worker of its own id, whose per-thread stdio files go to {@code workDir}. */
    public static TestWorkerProperties aWorker(Path workDir) {
        return new TestWorkerProperties(workDir);
    }

    public TestWorkerProperties threads(int threads) {
        this.threads = threads;
        return this;
    }

    public TestWorkerProperties redisOutageTolerance(Duration tolerance) {
        this.redisOutageTolerance = tolerance;
        return this;
    }

    public TestWorkerProperties itemRetryBackoff(Duration first, Duration max) {
        this.itemRetryBackoff = first;
        this.itemRetryMaxBackoff = max;
        return this;
    }

    public TestWorkerProperties maxPasses(int maxPasses) {
        this.maxPasses = maxPasses;
        return this;
    }

    public TestWorkerProperties maxShardDeliveries(int maxShardDeliveries) {
        this.maxShardDeliveries = maxShardDeliveries;
        return this;
    }

    public WorkerProperties build() {
        return new WorkerProperties("test-worker-" + UUID.randomUUID(), threads, Duration.ofSeconds(2), Duration.ofSeconds(10),
                Duration.ofMinutes(1), Duration.ofMillis(500), DataSize.ofKilobytes(64), 4, 64, Duration.ofMillis(200), "g",
                workDir.toString(), Duration.ofMillis(500), redisOutageTolerance, Duration.ofSeconds(5), maxShardDeliveries,
                WorkerProperties.Shell.PERSISTENT, itemRetryBackoff, itemRetryMaxBackoff, maxPasses);
    }
}
