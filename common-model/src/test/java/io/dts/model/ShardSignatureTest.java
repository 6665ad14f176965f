package io.dts.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

class ShardSignatureTest {

    private static final ShardSignature KEY = ShardSignature.of("k".repeat(32).getBytes(StandardCharsets.UTF_8));
    private static final TaskShard SHARD = new TaskShard("t-1", 0, 2, 0, 10, "echo {{item}}", false, 60L, 1, 1, null);

    @Test
    void a_shard_signed_with_the_key_verifies() {
        assertThat(KEY.verify(SHARD, KEY.sign(SHARD))).isTrue();
    }

    @Test
    void a_changed_field_an_unsigned_shard_or_another_key_does_not() {
        TaskShard otherCommand = new TaskShard("t-1", 0, 2, 0, 10, "rm -rf ~", false, 60L, 1, 1, null);
        TaskShard otherRange = new TaskShard("t-1", 0, 2, 0, 11, "echo {{item}}", false, 60L, 1, 1, null);
        ShardSignature otherKey = ShardSignature.of("x".repeat(32).getBytes(StandardCharsets.UTF_8));

        assertThat(KEY.verify(otherCommand, KEY.sign(SHARD))).isFalse();
        assertThat(KEY.verify(otherRange, KEY.sign(SHARD))).isFalse();
        assertThat(KEY.verify(SHARD, null)).isFalse();
        assertThat(KEY.verify(SHARD, new byte[0])).isFalse();
        assertThat(KEY.verify(SHARD, otherKey.sign(SHARD))).isFalse();
    }

    @Test
    void a_shard_without_timeout_is_sent_and_signed_as_earlier_versions_sent_none() {
        TaskShard none = new TaskShard("t-1", 0, 2, 0, 10, "echo {{item}}", false, null, 1, 1, null);
        TaskShard earlierZero = new TaskShard("t-1", 0, 2, 0, 10, "echo {{item}}", false, 0L, 1, 1, null);
        JsonMapper json = JsonMapper.builder().build();

        assertThat(KEY.verify(earlierZero, KEY.sign(none))).as("a worker of an earlier version reads 0 and verifies").isTrue();
        assertThat(KEY.verify(none, KEY.sign(earlierZero))).as("a shard an earlier scheduler signed verifies here").isTrue();
        assertThat(json.writeValueAsString(none)).doesNotContain("timeoutSeconds");
        assertThat(json.readValue(json.writeValueAsString(none), TaskShard.class)).isEqualTo(none);
    }

    @Test
    void a_key_file_is_read_without_its_newline_and_a_short_key_is_refused(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("shard.key"), "k".repeat(32) + "\n");
        Path shortKey = Files.writeString(dir.resolve("short.key"), "too-short\n");

        assertThat(ShardSignature.fromKeyFile(file.toString()).verify(SHARD, KEY.sign(SHARD))).isTrue();
        assertThatThrownBy(() -> ShardSignature.fromKeyFile(shortKey.toString())).hasMessageContaining("at least 32 bytes");
        assertThatThrownBy(() -> ShardSignature.fromKeyFile(dir.resolve("missing").toString())).hasMessageContaining("head -c 32 /dev/urandom");
        assertThatThrownBy(() -> ShardSignature.fromKeyFile("")).hasMessageContaining("dts.security.shard-key-file is not set");
    }
}
