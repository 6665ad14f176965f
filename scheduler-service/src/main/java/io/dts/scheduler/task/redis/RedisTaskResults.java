package io.dts.scheduler.task.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import io.dts.model.ItemResult;
import io.dts.model.Utf8;
import io.dts.redis.RedisKeys;
import io.dts.redis.TaskRedis;
import io.dts.scheduler.task.domain.ResultsPage;
import io.dts.scheduler.task.domain.TaskResults;
import org.springframework.stereotype.Repository;
import tools.jackson.databind.json.JsonMapper;

/** {@link TaskResults} on Redis: the task's results hash, read a few fields per round trip until the page is full. */
@Repository
public class RedisTaskResults implements TaskResults {

    /** Results read per round trip: one may be ~200 KB (item and both outputs at their limits). */
    private static final int RESULTS_CHUNK = 16;

    private final TaskRedis tasks;
    private final JsonMapper json;

    public RedisTaskResults(TaskRedis tasks, JsonMapper json) {
        this.tasks = tasks;
        this.json = json;
    }

    @Override
    public void forEach(String taskId, long itemsTotal, Consumer<ItemResult> each) {
        for (long from = 0; from < itemsTotal; from += RESULTS_CHUNK) {
            List<Object> fields = new ArrayList<>();
            for (long i = from; i < Math.min(itemsTotal, from + RESULTS_CHUNK); i++) {
                fields.add(String.valueOf(i));
            }
            for (Object value : tasks.forTask(taskId).opsForHash().multiGet(RedisKeys.results(taskId), fields)) {
                if (value != null) {
                    each.accept(json.readValue((String) value, ItemResult.class));
                }
            }
        }
    }

    @Override
    public ResultsPage page(String taskId, long offset, int limit, long maxBytes) {
        List<ItemResult> results = new ArrayList<>();
        long bytes = 0;
        long next = offset;
        while (next < offset + limit && (bytes < maxBytes || results.isEmpty())) {
            List<Object> fields = new ArrayList<>();
            for (long i = next; i < Math.min(offset + limit, next + RESULTS_CHUNK); i++) {
                fields.add(String.valueOf(i));
            }
            List<Object> values = tasks.forTask(taskId).opsForHash().multiGet(RedisKeys.results(taskId), fields);
            for (Object value : values) {
                next++;
                if (value != null) {
                    bytes += Utf8.length((String) value);
                    results.add(json.readValue((String) value, ItemResult.class));
                    if (bytes >= maxBytes) {
                        break;
                    }
                }
            }
        }
        return new ResultsPage(results, next);
    }
}
