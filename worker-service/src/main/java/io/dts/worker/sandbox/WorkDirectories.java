package io.dts.worker.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.dts.worker.config.WorkerProperties;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The directories items work in. Under {@code worker.work-dir}, this worker has a root only it may list
 * (0711); each set of stdio files a directory of random name that only this worker may write;
 * each item a fresh, empty 0700 directory of random name owned by the item's user, also its {@code HOME}
 * and {@code TMPDIR}, removed when the item ends. An item cannot find another's files, nor swap
 * anything under this worker's feet: the only directory it may write is its own.
 */
@Component
public class WorkDirectories {

    private static final Logger log = LoggerFactory.getLogger(WorkDirectories.class);

    private final ItemSandbox sandbox;
    private final Path root;

    public WorkDirectories(WorkerProperties properties, ItemSandbox sandbox) {
        this.sandbox = sandbox;
        // A new directory of a name nobody can guess: never one that exists already, which an item (say, of
        // an earlier worker, in a shared /tmp) could have made or linked elsewhere.
        this.root = Path.of(properties.workDir(), "dts-" + properties.id() + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(root.getParent());
            Files.createDirectory(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the work directory " + root, e);
        }
        if (!reachableByItems()) {
            throw new IllegalStateException("Items cannot enter worker.work-dir " + root + ": every directory above it must be "
                    + "searchable by worker.sandbox.user (chmod o+x), or choose another worker.work-dir");
        }
    }

    /**
     * Stdio files in a new directory of random name: stdin and the command readable by items; stdout and
     * stderr owned by the item user when {@code itemsOpenOutputs} (a {@link PersistentShell} opens them as
     * that user, and its directory serves one task only), else by this worker (the item writes through what
     * it inherits). An item cannot add, link or swap anything in the directory.
     */
    public StdioFiles newStdioFiles(boolean itemsOpenOutputs) {
        try {
            Path dir = Files.createDirectory(root.resolve(UUID.randomUUID().toString()));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
            StdioFiles files = new StdioFiles(dir, dir.resolve("in"), dir.resolve("out"), dir.resolve("err"), dir.resolve("cmd"));
            for (Path readable : List.of(files.in(), files.command())) {
                Files.createFile(readable);
                Files.setPosixFilePermissions(readable, PosixFilePermissions.fromString("rw-r--r--"));
            }
            for (Path output : List.of(files.out(), files.err())) {
                Files.createFile(output);
                Files.setPosixFilePermissions(output, PosixFilePermissions.fromString("rw-------"));
                if (itemsOpenOutputs) {
                    giveToItemUser(output);
                }
            }
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the stdio files under " + root, e);
        }
    }

    /** Removes stdio files and their directory once no process uses them; item directories left there as the item user. */
    public void removeStdioFiles(StdioFiles files) {
        try {
            removeFilesDirectory(files.dir());
        } catch (IOException e) {
            log.warn("Cannot remove the stdio files {}: {}", files.dir(), e.toString());
        }
    }

    /** A fresh, empty directory for one item, in the slice thread's directory. */
    public Path newItemDirectory(StdioFiles files) throws IOException {
        Path dir = Files.createDirectory(files.dir().resolve(UUID.randomUUID().toString()),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        giveToItemUser(dir);
        return dir;
    }

    /**
     * Removes an item's directory once no process of the item is left. What the item left in it is removed
     * as the item's user, inside the sandbox, so a link planted there cannot make this worker delete
     * anything else.
     */
    public void remove(Path itemDirectory) {
        try {
            Files.delete(itemDirectory);
        } catch (NoSuchFileException gone) {
            // Nothing to do.
        } catch (DirectoryNotEmptyException notEmpty) {
            removeAsItemUser(itemDirectory);
        } catch (IOException e) {
            log.warn("Cannot remove the item directory {}: {}", itemDirectory, e.toString());
        }
    }

    private void removeAsItemUser(Path itemDirectory) {
        try {
            // Its contents only: the directory itself is in one only this worker may write.
            Process rm = sandbox.processBuilder(List.of("bash", "-c", "chmod -R u+rwx -- \"$1\" 2>/dev/null; find \"$1\" -mindepth 1 -delete",
                            "dts-cleanup", itemDirectory.toString()))
                    .directory(root.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!rm.waitFor(60, TimeUnit.SECONDS)) {
                rm.destroyForcibly();
            }
            Files.delete(itemDirectory);
        } catch (IOException e) {
            log.warn("Cannot remove the item directory {}: {}", itemDirectory, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean reachableByItems() {
        try {
            Process test = sandbox.processBuilder(List.of("test", "-x", root.toString())).directory(Path.of("/").toFile()).start();
            return test.waitFor(30, TimeUnit.SECONDS) && test.exitValue() == 0;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start the sandbox to check " + root, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void giveToItemUser(Path path) throws IOException {
        if (sandbox.itemUser().isPresent()) {
            Files.setOwner(path, sandbox.itemUser().get());
        }
    }

    /** Removes everything this worker made; items' directories as the item user, like {@link #remove}. */
    @PreDestroy
    void removeAll() {
        try (Stream<Path> filesDirectories = Files.list(root)) {
            for (Path filesDirectory : filesDirectories.toList()) {
                removeFilesDirectory(filesDirectory);
            }
            Files.deleteIfExists(root);
        } catch (IOException e) {
            log.warn("Cannot remove the work directory {}: {}", root, e.toString());
        }
    }

    private void removeFilesDirectory(Path filesDirectory) throws IOException {
        try (Stream<Path> entries = Files.list(filesDirectory)) {
            for (Path entry : entries.toList()) {
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    remove(entry);
                } else {
                    Files.deleteIfExists(entry);
                }
            }
        } catch (NoSuchFileException gone) {
            return;
        }
        Files.deleteIfExists(filesDirectory);
    }
}
