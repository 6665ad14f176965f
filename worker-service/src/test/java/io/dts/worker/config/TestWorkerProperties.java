package io.dts.worker.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.springframework.util.unit.DataSize;

/** Worker settings for tests: application.yml's values with short limits, changed where a test needs it. */
public final class TestWorkerProperties {

    private final Path workDir;
    private String id = "test-worker-" + UUID.randomUUID();
    private int threads = 2;
    private Duration heartbeatTtl = Duration.ofSeconds(10);
    private DataSize outputLimit = DataSize.ofKilobytes(64);
    private Duration resultFlushInterval = Duration.ofMillis(200);
    private Duration drainTimeout = Duration.ofSeconds(5);
    private WorkerProperties.Shell shell = WorkerProperties.Shell.PERSISTENT;
    private Duration redisOutageTolerance = Duration.ofSeconds(5);
    private Duration itemRetryBackoff = Duration.ofMillis(500);
    private Duration itemRetryMaxBackoff = Duration.ofSeconds(30);
    private int maxPasses = 3;
    private int maxShardsInFlight = 4;
    private int maxShardDeliveries = 3;
    private Duration stealInterval = Duration.ZERO;
    private WorkerProperties.Sandbox sandbox = sandbox(WorkerProperties.Sandbox.Isolation.PID, DataSize.ofMegabytes(256));

    private TestWorkerProperties(Path workDir) {
        this.workDir = workDir;
    }

    /**
     * A worker of its own id, whose items work under {@code workDir}: a test's own temp dir (0700) is made
     * searchable for the sandbox user; a directory others may search already (the system's /tmp) is left alone.
     */
    public static TestWorkerProperties aWorker(Path workDir) {
        try {
            if (Files.notExists(workDir)) {
                // The worker makes it; its parent must let the sandbox user through.
                aWorker(workDir.getParent());
                return new TestWorkerProperties(workDir);
            }
            int mode = (int) Files.getAttribute(workDir, "unix:mode");
            if ((mode & 0001) == 0) {
                Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwx--x--x"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new TestWorkerProperties(workDir);
    }

    public TestWorkerProperties id(String id) {
        this.id = id;
        return this;
    }

    public TestWorkerProperties heartbeatTtl(Duration heartbeatTtl) {
        this.heartbeatTtl = heartbeatTtl;
        return this;
    }

    public TestWorkerProperties outputLimit(DataSize outputLimit) {
        this.outputLimit = outputLimit;
        return this;
    }

    public TestWorkerProperties resultFlushInterval(Duration resultFlushInterval) {
        this.resultFlushInterval = resultFlushInterval;
        return this;
    }

    public TestWorkerProperties drainTimeout(Duration drainTimeout) {
        this.drainTimeout = drainTimeout;
        return this;
    }

    public TestWorkerProperties shell(WorkerProperties.Shell shell) {
        this.shell = shell;
        return this;
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

    public TestWorkerProperties maxShardsInFlight(int maxShardsInFlight) {
        this.maxShardsInFlight = maxShardsInFlight;
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

    /** Work stealing every {@code interval}; off (zero) unless a test asks for it. */
    public TestWorkerProperties stealInterval(Duration interval) {
        this.stealInterval = interval;
        return this;
    }

    /** The sandbox of application.yml, with this isolation and file size limit. */
    public static WorkerProperties.Sandbox sandbox(WorkerProperties.Sandbox.Isolation isolation, DataSize fileSize) {
        return new WorkerProperties.Sandbox("dts-item", false, isolation, List.of("DTS_TEST_PASSED"),
                Duration.ofHours(1), DataSize.ofGigabytes(4), 512, fileSize, 1024);
    }

    public TestWorkerProperties sandbox(WorkerProperties.Sandbox sandbox) {
        this.sandbox = sandbox;
        return this;
    }

    public WorkerProperties build() {
        return new WorkerProperties(id, threads, Duration.ofSeconds(2), heartbeatTtl,
                Duration.ofMinutes(1), Duration.ofMillis(500), outputLimit, maxShardsInFlight, 64, resultFlushInterval, "g",
                workDir.toString(), Duration.ofMillis(500), redisOutageTolerance, drainTimeout, maxShardDeliveries,
                shell, itemRetryBackoff, itemRetryMaxBackoff, maxPasses, stealInterval, sandbox);
    }
}
