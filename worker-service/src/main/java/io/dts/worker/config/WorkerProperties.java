package io.dts.worker.config;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Worker settings under {@code worker.*}.
 *
 * @param id                 this worker's id; default {@code <host>-<pid>}
 * @param threads            items run at once; 0 (default) means one per available core
 * @param heartbeatInterval  how often the worker tells Redis it is alive
 * @param heartbeatTtl       after this long without a heartbeat the worker counts as gone
 * @param defaultTimeout     per-item time limit when the task sets none
 * @param killGrace          between TERM and KILL when an item is stopped
 * @param outputLimit        stdout and stderr kept per item; the rest is dropped and flagged truncated
 * @param maxShardsInFlight  shards held at once, taken from Kafka and not finished (their items wait together for the slots)
 * @param resultBatch        results written to Redis in one transaction
 * @param resultFlushInterval longest a finished item waits before its result is written
 * @param consumerGroup      Kafka consumer group of the workers on the shard topic
 * @param workDir            where the items' directories and stdio files live; default {@value #DEFAULT_WORK_DIR}, or
 *                           the system temp dir with {@code isolation=none}. With a namespace it must lie outside
 *                           {@code /tmp}, {@code /var/tmp}, {@code /dev/shm} and {@code /run/lock}: items get private ones
 * @param cancelCheckInterval how often the worker checks whether a task it runs was cancelled
 * @param redisOutageTolerance how long a shard waits for Redis to come back before it fails (and is redelivered)
 * @param drainTimeout       on a clean stop, how long running items may take to finish before they are killed
 * @param maxShardDeliveries once this many workers died running a shard (a run registered in Redis whose
 *                           process is gone), the next worker quarantines it: its unrecorded items fail with
 *                           the reason, the task finishes, and the shard goes to the dead letter topic. It
 *                           counts deaths, not deliveries (retries, republishes, hand-backs); the name stays
 *                           for compatibility
 * @param shell              {@code persistent} (default): one long-lived bash per thread forks a subshell
 *                           per item; {@code spawn}: a new bash process per item
 * @param itemRetryBackoff   wait before an item's first retry (the task's {@code maxRetries}); doubled before each next one
 * @param itemRetryMaxBackoff longest wait between two attempts of an item
 * @param maxPasses          passes over a shard whose acknowledged results Redis lost (a restart) before the shard
 *                           fails and is left to Kafka redelivery
 * @param stealInterval      how often a worker with a free slot and nothing to run looks for items another worker's shard
 *                           has not started yet, and takes half of them (work stealing); 0 for never, which also keeps
 *                           this worker's shards its own
 * @param sandbox            how items are confined ({@code worker.sandbox.*})
 */
@Validated
@ConfigurationProperties("worker")
public record WorkerProperties(
        String id,
        @Min(0) int threads,
        @NotNull Duration heartbeatInterval,
        @NotNull Duration heartbeatTtl,
        @NotNull Duration defaultTimeout,
        @NotNull Duration killGrace,
        @NotNull DataSize outputLimit,
        @Min(1) int maxShardsInFlight,
        @Min(1) int resultBatch,
        @NotNull Duration resultFlushInterval,
        @NotBlank String consumerGroup,
        String workDir,
        @NotNull Duration cancelCheckInterval,
        @NotNull Duration redisOutageTolerance,
        @NotNull Duration drainTimeout,
        @Min(1) int maxShardDeliveries,
        @NotNull Shell shell,
        @NotNull Duration itemRetryBackoff,
        @NotNull Duration itemRetryMaxBackoff,
        @Min(1) int maxPasses,
        @NotNull Duration stealInterval,
        @NotNull @Valid Sandbox sandbox) {

    /** How items are started; see {@link #shell}. */
    public enum Shell { PERSISTENT, SPAWN }

    /**
     * How items are confined. The limits hold for each process of an item ({@code ulimit}); processes
     * count for the whole sandbox user.
     *
     * @param user      the unprivileged user items run as when this worker may switch users (it runs as root or
     *                  holds CAP_SETUID)
     * @param sameUser  run items as this worker's own user, for a worker that cannot switch users; refused as root
     * @param isolation {@code pid} (default): each thread's items run in a private PID namespace, where they see
     *                  no other process and none outlives its item, with a private directory on /tmp, /var/tmp,
     *                  /dev/shm and /run/lock; {@code bwrap}: bubblewrap adds a private network and a read-only
     *                  system, with a private /tmp; {@code none}: neither (items share the host's /tmp, and a
     *                  process an item detaches with setsid can outlive it)
     * @param passEnv   worker environment variables items get too, besides {@code PATH}, {@code LANG} and {@code LC_*}
     * @param cpuTime   CPU time per process
     * @param memory    address space per process
     * @param processes processes and threads of the sandbox user at once
     * @param fileSize  largest file an item may write, its stdout and stderr included: a flood stops there
     * @param openFiles open files per process
     */
    public record Sandbox(
            String user,
            boolean sameUser,
            @NotNull Isolation isolation,
            @NotNull List<@NotBlank String> passEnv,
            @NotNull Duration cpuTime,
            @NotNull DataSize memory,
            @Min(1) int processes,
            @NotNull DataSize fileSize,
            @Min(16) int openFiles) {

        public enum Isolation { PID, BWRAP, NONE }
    }

    /** Whether this worker takes part in work stealing, as a thief and as an owner. */
    public boolean stealing() {
        return !stealInterval.isNegative() && !stealInterval.isZero();
    }

    /** Where items work when {@code worker.work-dir} is not set and items run in a namespace. */
    public static final String DEFAULT_WORK_DIR = "/var/lib/dts-worker";

    public WorkerProperties {
        if (id == null || id.isBlank()) {
            id = hostName() + "-" + ProcessHandle.current().pid();
        }
        if (threads == 0) {
            threads = Runtime.getRuntime().availableProcessors();
        }
        if (workDir == null || workDir.isBlank()) {
            boolean namespaced = sandbox == null || sandbox.isolation() != Sandbox.Isolation.NONE;
            workDir = namespaced ? DEFAULT_WORK_DIR : System.getProperty("java.io.tmpdir");
        }
    }

    public static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return ManagementFactory.getRuntimeMXBean().getName();
        }
    }
}
