package io.dts.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dts.testsupport.RedisServer;
import io.dts.testsupport.RedisUsers;
import io.dts.testsupport.RedisUsers.Role;
import io.dts.testsupport.TestInfrastructure;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.Test;

/** deploy/redis/users.conf as the tests' Redis runs it: nobody without a password, each service only what it needs. */
class RedisUsersTest {

    private static final RedisServer REDIS = TestInfrastructure.redis();

    @Test
    void a_client_without_credentials_is_refused() {
        RedisClient client = RedisClient.create(RedisURI.create(REDIS.host(), REDIS.port()));
        try {
            assertThatThrownBy(() -> {
                try (StatefulRedisConnection<String, String> connection = client.connect()) {
                    connection.sync().ping();
                }
            }).hasStackTraceContaining("NOAUTH");
        } finally {
            client.shutdown();
        }
    }

    @Test
    void nobody_logs_in_as_the_default_user() {
        RedisClient client = RedisClient.create(RedisURI.builder().withHost(REDIS.host()).withPort(REDIS.port())
                .withAuthentication("default", "anything").build());
        try {
            assertThatThrownBy(() -> client.connect().close()).hasStackTraceContaining("WRONGPASS");
        } finally {
            client.shutdown();
        }
    }

    @Test
    void the_worker_writes_task_keys_but_not_the_sweep_lock_nor_idempotency_keys_and_nobody_flushes() {
        withUser(Role.WORKER, redis -> {
            assertThat(redis.set(RedisKeys.task("users-test") + ":probe", "1")).isEqualTo("OK");
            assertThatThrownBy(() -> redis.set(RedisKeys.lock("sweep"), "x")).isInstanceOf(RedisCommandExecutionException.class)
                    .hasMessageContaining("NOPERM");
            assertThatThrownBy(() -> redis.set(RedisKeys.idempotencyKey("o", "k"), "x")).hasMessageContaining("NOPERM");
            assertThatThrownBy(redis::flushall).hasMessageContaining("NOPERM");
        });
        withUser(Role.SCHEDULER, redis -> {
            assertThat(redis.set(RedisKeys.lock("users-test"), "1")).isEqualTo("OK");
            assertThatThrownBy(() -> redis.set("elsewhere", "x")).hasMessageContaining("NOPERM");
            assertThatThrownBy(() -> redis.configGet("requirepass")).hasMessageContaining("NOPERM");
        });
    }

    private static void withUser(Role role, java.util.function.Consumer<io.lettuce.core.api.sync.RedisCommands<String, String>> body) {
        RedisURI uri = RedisURI.builder().withHost(REDIS.host()).withPort(REDIS.port())
                .withAuthentication(role.user(), RedisUsers.password(role)).build();
        RedisClient client = RedisClient.create(uri);
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            body.accept(connection.sync());
        } catch (RedisConnectionException e) {
            throw new AssertionError(role + " cannot log in", e);
        } finally {
            client.shutdown();
        }
    }
}
