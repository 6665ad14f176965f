package io.dts.scheduler.task.redis;

import java.util.List;
import java.util.function.Function;

import org.springframework.dao.ConcurrencyFailureException;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Optimistic WATCH/MULTI/EXEC with a bounded retry: the body reads the watched keys, then either
 * returns {@code false} (nothing to do) or queues its writes after {@code multi()} and returns
 * {@code true}. A conflicting write by someone else makes EXEC return an empty list; we retry. So
 * the body must queue at least one command with a reply (HSET, SADD; not HMSET).
 */
final class RedisTransactions {

    private static final int MAX_ATTEMPTS = 16;

    private RedisTransactions() {
    }

    /** @return whether the body's writes were committed */
    @SuppressWarnings("unchecked")
    static boolean watchAndUpdate(StringRedisTemplate redis, List<String> watched,
                                  Function<RedisOperations<String, String>, Boolean> body) {
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            Boolean committed = redis.execute(new SessionCallback<Boolean>() {
                @Override
                public <K, V> Boolean execute(RedisOperations<K, V> operations) {
                    RedisOperations<String, String> ops = (RedisOperations<String, String>) operations;
                    ops.watch(watched);
                    if (!body.apply(ops)) {
                        ops.unwatch();
                        return false;
                    }
                    List<Object> results = ops.exec();
                    return results == null || results.isEmpty() ? null : true;
                }
            });
            if (committed != null) {
                return committed;
            }
        }
        throw new ConcurrencyFailureException("Redis transaction on " + watched + " kept conflicting");
    }
}
