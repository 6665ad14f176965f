package io.dts.worker.execution;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The files one slice thread uses for an item's stdin, stdout and stderr (and the command of the
 * persistent shell). Files instead of pipes: no pipe can fill up and block a process, and no
 * reader thread is needed per process.
 */
record StdioFiles(Path dir, Path in, Path out, Path err, Path command) {

    static StdioFiles create(Path parent, String name) {
        try {
            Path dir = Files.createDirectories(parent.resolve(name));
            dir.toFile().deleteOnExit();
            StdioFiles files = new StdioFiles(dir, dir.resolve("in"), dir.resolve("out"), dir.resolve("err"), dir.resolve("cmd"));
            for (Path file : new Path[] {files.in, files.out, files.err, files.command}) {
                Files.deleteIfExists(file);
                Files.createFile(file).toFile().deleteOnExit();
            }
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the work files under " + parent, e);
        }
    }
}
