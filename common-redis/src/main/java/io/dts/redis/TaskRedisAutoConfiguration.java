package io.dts.redis;

import java.time.Clock;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/** Gives each service that talks to Redis a {@link TaskRedis} and the {@link TaskLifecycle}; test slices without Redis get none. */
@AutoConfiguration(after = DataRedisAutoConfiguration.class)
@ConditionalOnBean(RedisConnectionFactory.class)
public class TaskRedisAutoConfiguration {

    @Bean
    TaskRedis taskRedis(RedisConnectionFactory connections, StringRedisTemplate redis) {
        return new TaskRedis(connections, redis);
    }

    @Bean
    TaskLifecycle taskLifecycle(TaskRedis tasks, StringRedisTemplate redis, ObjectProvider<Clock> clock) {
        return new TaskLifecycle(tasks, redis, clock.getIfAvailable(Clock::systemUTC));
    }
}
