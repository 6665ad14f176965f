package io.dts.scheduler.task.redis;

import java.time.Duration;
import java.util.Optional;

import io.dts.redis.RedisKeys;
import io.dts.scheduler.task.domain.IdempotencyKeys;
import io.dts.scheduler.task.domain.RequestClaim;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.stereotype.Repository;

/** {@link IdempotencyKeys} on Redis: one string per key, {@code "<taskId> <fingerprint>"}, with a TTL. */
@Repository
public class RedisIdempotencyKeys implements IdempotencyKeys {

    private final StringRedisTemplate redis;

    public RedisIdempotencyKeys(StringRedisTemplate redis) {
        this.redis = redis;
    }

    @Override
    public Optional<RequestClaim> claim(String owner, String key, RequestClaim claim, Duration pending) {
        String redisKey = RedisKeys.idempotencyKey(owner, key);
        Boolean claimed = redis.opsForValue().setIfAbsent(redisKey, claim.taskId() + " " + claim.fingerprint(), pending);
        if (Boolean.TRUE.equals(claimed)) {
            return Optional.empty();
        }
        String earlier = redis.opsForValue().get(redisKey);
        if (earlier == null) { // expired in between: claim it again
            return claim(owner, key, claim, pending);
        }
        int space = earlier.indexOf(' ');
        return Optional.of(space < 0 ? new RequestClaim(earlier, null)
                : new RequestClaim(earlier.substring(0, space), earlier.substring(space + 1)));
    }

    @Override
    public void keep(String owner, String key, Duration retention) {
        redis.expire(RedisKeys.idempotencyKey(owner, key), retention);
    }

    @Override
    public void release(String owner, String key) {
        redis.delete(RedisKeys.idempotencyKey(owner, key));
    }
}
