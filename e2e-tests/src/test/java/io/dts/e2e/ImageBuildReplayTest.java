package io.dts.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.Yaml;

/**
 * Builds every image docker-compose.yml builds from the Java modules, without Docker: the final stage of its Dockerfile is
 * replayed into a directory standing for the image's file system, COPY taking exactly what the build
 * context sends (after .dockerignore) and, for {@code --from}, what the replayed build stage holds,
 * where the {@code RUN mvn} lines have run offline. A module the Dockerfile forgets to copy, a file
 * .dockerignore keeps out or a jar under another name fails here, naming the Dockerfile line, instead
 * of in {@code docker-compose up --build}. {@code scripts/compose-check.sh} builds them all, the Kafka, Redis
 * and nginx images too, with a real Docker.
 */
class ImageBuildReplayTest {

    private static final Path REPO_ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path LOGS = Path.of("target", "image-build-replay").toAbsolutePath();
    /** About a minute per image on two cores; the rest is headroom for a busy machine. */
    private static final Duration MAVEN_TIMEOUT = Duration.ofMinutes(10);
    private static final int LOG_TAIL_LINES = 60;
    /** {@code mvn} where a shell command starts: at the start of the line or after {@code ;}, {@code &&}, {@code ||}. */
    private static final Pattern MVN_COMMAND = Pattern.compile("(^|[;&|]\\s*)mvn(?=\\s|$)");

    @ParameterizedTest(name = "{0}")
    @MethodSource("imageBuilds")
    void builds_the_image_from_what_the_build_context_sends(ImageBuild build, @TempDir Path stageRoots) throws Exception {
        List<Stage> stages = Stage.parse(build);
        Stage image = stages.get(stages.size() - 1);

        Path imageRoot = new Replay(build, stages, stageRoots).stage(image.name());

        assertThat(imageRoot).as("%s: the image's file system", build).isNotEmptyDirectory();
    }

    @Test
    void dockerignore_double_star_matches_any_number_of_directories() {
        Dockerignore ignore = Dockerignore.of("**/target/");

        assertThat(ignore.excludes("target")).isTrue();
        assertThat(ignore.excludes("worker-service/target/worker-service-exec.jar")).isTrue();
        assertThat(ignore.excludes("a/b/target/classes/A.class")).isTrue();
        assertThat(ignore.excludes("worker-service/src/target.txt")).isFalse();
    }

    @Test
    void dockerignore_single_star_does_not_cross_a_slash() {
        Dockerignore ignore = Dockerignore.of("*.md", "docs/*.txt");

        assertThat(ignore.excludes("README.md")).isTrue();
        assertThat(ignore.excludes("docs/README.md")).isFalse();
        assertThat(ignore.excludes("docs/notes.txt")).isTrue();
        assertThat(ignore.excludes("docs/old/notes.txt")).isFalse();
    }

    @Test
    void dockerignore_patterns_are_relative_to_the_context_root_and_a_matched_directory_takes_its_content() {
        Dockerignore ignore = Dockerignore.of("# build output of the parent only", "target/", "/.stack");

        assertThat(ignore.excludes("target/classes/A.class")).isTrue();
        assertThat(ignore.excludes(".stack/logs/redis.log")).isTrue();
        assertThat(ignore.excludes("worker-service/target/classes/A.class")).isFalse();
        assertThat(ignore.excludes("scripts/.stack")).isFalse();
    }

    @Test
    void dockerignore_exception_re_includes_and_the_last_matching_pattern_wins() {
        Dockerignore ignore = Dockerignore.of("docs", "!docs/architecture.md", "!README.md", "*.md");

        assertThat(ignore.excludes("docs/other.md")).isTrue();
        assertThat(ignore.excludes("docs/architecture.md")).isFalse();
        assertThat(ignore.excludes("README.md")).as("*.md comes after !README.md").isTrue();
        assertThat(ignore.excludes("pom.xml")).isFalse();
    }

    @Test
    void the_build_context_leaves_out_git_build_output_and_local_state() throws IOException {
        Dockerignore ignore = Dockerignore.read(REPO_ROOT.resolve(".dockerignore"));

        assertThat(List.of(".git/HEAD", "target/x", "worker-service/target/worker-service-exec.jar", ".stack/logs/redis.log",
                ".bench/run.json", ".idea/workspace.xml", "worker-service/worker-service.iml"))
                .filteredOn(path -> !ignore.excludes(path)).as("sent to the Docker daemon with every build").isEmpty();
        assertThat(List.of("pom.xml", "common-redis/pom.xml", "common-redis/src/main/java/io/dts/redis/A.java", "e2e-tests/pom.xml"))
                .filteredOn(ignore::excludes).as("left out of the build context, though Maven needs them").isEmpty();
    }

    // ---------------------------------------------------------------------------------------------

    /** The distinct builds of docker-compose.yml's Java services, the context the repository root (both schedulers share one). */
    static Stream<ImageBuild> imageBuilds() throws IOException {
        Map<String, Object> compose;
        try (Reader reader = Files.newBufferedReader(REPO_ROOT.resolve("docker-compose.yml"))) {
            compose = new Yaml().load(reader);
        }
        Set<ImageBuild> builds = new LinkedHashSet<>();
        for (Object service : map(compose.get("services")).values()) {
            Object build = map(service).get("build");
            if (build instanceof String context && context.equals(".")) {
                builds.add(ImageBuild.of(context, "Dockerfile"));
            } else if (build instanceof Map<?, ?> && ".".equals(map(build).getOrDefault("context", "."))) {
                builds.add(ImageBuild.of(".", String.valueOf(map(build).getOrDefault("dockerfile", "Dockerfile"))));
            }
        }
        assertThat(builds).as("services with a build in docker-compose.yml").isNotEmpty();
        return builds.stream();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object node) {
        assertThat(node).as("a YAML mapping").isInstanceOf(Map.class);
        return (Map<String, Object>) node;
    }

    /** A compose build: its context and its Dockerfile (relative to the context, as compose reads it). */
    record ImageBuild(Path context, Path dockerfile) {

        static ImageBuild of(String context, String dockerfile) {
            Path contextRoot = REPO_ROOT.resolve(context).normalize();
            return new ImageBuild(contextRoot, contextRoot.resolve(dockerfile).normalize());
        }

        @Override
        public String toString() {
            return REPO_ROOT.relativize(dockerfile).toString();
        }
    }

    /** One Dockerfile instruction; {@code arguments} has its line continuations joined. */
    record Instruction(String dockerfile, int line, String keyword, String arguments) {

        @Override
        public String toString() {
            return dockerfile + ":" + line + ": " + keyword + " " + arguments;
        }
    }

    /** A stage: from one FROM to the next, named by {@code AS name} or else by its index, as Docker does. */
    record Stage(String name, String baseImage, List<Instruction> instructions) {

        static List<Stage> parse(ImageBuild build) throws IOException {
            List<Stage> stages = new ArrayList<>();
            for (Instruction instruction : instructions(build.toString(), Files.readAllLines(build.dockerfile()))) {
                if (instruction.keyword().equals("FROM")) {
                    // [--platform=...] image [AS name]
                    List<String> words = Arrays.stream(instruction.arguments().split("\\s+")).filter(word -> !word.startsWith("--")).toList();
                    boolean named = words.size() == 3 && words.get(1).equalsIgnoreCase("AS");
                    stages.add(new Stage(named ? words.get(2) : String.valueOf(stages.size()), words.get(0), new ArrayList<>()));
                } else if (!stages.isEmpty()) { // before the first FROM only ARG is allowed, and it sets nothing we replay
                    stages.get(stages.size() - 1).instructions().add(instruction);
                }
            }
            assertThat(stages).as("%s: stages", build).isNotEmpty();
            return stages;
        }

        private static List<Instruction> instructions(String dockerfile, List<String> lines) {
            List<Instruction> instructions = new ArrayList<>();
            StringBuilder pending = new StringBuilder();
            int firstLine = 0;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).stripTrailing();
                // Docker drops comment and empty lines, inside a continuation too; parser directives (# escape=) are not used here.
                if (line.isBlank() || line.stripLeading().startsWith("#")) {
                    continue;
                }
                if (pending.isEmpty()) {
                    firstLine = i + 1;
                }
                if (line.endsWith("\\")) {
                    pending.append(line, 0, line.length() - 1);
                    continue;
                }
                String[] keywordAndArguments = pending.append(line).toString().strip().split("\\s+", 2);
                instructions.add(new Instruction(dockerfile, firstLine, keywordAndArguments[0].toUpperCase(Locale.ROOT),
                        keywordAndArguments.length > 1 ? keywordAndArguments[1] : ""));
                pending.setLength(0);
            }
            assertThat(pending).as("%s: the last line ends with a line continuation", dockerfile).isEmpty();
            return instructions;
        }
    }

    /** {@code COPY [--flags] source... destination}. */
    record Copy(String from, List<String> sources, String destination) {

        static Copy of(Instruction copy) {
            assertThat(copy.arguments()).as("%s: the JSON form of COPY is not replayed", copy).doesNotStartWith("[");
            List<String> words = new ArrayList<>(List.of(copy.arguments().split("\\s+")));
            String from = null;
            while (words.get(0).startsWith("--")) {
                String flag = words.remove(0);
                if (flag.startsWith("--from=")) {
                    from = flag.substring("--from=".length());
                } // --chown, --chmod, --link change owners and layers, not which files are copied
            }
            assertThat(words).as("%s: sources and a destination", copy).hasSizeGreaterThanOrEqualTo(2);
            return new Copy(from, words.subList(0, words.size() - 1), words.get(words.size() - 1));
        }
    }

    /** Replays the stages of one Dockerfile, each into a directory standing for its file system root. */
    private static final class Replay {

        private static final Path CONTAINER_ROOT = Path.of("/");

        private final ImageBuild build;
        private final List<Stage> stages;
        private final Dockerignore dockerignore;
        private final Path stageRoots;
        private final Map<String, Path> replayed = new HashMap<>();

        Replay(ImageBuild build, List<Stage> stages, Path stageRoots) throws IOException {
            this.build = build;
            this.stages = stages;
            this.dockerignore = Dockerignore.read(build.context().resolve(".dockerignore"));
            this.stageRoots = stageRoots;
        }

        /** The replayed file system of a stage, replaying it (and the stages it copies from) the first time. */
        Path stage(String name) throws IOException, InterruptedException {
            if (replayed.containsKey(name)) {
                return replayed.get(name);
            }
            Stage stage = stages.stream().filter(candidate -> candidate.name().equals(name)).findFirst()
                    .orElseGet(() -> fail("%s: no stage %s (copying from an image is not replayed)", build, name));
            assertThat(stages).extracting(Stage::name).as("%s: stage %s is built FROM another stage, which is not replayed", build, name)
                    .doesNotContain(stage.baseImage());
            Path root = Files.createDirectories(stageRoots.resolve(name));
            Path workdir = CONTAINER_ROOT;
            for (Instruction instruction : stage.instructions()) {
                switch (instruction.keyword()) {
                    case "WORKDIR" -> {
                        workdir = workdir.resolve(instruction.arguments()).normalize();
                        Files.createDirectories(inStage(root, workdir));
                    }
                    case "COPY" -> copy(instruction, root, workdir);
                    case "RUN" -> run(instruction, stage, inStage(root, workdir));
                    case "ADD" -> fail("%s: ADD is not replayed; use COPY", instruction);
                    default -> { } // ENV, USER, EXPOSE, HEALTHCHECK, ENTRYPOINT...: metadata, not files
                }
            }
            replayed.put(name, root);
            return root;
        }

        private void copy(Instruction instruction, Path root, Path workdir) throws IOException, InterruptedException {
            Copy copy = Copy.of(instruction);
            boolean fromContext = copy.from() == null;
            Path sourceRoot = fromContext ? build.context() : stage(copy.from());
            Dockerignore ignore = fromContext ? dockerignore : Dockerignore.NONE;
            String sourceName = fromContext ? "the build context" : "stage " + copy.from();

            Path destination = inStage(root, workdir.resolve(copy.destination()).normalize());
            boolean intoDirectory = copy.destination().endsWith("/") || copy.sources().size() > 1 || Files.isDirectory(destination);
            for (String source : copy.sources()) {
                assertThat(source).as("%s: wildcards are not replayed", instruction).doesNotContainPattern("[*?\\[]");
                // Sources are relative to the context (or the stage) root, with or without a leading slash.
                String path = CONTAINER_ROOT.relativize(CONTAINER_ROOT.resolve(source).normalize()).toString();
                Path file = sourceRoot.resolve(path);
                if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS) || ignore.excludes(path)) {
                    fail("%s: %s is not in %s%s", instruction, source, sourceName,
                            Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? " (.dockerignore leaves it out)" : "");
                }
                if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                    copyDirectory(sourceRoot, file, ignore, destination);
                } else {
                    copyFile(file, intoDirectory ? destination.resolve(file.getFileName().toString()) : destination);
                }
            }
        }

        /** Copies the content of {@code directory}, leaving out what .dockerignore excludes, as Docker does. */
        private static void copyDirectory(Path sourceRoot, Path directory, Dockerignore ignore, Path destination) throws IOException {
            Files.walkFileTree(directory, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) throws IOException {
                    if (ignore.excludes(sourceRoot.relativize(dir).toString())) {
                        // Something below may be re-included by a later "!" pattern: look inside then, as Docker does.
                        return ignore.reincludes() ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
                    }
                    Files.createDirectories(destination.resolve(directory.relativize(dir).toString()));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                    if (!ignore.excludes(sourceRoot.relativize(file).toString())) {
                        copyFile(file, destination.resolve(directory.relativize(file).toString()));
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        }

        private static void copyFile(Path file, Path target) throws IOException {
            Files.createDirectories(target.getParent());
            Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        }

        /**
         * Runs a RUN line that runs Maven with bash, offline (the build that runs this test has downloaded every
         * dependency). Other RUN lines (apt-get, useradd) set up the image, not the files the build produces:
         * they are skipped.
         */
        private void run(Instruction instruction, Stage stage, Path workdir) throws IOException, InterruptedException {
            // RUN's own flags (--mount=type=cache,...) are Docker's, not the shell's.
            String shell = instruction.arguments().replaceFirst("^(--\\S+\\s+)+", "");
            if (!MVN_COMMAND.matcher(shell).find()) {
                return;
            }
            String command = MVN_COMMAND.matcher(shell).replaceAll("$1mvn -o");
            Path log = LOGS.resolve(build.toString().replace('/', '-') + "-" + stage.name() + ".log");
            Files.createDirectories(LOGS);
            Files.writeString(log, "$ " + command + "\n", UTF_8);
            Process maven = new ProcessBuilder("bash", "-c", command).directory(workdir.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            boolean finished = maven.waitFor(MAVEN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (!finished) {
                maven.descendants().forEach(ProcessHandle::destroyForcibly);
                maven.destroyForcibly().waitFor();
            }
            if (!finished || maven.exitValue() != 0) {
                fail("%s: `%s` %s in the replayed stage %s; the end of %s:%n%s", instruction, command,
                        finished ? "failed with exit code " + maven.exitValue() : "did not finish within " + MAVEN_TIMEOUT,
                        stage.name(), log, tail(log));
            }
        }

        /** Where a path of the container's file system lies in the replayed stage. */
        private static Path inStage(Path root, Path containerPath) {
            return root.resolve(CONTAINER_ROOT.relativize(containerPath).toString());
        }

        private static String tail(Path log) throws IOException {
            List<String> lines = new String(Files.readAllBytes(log), UTF_8).lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        }
    }

    /**
     * The .dockerignore rules as Docker applies them: patterns relative to the context root (a leading or
     * trailing slash changes nothing), {@code **} any number of directories, {@code *} and {@code ?} within one
     * name, {@code !} re-includes; a pattern matching a directory takes everything below it, and of the patterns
     * matching a path the last decides. Character classes and escapes are not supported.
     */
    record Dockerignore(List<Rule> rules) {

        static final Dockerignore NONE = new Dockerignore(List.of());

        static Dockerignore read(Path file) throws IOException {
            return Files.exists(file) ? of(Files.readAllLines(file).toArray(String[]::new)) : NONE;
        }

        static Dockerignore of(String... lines) {
            return new Dockerignore(Arrays.stream(lines).map(String::strip)
                    .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                    .map(Rule::parse).toList());
        }

        /** Whether the build context leaves out {@code path} (relative to the context root, {@code /}-separated). */
        boolean excludes(String path) {
            boolean excluded = false;
            for (Rule rule : rules) {
                if (rule.excludes() != excluded && rule.matchesItOrAParent(path)) {
                    excluded = rule.excludes();
                }
            }
            return excluded;
        }

        boolean reincludes() {
            return rules.stream().anyMatch(rule -> !rule.excludes());
        }

        record Rule(Pattern pattern, boolean excludes) {

            static Rule parse(String line) {
                boolean reinclude = line.startsWith("!");
                String glob = line.substring(reinclude ? 1 : 0).strip();
                if (glob.contains("[") || glob.contains("\\")) {
                    throw new IllegalArgumentException(".dockerignore pattern " + line + ": character classes and escapes are not supported");
                }
                Path root = Path.of("/");
                return new Rule(regex(root.relativize(root.resolve(glob).normalize()).toString()), !reinclude);
            }

            private static Pattern regex(String glob) {
                StringBuilder regex = new StringBuilder();
                int i = 0;
                while (i < glob.length()) {
                    if (glob.startsWith("**", i)) {
                        i += glob.startsWith("**/", i) ? 3 : 2;
                        regex.append(i == glob.length() ? ".*" : "(.*/)?");
                    } else {
                        char c = glob.charAt(i++);
                        regex.append(c == '*' ? "[^/]*" : c == '?' ? "[^/]" : Pattern.quote(String.valueOf(c)));
                    }
                }
                return Pattern.compile(regex.toString());
            }

            boolean matchesItOrAParent(String path) {
                for (String candidate = path; !candidate.isEmpty(); candidate = candidate.substring(0, Math.max(0, candidate.lastIndexOf('/')))) {
                    if (pattern.matcher(candidate).matches()) {
                        return true;
                    }
                }
                return false;
            }
        }
    }
}
