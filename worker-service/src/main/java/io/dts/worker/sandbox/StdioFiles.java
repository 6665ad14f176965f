package io.dts.worker.sandbox;

import java.nio.file.Path;

/**
 * The files one slice thread uses for an item's stdin, stdout and stderr (and the command of the
 * persistent shell), made by {@link WorkDirectories}. Files instead of pipes: no pipe can fill up and
 * block a process, and no reader thread is needed per process.
 */
public record StdioFiles(Path dir, Path in, Path out, Path err, Path command) {
}
