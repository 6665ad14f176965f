package io.dts.worker.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import io.dts.worker.config.WorkerProperties;
import io.dts.worker.config.WorkerProperties.Sandbox.Isolation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * What every item runs inside: as the unprivileged {@code worker.sandbox.user} (never as root, never as this
 * worker's user unless {@code same-user} is chosen), with no capabilities and no new privileges
 * ({@code setpriv}), in a private PID namespace ({@code unshare}) or a bubblewrap, with a private {@code /tmp},
 * a clean environment and per-process limits. The worker checks at start that it can do all of this and refuses
 * to start otherwise.
 */
@Component
public class ItemSandbox {

    private static final Logger log = LoggerFactory.getLogger(ItemSandbox.class);
    private static final int CAP_SETUID = 7;

    /** The places every user may write; in a namespace each sandbox has its own directory on all of them. */
    static final List<Path> SHARED_WRITABLE = List.of(Path.of("/tmp"), Path.of("/var/tmp"), Path.of("/dev/shm"), Path.of("/run/lock"));

    /**
     * Between {@code unshare} and the switch to the item user, still root: binds the sandbox's own directory on
     * each of {@link #SHARED_WRITABLE} in the sandbox's mount namespace (private: nothing propagates to the host).
     */
    private static final String BIND_PRIVATE_TMP = "__dts_tmp=$1; shift; for __dts_d in "
            + String.join(" ", SHARED_WRITABLE.stream().map(Path::toString).toList())
            + "; do [ ! -d \"$__dts_d\" ] || mount --bind -- \"$__dts_tmp\" \"$__dts_d\" || exit 125; done; exec \"$@\"";

    private final WorkerProperties.Sandbox settings;
    private final Path workDir;
    private final List<String> userSwitch;
    private final Map<String, String> environment;
    private final Optional<UserPrincipal> itemUser;

    public ItemSandbox(WorkerProperties properties) {
        this.settings = properties.sandbox();
        this.itemUser = itemUser(settings);
        this.userSwitch = userSwitch(settings);
        this.workDir = madeWorkDir(Path.of(properties.workDir()));
        if (settings.isolation() != Isolation.NONE) {
            SHARED_WRITABLE.stream().filter(workDir::startsWith).findFirst().ifPresent(shared -> {
                throw new IllegalStateException("worker.work-dir " + workDir + " is under " + shared + ", which each item gets a "
                        + "private one of, so its own directory would be hidden from it: choose a directory outside "
                        + SHARED_WRITABLE + " (the default is " + WorkerProperties.DEFAULT_WORK_DIR + ")");
            });
        }
        this.environment = environment(settings, System.getenv());
        long uid = probe();
        log.info("Items run as uid {} with isolation {}", uid, settings.isolation().name().toLowerCase());
    }

    /**
     * A process builder for {@code command}, run in the sandbox as the item user, with its clean environment and,
     * in a namespace, {@code privateTmp} as its {@code /tmp}: a directory the item user owns and nothing else uses.
     */
    public ProcessBuilder processBuilder(Path privateTmp, List<String> command) {
        return processBuilder(launcher(Optional.of(privateTmp)), command);
    }

    /** For the worker's own short commands in the sandbox (a probe, a clean-up): the host's {@code /tmp}. */
    ProcessBuilder processBuilder(List<String> command) {
        return processBuilder(launcher(Optional.empty()), command);
    }

    private ProcessBuilder processBuilder(List<String> launcher, List<String> command) {
        List<String> argv = new ArrayList<>(launcher);
        argv.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(argv);
        builder.environment().clear();
        builder.environment().putAll(environment);
        return builder;
    }

    /** The process an item's processes descend from: inside a namespace the launcher's child, else the process itself. */
    public ProcessHandle itemParent(Process process) throws InterruptedException {
        if (settings.isolation() == Isolation.NONE) {
            return process.toHandle();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Optional<ProcessHandle> child = ProcessTree.children(process.toHandle()).stream().findFirst();
            if (child.isPresent()) {
                return child.get();
            }
            if (!process.isAlive()) {
                break;
            }
            Thread.sleep(1);
        }
        throw new IllegalStateException("The sandbox started no shell (exit " + (process.isAlive() ? "none" : process.exitValue()) + ")");
    }

    /**
     * True when an item's shell is the first process of its own PID namespace, so {@code kill -KILL -1}
     * there reaches every process the item left behind, and nothing else.
     */
    public boolean namespaced() {
        return settings.isolation() != Isolation.NONE;
    }

    /** Bash's {@code ulimit} for the limits; set hard, so an item cannot raise them. */
    public String limits() {
        return "ulimit -H -S -c 0 -t %d -v %d -u %d -f %d -n %d".formatted(settings.cpuTime().toSeconds(),
                settings.memory().toKilobytes(), settings.processes(), settings.fileSize().toKilobytes(), settings.openFiles());
    }

    /** The user that owns an item's files: the sandbox user, or empty when items run as this worker's user. */
    Optional<UserPrincipal> itemUser() {
        return itemUser;
    }

    private static Optional<UserPrincipal> itemUser(WorkerProperties.Sandbox settings) {
        Credentials self = Credentials.ofThisProcess();
        if (settings.sameUser()) {
            if (self.uid() == 0) {
                throw new IllegalStateException("worker.sandbox.same-user=true would run items as root; "
                        + "run the worker as an unprivileged user, or let items run as worker.sandbox.user");
            }
            return Optional.empty();
        }
        if (!self.maySwitchUsers()) {
            throw new IllegalStateException("This worker (uid " + self.uid() + ") cannot run items as another user: "
                    + "run it as root or with CAP_SETUID so items run as worker.sandbox.user, or set "
                    + "worker.sandbox.same-user=true to run them as uid " + self.uid() + " (see docs/security.md)");
        }
        try {
            return Optional.of(Path.of("/").getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(settings.user()));
        } catch (IOException e) {
            throw new IllegalStateException("worker.sandbox.user '" + settings.user() + "' does not exist; create it with: "
                    + "useradd --system --no-create-home --shell /usr/sbin/nologin " + settings.user(), e);
        }
    }

    /**
     * The namespaces around every item, killed with the thread that started them (setpriv --pdeathsig, bwrap
     * --die-with-parent), with {@code privateTmp} on {@code /tmp}, then the switch to the item user: no groups,
     * no capabilities, no new privileges. A change of user clears the parent-death signal, so it is set again.
     */
    private List<String> launcher(Optional<Path> privateTmp) {
        List<String> argv = new ArrayList<>();
        switch (settings.isolation()) {
            case PID -> {
                // unshare's mount namespace (for --mount-proc) keeps mounts private: the bind stays inside.
                argv.addAll(List.of("setpriv", "--pdeathsig=SIGKILL", "--", "unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--"));
                privateTmp.ifPresent(tmp -> argv.addAll(List.of("bash", "-c", BIND_PRIVATE_TMP, "dts-sandbox", tmp.toString())));
            }
            case BWRAP -> {
                argv.addAll(List.of("bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"));
                argv.addAll(privateTmp.map(tmp -> List.of("--bind", tmp.toString(), "/tmp")).orElse(List.of("--tmpfs", "/tmp")));
                argv.addAll(List.of("--bind", workDir.toString(), workDir.toString(), "--unshare-pid", "--unshare-net", "--unshare-ipc",
                        "--unshare-uts", "--die-with-parent", "--new-session", "--as-pid-1", "--"));
            }
            case NONE -> {
                // No namespace: items share the host's /tmp; their TMPDIR is their own directory.
            }
        }
        argv.addAll(userSwitch);
        return List.copyOf(argv);
    }

    private static List<String> userSwitch(WorkerProperties.Sandbox settings) {
        List<String> argv = new ArrayList<>(List.of("setpriv", "--pdeathsig=SIGKILL"));
        if (!settings.sameUser()) {
            argv.addAll(List.of("--reuid=" + settings.user(), "--regid=" + primaryGroup(settings.user()),
                    "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"));
        }
        argv.add("--");
        return List.copyOf(argv);
    }

    /** The work directory, made if missing (the sandbox binds it), as its real path: no link leads it under /tmp unseen. */
    private static Path madeWorkDir(Path configured) {
        try {
            return Files.createDirectories(configured).toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create worker.work-dir " + configured + ": " + e.getMessage()
                    + "; create it, or choose another worker.work-dir", e);
        }
    }

    /** PATH, LANG and LC_* of this worker, and the names the operator passes; nothing else of its own. */
    static Map<String, String> environment(WorkerProperties.Sandbox settings, Map<String, String> worker) {
        Map<String, String> allowed = new HashMap<>();
        worker.forEach((name, value) -> {
            if (name.equals("PATH") || name.equals("LANG") || name.startsWith("LC_") || settings.passEnv().contains(name)) {
                allowed.put(name, value);
            }
        });
        allowed.putIfAbsent("PATH", "/usr/local/bin:/usr/bin:/bin");
        return Map.copyOf(allowed);
    }

    /** Runs {@code id -u} in the sandbox: proves the launcher works here and tells who items run as. */
    private long probe() {
        try {
            // With a private /tmp (the work directory, for the probe): the bind works too.
            Process process = processBuilder(workDir, List.of("id", "-u")).directory(Path.of("/").toFile()).redirectErrorStream(true).start();
            boolean ended = process.waitFor(30, TimeUnit.SECONDS);
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!ended || process.exitValue() != 0 || !output.matches("\\d+")) {
                process.destroyForcibly();
                throw new IllegalStateException("Cannot run items in the sandbox (" + String.join(" ", launcher(Optional.of(workDir))) + "): " + output
                        + (settings.isolation() == Isolation.PID ? "; a PID namespace needs root or CAP_SYS_ADMIN, else set worker.sandbox.isolation=none" : "")
                        + (settings.isolation() == Isolation.BWRAP ? "; install bubblewrap, or set worker.sandbox.isolation=pid" : ""));
            }
            long uid = Long.parseLong(output);
            if (uid == 0) {
                throw new IllegalStateException("Items would run as root; refusing to start");
            }
            return uid;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start the sandbox probe " + launcher(Optional.empty()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while probing the sandbox", e);
        }
    }

    private static String primaryGroup(String user) {
        try {
            Process id = new ProcessBuilder("id", "-g", user).redirectErrorStream(true).start();
            String gid = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (id.waitFor() != 0) {
                throw new IllegalStateException("Cannot find the group of worker.sandbox.user '" + user + "': " + gid);
            }
            return gid;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** This process's real uid and whether it may switch users, from {@code /proc/self/status}. */
    record Credentials(long uid, long effectiveCapabilities) {

        static Credentials ofThisProcess() {
            try {
                long uid = -1;
                long caps = 0;
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("Uid:")) {
                        uid = Long.parseLong(line.split("\\s+")[1]);
                    } else if (line.startsWith("CapEff:")) {
                        caps = Long.parseUnsignedLong(line.split("\\s+")[1], 16);
                    }
                }
                return new Credentials(uid, caps);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read this process's credentials", e);
            }
        }

        boolean maySwitchUsers() {
            return uid == 0 || (effectiveCapabilities & (1L << CAP_SETUID)) != 0;
        }
    }
}
