package io.dts.model;

/**
 * When to stop a fan-out early, as a client asks for it: {@code {"when": "soon"|"now", "failures": N | "X%"}}.
 * An item counts as failed once its retries are used up. {@code soon}: no new item starts, running ones
 * finish; {@code now}: running ones are killed too. Checked by the scheduler ({@code failures} is a
 * whole number of at least 1, or a percentage over 0 and at most 100).
 *
 * @param failures a JSON number or a string such as {@code "10%"}
 */
public record HaltRule(String when, Object failures) {
}
