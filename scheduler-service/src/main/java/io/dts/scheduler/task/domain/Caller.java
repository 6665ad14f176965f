package io.dts.scheduler.task.domain;

/**
 * Who sent a request, as the task API needs to know: the owner its new tasks get (a key's name, a
 * JWT's subject) and whether it sees every task or only its own. A caller that sees only its own
 * (a submitter) is told that another owner's task does not exist, and lists only its own.
 */
public record Caller(String name, boolean seesEveryTask) {

    public boolean sees(Task task) {
        return seesEveryTask || name.equals(task.definition().owner());
    }

    /** The owner a listing is limited to; {@code null} for every owner. */
    public String ownerShown() {
        return seesEveryTask ? null : name;
    }
}
