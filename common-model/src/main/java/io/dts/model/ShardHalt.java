package io.dts.model;

/**
 * A task's halt rule as its shards carry it to the workers.
 *
 * @param rule      the rule as GNU Parallel words it ({@code soon,fail=10%}), for the halt reason
 * @param threshold the failed items that halt the task (a percentage already applied to the task's size)
 * @param now       kill the running items too, not only start no new one
 */
public record ShardHalt(String rule, long threshold, boolean now) {
}
