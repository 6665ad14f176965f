package io.dts.scheduler.config;

import java.time.Duration;

import io.dts.model.InputLimits;
import io.dts.model.ItemPlaceholder;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Scheduler settings under {@code scheduler.*}.
 *
 * @param maxRequestSize  largest accepted request body (413 above)
 * @param largeRequestSize a body over this (or streamed without a length) is a large request
 * @param maxLargeRequests large requests read at once; more get a 503 with Retry-After
 * @param maxItems        most items in one inputList (413 above)
 * @param maxItemSize     largest single item, in UTF-8 bytes (413 above)
 * @param maxTemplateSize largest templateFunction, in UTF-8 bytes (413 above)
 * @param maxVariablesSize largest variableJson, in UTF-8 bytes of its JSON text (413 above)
 * @param maxCommandSize  largest command once rendered, and once {{item}} holds the largest quoted
 *                        item (413 above); at most 131,071 bytes, what Linux lets one argument be, so
 *                        every accepted task can run, and far below a Kafka record
 * @param workerLiveness  a worker whose last heartbeat is older than this is not counted
 * @param workerCache     how long a scheduler reuses the live workers it read: heartbeats come every few
 *                        seconds, so once per this period is enough however many tasks arrive
 * @param shardPublishTimeout longest a scheduler waits for Kafka to take a task's shards before it
 *                        leaves them to the sweeper
 * @param sweepInterval   how often one scheduler looks for accepted tasks that are not sharded yet
 * @param sweepBatch      most pending, and most running, tasks one sweep looks at
 * @param sweepGrace      a pending task touched (created, publish retried) more recently than this is left
 *                        to the scheduler publishing it; longer than one publish attempt plus its backoff
 * @param sweepLease      how long the sweep lock holds without renewal: the sweep renews it before each
 *                        task, so it must exceed {@code shardPublishTimeout}; a dead sweeper's lock frees
 *                        itself after it
 * @param idempotencyRetention how long an Idempotency-Key keeps pointing at its task
 * @param maxResultsPage  most results returned by one results request, and most tasks by one listing
 * @param maxResultsPageSize most bytes of results returned by one results request (it then says where to go on)
 * @param retention       how long a finished task and its results are kept; running tasks never expire
 * @param stallTimeout    a running task with no progress for this long, and no live worker running it,
 *                        gets its unfinished shards published again
 * @param shardsPerWorker shards a task is split into per live worker (fewer when it has fewer items), dealt round robin:
 *                        more spread a run of slow items next to each other over the workers; 1 gives each worker one range
 * @param maxPriority     the highest {@code priority} each role that submits may give a task
 * @param ownerLimits     what one owner may have at once; 0 for no limit
 */
@Validated
@ConfigurationProperties("scheduler")
public record SchedulerProperties(
        @NotNull DataSize maxRequestSize,
        @NotNull DataSize largeRequestSize,
        @Min(1) int maxLargeRequests,
        @Min(1) int maxItems,
        @NotNull DataSize maxItemSize,
        @NotNull DataSize maxTemplateSize,
        @NotNull DataSize maxVariablesSize,
        @NotNull DataSize maxCommandSize,
        @NotNull Duration workerLiveness,
        @NotNull Duration workerCache,
        @NotNull Duration shardPublishTimeout,
        @NotNull Duration sweepInterval,
        @Min(1) int sweepBatch,
        @NotNull Duration sweepGrace,
        @NotNull Duration sweepLease,
        @NotNull Duration idempotencyRetention,
        @Min(1) int maxResultsPage,
        @NotNull DataSize maxResultsPageSize,
        @NotNull Duration retention,
        @NotNull Duration stallTimeout,
        @Min(1) @Max(64) int shardsPerWorker,
        @NotNull @Valid MaxPriority maxPriority,
        @NotNull @Valid OwnerLimits ownerLimits) {

    /**
     * @param unfinishedTasks tasks accepted and not finished; a submit over it is a 429
     * @param runningItems    items running at once in the cluster, over all the owner's tasks
     */
    public record OwnerLimits(@Min(0) int unfinishedTasks, @Min(0) int runningItems) {
    }

    /** The highest priority a submitter's and an operator's tasks may have, each 0-9. */
    public record MaxPriority(@Min(0) @Max(9) int submitter, @Min(0) @Max(9) int operator) {
    }

    /** Deepest JSON nesting of a variable or an item: no command needs more, and a deep tree costs stack to write out. */
    public static final int MAX_JSON_DEPTH = 32;

    public InputLimits inputLimits() {
        return new InputLimits(maxItems, maxItemSize.toBytes(), MAX_JSON_DEPTH);
    }

    public SchedulerProperties {
        if (sweepLease != null && shardPublishTimeout != null && sweepLease.compareTo(shardPublishTimeout) <= 0) {
            throw new IllegalArgumentException("scheduler.sweep-lease (" + sweepLease + ") must be longer than scheduler.shard-publish-timeout ("
                    + shardPublishTimeout + "): one sweep step may wait that long");
        }
        if (maxCommandSize != null && maxCommandSize.toBytes() > ItemPlaceholder.MAX_COMMAND_BYTES) {
            throw new IllegalArgumentException("scheduler.max-command-size is " + maxCommandSize.toBytes()
                    + " bytes; a command over " + ItemPlaceholder.MAX_COMMAND_BYTES + " bytes cannot run on Linux");
        }
    }
}
