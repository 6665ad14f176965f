package io.dts.redis;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import org.springframework.dao.ConcurrencyFailureException;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Optimistic WATCH/MULTI/EXEC with a bounded retry: the body reads the watched keys, then either
 * returns empty (nothing to do) or queues its writes after {@code multi()} and returns what the
 * update means. A conflicting write by someone else makes EXEC return an empty list; we retry. So
 * the body must queue at least one command with a reply (HSET, SADD; not HMSET).
 */
public final class RedisTransactions {

    private static final int MAX_ATTEMPTS = 16;

    private RedisTransactions() {
    }

    /** @return the body's answer once its writes are committed, or empty when it had nothing to do */
    @SuppressWarnings("unchecked")
    public static <T> Optional<T> watchAndUpdate(StringRedisTemplate redis, List<String> watched,
                                                 Function<RedisOperations<String, String>, Optional<T>> body) {
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            Attempt<T> outcome = redis.execute(new SessionCallback<Attempt<T>>() {
                @Override
                public <K, V> Attempt<T> execute(RedisOperations<K, V> operations) {
                    RedisOperations<String, String> ops = (RedisOperations<String, String>) operations;
                    ops.watch(watched);
                    Optional<T> update = body.apply(ops);
                    if (update.isEmpty()) {
                        ops.unwatch();
                        return new Attempt<>(true, update);
                    }
                    List<Object> results = ops.exec();
                    return new Attempt<>(results != null && !results.isEmpty(), update);
                }
            });
            if (outcome.committed()) {
                return outcome.update();
            }
        }
        throw new ConcurrencyFailureException("Redis transaction on " + watched + " kept conflicting");
    }

    private record Attempt<T>(boolean committed, Optional<T> update) {
    }
}
