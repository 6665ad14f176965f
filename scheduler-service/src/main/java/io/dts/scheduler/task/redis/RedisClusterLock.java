package io.dts.scheduler.task.redis;

import java.time.Duration;
import java.util.List;

import io.dts.redis.RedisKeys;
import io.dts.scheduler.task.domain.ClusterLock;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Repository;

/** {@link ClusterLock} on Redis: SET NX with the lease as TTL and the owner as value, given back by compare-and-delete. */
@Repository
public class RedisClusterLock implements ClusterLock {

    /** Extends a lock only for its owner. */
    private static final RedisScript<Long> RENEW = RedisScript.of(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end", Long.class);
    /** Deletes a lock only for its owner: one whose lease ran out and was taken by another must not free it. */
    private static final RedisScript<Long> UNLOCK = RedisScript.of(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end", Long.class);

    private final StringRedisTemplate redis;

    public RedisClusterLock(StringRedisTemplate redis) {
        this.redis = redis;
    }

    @Override
    public boolean tryLock(String name, String owner, Duration lease) {
        return Boolean.TRUE.equals(redis.opsForValue().setIfAbsent(RedisKeys.lock(name), owner, lease));
    }

    @Override
    public boolean renew(String name, String owner, Duration lease) {
        return Long.valueOf(1).equals(redis.execute(RENEW, List.of(RedisKeys.lock(name)), owner, String.valueOf(lease.toMillis())));
    }

    @Override
    public void unlock(String name, String owner) {
        redis.execute(UNLOCK, List.of(RedisKeys.lock(name)), owner);
    }
}
