package io.dts.scheduler.task.events;

/** Items finished per second since a stream began, and the time the rest would take at that rate. */
final class TaskRate {

    private final long startedAt;
    private final long doneAtStart;

    TaskRate(long startedAt, long doneAtStart) {
        this.startedAt = startedAt;
        this.doneAtStart = doneAtStart;
    }

    double perSecond(long now, long done) {
        long elapsed = now - startedAt;
        return elapsed < 1_000 ? 0 : Math.round((done - doneAtStart) * 10_000.0 / elapsed) / 10.0;
    }

    /** @return null while there is no rate yet */
    Long etaSeconds(long now, long done, long total) {
        double rate = perSecond(now, done);
        return rate <= 0 ? null : Math.round((total - done) / rate);
    }
}
