package io.dts.scheduler.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keys file: hashes only, a bad line named at start, a bad change ignored while running. */
class KeysFileTest {

    @TempDir
    Path dir;

    private Path keys(String content) throws IOException {
        return Files.writeString(dir.resolve("keys"), content);
    }

    @Test
    void finds_the_key_of_a_token_by_its_hash_and_nothing_for_the_hash_itself() throws IOException {
        KeysFile file = new KeysFile(keys("# a comment\n\nci  submitter  " + SecurityConfigTest.sha256("t0k3n") + "\n"));

        assertThat(file.find("t0k3n")).hasValueSatisfying(key -> {
            assertThat(key.name()).isEqualTo("ci");
            assertThat(key.role()).isEqualTo("submitter");
        });
        assertThat(file.find(SecurityConfigTest.sha256("t0k3n"))).isEmpty();
        assertThat(file.find("")).isEmpty();
    }

    @Test
    void a_line_that_is_not_name_role_hash_stops_the_start_naming_its_number_and_never_its_text() throws IOException {
        for (String bad : new String[] {"ci submitter", "ci admin " + "a".repeat(64), "ci reader t0k3n", "c i reader " + "a".repeat(64)}) {
            Path file = keys("ok reader " + "b".repeat(64) + "\n" + bad + "\n");

            assertThatThrownBy(() -> new KeysFile(file)).hasMessageContaining("line 2").hasMessageNotContaining("t0k3n");
        }
        assertThatThrownBy(() -> new KeysFile(dir.resolve("missing"))).hasMessageContaining("does not exist");
    }

    @Test
    void a_change_that_does_not_parse_leaves_the_keys_read_before() throws IOException {
        Path path = keys("ci operator " + SecurityConfigTest.sha256("t0k3n") + "\n");
        KeysFile file = new KeysFile(path);

        Files.writeString(path, "ci operator not-a-hash\n");
        Files.setLastModifiedTime(path, FileTime.from(Instant.now().plusSeconds(5)));

        assertThat(file.find("t0k3n")).isPresent();
    }
}
