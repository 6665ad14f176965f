package io.dts.scheduler.task.domain;

import java.time.Duration;

/** A lock all schedulers share, held by one owner at a time for at most a lease. */
public interface ClusterLock {

    /** Takes a cluster-wide lock for at most {@code lease} if no one holds it. */
    boolean tryLock(String name, String owner, Duration lease);

    /** Extends the lock to {@code lease} from now, if {@code owner} still holds it; false when it was lost. */
    boolean renew(String name, String owner, Duration lease);

    /** Gives the lock back, if {@code owner} still holds it. */
    void unlock(String name, String owner);
}
