package io.dts.worker.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import io.dts.model.ItemResult;
import io.dts.model.TaskShard;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskLifecycle;
import io.dts.redis.TaskRedis;
import io.dts.testsupport.RedisConnections;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.json.JsonMapper;

/** A shard's items as a worker reads them from a real Redis: in order, cut at the shard's end, with their recorded bits. */
class ItemChunksTest {

    private static LettuceConnectionFactory connections;
    private static TaskRedis taskRedis;
    private static StringRedisTemplate redis;
    private static RedisShardProgress progress;
    private static ItemChunks chunks;

    @BeforeAll
    static void connect() {
        connections = RedisConnections.toServer();
        redis = new StringRedisTemplate(connections);
        taskRedis = new TaskRedis(connections, redis);
        progress = new RedisShardProgress(taskRedis, new TaskLifecycle(taskRedis, redis, Clock.systemUTC()), redis,
                JsonMapper.builder().build(), Clock.systemUTC());
        chunks = new ItemChunks(progress, new PatientRedis(Duration.ofSeconds(5)));
    }

    @AfterAll
    static void disconnect() {
        taskRedis.destroy();
        connections.destroy();
    }

    /** A task's items {@code item-0 .. item-(n-1)}. */
    private static String aTaskOf(int items) {
        String id = UUID.randomUUID().toString();
        redis.opsForList().rightPushAll(RedisKeys.items(id), IntStream.range(0, items).mapToObj(i -> "item-" + i).toList());
        redis.expire(RedisKeys.items(id), Duration.ofMinutes(5));
        return id;
    }

    private static TaskShard aShard(String taskId, long from, long to, boolean withoutItems) {
        return new TaskShard(taskId, 0, 1, from, to, "echo {{item}}", withoutItems, null, 0, 1, null);
    }

    private static void recorded(String taskId, long... indices) {
        progress.record(taskId, LongStream.of(indices)
                .mapToObj(i -> ItemResult.ran(i, "item-" + i, 0, false, "", false, "", false, 1, 1, "w", 0)).toList());
    }

    @Test
    void a_chunk_holds_the_items_in_order_with_those_already_recorded() {
        String task = aTaskOf(10);
        recorded(task, 3, 5);

        ShardProgress.Chunk chunk = chunks.read(aShard(task, 2, 8, false), 2);

        assertThat(chunk.from()).isEqualTo(2);
        assertThat(chunk.items()).containsExactly("item-2", "item-3", "item-4", "item-5", "item-6", "item-7");
        assertThat(chunk.recorded().stream().boxed().toList()).containsExactly(1, 3);
    }

    @Test
    void items_come_back_as_they_were_saved_whatever_their_bytes() {
        String task = UUID.randomUUID().toString();
        List<String> items = List.of("日本語 😀", "", "a\nb", "{\"k\":[1]}", "\u00ff\u0001");
        redis.opsForList().rightPushAll(RedisKeys.items(task), items);
        redis.expire(RedisKeys.items(task), Duration.ofMinutes(5));

        assertThat(chunks.read(aShard(task, 0, items.size(), false), 0).items()).isEqualTo(items);
    }

    @Test
    void a_chunk_is_cut_at_its_size_and_at_the_shard_end() {
        String task = aTaskOf(ItemChunks.SIZE + 100);
        TaskShard shard = aShard(task, 0, ItemChunks.SIZE + 10, false);

        assertThat(chunks.read(shard, 0).items()).hasSize(ItemChunks.SIZE).endsWith("item-" + (ItemChunks.SIZE - 1));
        assertThat(chunks.read(shard, ItemChunks.SIZE).items()).hasSize(10).startsWith("item-" + ItemChunks.SIZE);
    }

    @Test
    void a_task_without_input_list_has_one_item_that_is_no_item() {
        String task = UUID.randomUUID().toString();

        ShardProgress.Chunk chunk = chunks.read(aShard(task, 0, 1, true), 0);

        assertThat(chunk.items()).isEqualTo(Collections.singletonList(null));
        assertThat(chunk.recorded().isEmpty()).isTrue();
    }

    @Test
    void a_shard_is_all_recorded_only_when_every_item_of_it_is_even_across_many_reads() {
        String task = UUID.randomUUID().toString();
        int items = 70_000;
        TaskShard shard = aShard(task, 100, items, false);
        byte[] key = RedisKeys.recorded(task).getBytes(StandardCharsets.UTF_8);
        byte[] allSet = new byte[items / 8];
        Arrays.fill(allSet, (byte) 0xFF);
        redis.execute((RedisCallback<Object>) c -> c.stringCommands().set(key, allSet));
        redis.expire(RedisKeys.recorded(task), Duration.ofMinutes(5));
        redis.opsForValue().setBit(RedisKeys.recorded(task), items - 1, false);

        assertThat(chunks.allRecorded(shard)).as("the last item of the last read is missing").isFalse();

        redis.opsForValue().setBit(RedisKeys.recorded(task), items - 1, true);
        redis.opsForValue().setBit(RedisKeys.recorded(task), 99, false);
        assertThat(chunks.allRecorded(shard)).as("an item before the shard does not count").isTrue();
    }
}
