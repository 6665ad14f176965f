package io.dts.worker.redis;

import java.time.Duration;
import java.util.function.Supplier;

import io.dts.worker.config.WorkerProperties;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.retry.RetryPolicy;
import org.springframework.core.retry.RetryTemplate;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.data.redis.connection.RedisPipelineException;
import org.springframework.stereotype.Component;

/**
 * Runs a Redis call and, while Redis is down, runs it again with backoff for up to
 * {@code worker.redis-outage-tolerance}, then gives up with the call's last exception.
 */
@Component
public class PatientRedis {

    private static final Duration FIRST_DELAY = Duration.ofMillis(250);
    private static final Duration MAX_DELAY = Duration.ofSeconds(5);

    private final RetryTemplate untilRedisAnswers;

    /** @param tolerance how long a call may keep failing before its exception is thrown */
    public PatientRedis(Duration tolerance) {
        // While Redis is down a slice keeps its unwritten results and waits here; meanwhile no slice is
        // free and the consumer takes no new shard. Past the tolerance the shard fails and Kafka redelivers it.
        this.untilRedisAnswers = new RetryTemplate(RetryPolicy.builder()
                .includes(DataAccessResourceFailureException.class, TransientDataAccessException.class, RedisSystemException.class,
                        RedisPipelineException.class)
                .maxRetries(Long.MAX_VALUE).delay(FIRST_DELAY).multiplier(2).maxDelay(MAX_DELAY)
                .timeout(tolerance).build());
    }

    @Autowired
    public PatientRedis(WorkerProperties properties) {
        this(properties.redisOutageTolerance());
    }

    /** The call's answer, once Redis gives one. */
    public <T> T call(Supplier<T> redisCall) {
        return untilRedisAnswers.invoke(redisCall);
    }

    /** Runs a write whose answer is not needed, once Redis takes it. */
    public void run(Runnable redisCall) {
        call(() -> {
            redisCall.run();
            return null;
        });
    }
}
