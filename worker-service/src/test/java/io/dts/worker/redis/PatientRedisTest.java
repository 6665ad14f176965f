package io.dts.worker.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import io.dts.testsupport.RedisConnections;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A Redis call waits out an outage, with what a down Redis really throws: a client of a port where no
 * Redis listens stands for Redis down, the tests' Redis server for Redis back.
 */
class PatientRedisTest {

    private static LettuceConnectionFactory upConnections;
    private static LettuceConnectionFactory downConnections;
    private static StringRedisTemplate up;
    private static StringRedisTemplate down;

    @BeforeAll
    static void connect() throws IOException {
        upConnections = RedisConnections.toServer();
        up = new StringRedisTemplate(upConnections);
        downConnections = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", aClosedPort()),
                LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(2)).build());
        downConnections.afterPropertiesSet();
        downConnections.start();
        down = new StringRedisTemplate(downConnections);
    }

    @AfterAll
    static void disconnect() {
        downConnections.destroy();
        upConnections.destroy();
    }

    private static int aClosedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void a_call_made_while_redis_is_down_is_answered_once_redis_is_back() {
        String key = "patient-" + UUID.randomUUID();
        up.opsForValue().set(key, "answer", Duration.ofMinutes(1));
        AtomicInteger calls = new AtomicInteger();

        String answer = new PatientRedis(Duration.ofSeconds(30))
                .call(() -> (calls.incrementAndGet() < 3 ? down : up).opsForValue().get(key));

        assertThat(answer).isEqualTo("answer");
        assertThat(calls).hasValue(3);
    }

    @Test
    void a_write_made_while_redis_is_down_is_made_once_redis_is_back() {
        String key = "patient-" + UUID.randomUUID();
        AtomicInteger calls = new AtomicInteger();

        new PatientRedis(Duration.ofSeconds(30)).run(() -> (calls.incrementAndGet() < 2 ? down : up).opsForValue()
                .set(key, "written", Duration.ofMinutes(1)));

        assertThat(up.opsForValue().get(key)).isEqualTo("written");
    }

    @Test
    void past_the_tolerance_the_outage_is_thrown() {
        AtomicInteger calls = new AtomicInteger();

        assertThatThrownBy(() -> new PatientRedis(Duration.ofSeconds(1)).call(() -> {
            calls.incrementAndGet();
            return down.opsForValue().get("any");
        })).isInstanceOf(DataAccessResourceFailureException.class);
        assertThat(calls).as("tried more than once within the tolerance").hasValueGreaterThan(1);
    }

    @Test
    void a_failure_that_is_no_outage_is_thrown_at_once() {
        AtomicInteger calls = new AtomicInteger();

        assertThatThrownBy(() -> new PatientRedis(Duration.ofSeconds(30)).call(() -> {
            calls.incrementAndGet();
            throw new IllegalArgumentException("a bug, not an outage");
        })).isInstanceOf(IllegalArgumentException.class);
        assertThat(calls).hasValue(1);
    }
}
