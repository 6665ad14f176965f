package io.dts.scheduler.task.domain;

/**
 * Who first used a client-chosen name (an {@code Idempotency-Key}, a client-sent task id): the task it
 * named and the fingerprint of the request, so that a reuse can tell a retry from a different request.
 *
 * @param fingerprint {@link NewTask#fingerprint()} of the first request; {@code null} for claims
 *                    written before fingerprints were kept, which match any request
 */
public record RequestClaim(String taskId, String fingerprint) {

    public boolean sameRequestAs(RequestClaim other) {
        return fingerprint == null || other.fingerprint == null || fingerprint.equals(other.fingerprint);
    }
}
