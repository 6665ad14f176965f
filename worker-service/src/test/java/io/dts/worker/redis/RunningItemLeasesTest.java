package io.dts.worker.redis;

import static io.dts.worker.config.TestWorkerProperties.aWorker;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

import io.dts.redis.RedisKeys;
import io.dts.redis.TaskRedis;
import io.dts.testsupport.RedisConnections;
import io.dts.worker.WorkerInstance;
import io.dts.worker.config.WorkerProperties;
import io.dts.worker.redis.RunningItemLeases.Lease;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/** A task's maxParallel places, shared by the workers of a cluster through a real Redis. */
class RunningItemLeasesTest {

    private static LettuceConnectionFactory connections;
    private static StringRedisTemplate redis;
    private static TaskRedis taskRedis;

    private final String task = UUID.randomUUID().toString();

    @BeforeAll
    static void connect() {
        connections = RedisConnections.toServer();
        redis = new StringRedisTemplate(connections);
        taskRedis = new TaskRedis(connections, redis);
    }

    @AfterAll
    static void disconnect() {
        taskRedis.destroy();
        connections.destroy();
    }

    private static RunningItemLeases aWorkersLeases(Duration lease) {
        WorkerProperties properties = aWorker(Path.of(System.getProperty("java.io.tmpdir"))).heartbeatTtl(lease).build();
        return new RunningItemLeases(taskRedis, redis, new PatientRedis(properties), properties, new WorkerInstance());
    }

    @Test
    void two_workers_together_take_at_most_max_parallel_places_and_a_released_one_is_free_again() {
        RunningItemLeases worker1 = aWorkersLeases(Duration.ofSeconds(30));
        RunningItemLeases worker2 = aWorkersLeases(Duration.ofSeconds(30));

        Optional<Lease> first = worker1.forTask(task, 2);
        Optional<Lease> second = worker2.forTask(task, 2);
        Optional<Lease> third = worker1.forTask(task, 2);

        assertThat(first).isPresent();
        assertThat(second).isPresent();
        assertThat(third).as("two run already").isEmpty();
        worker1.release(first.orElseThrow());
        assertThat(worker2.forTask(task, 2)).isPresent();
        assertThat(redis.getExpire(RedisKeys.runningItems(task))).as("the key goes on its own").isPositive();
    }

    @Test
    void an_owners_places_are_shared_by_all_its_tasks_and_by_every_worker() {
        String owner = "owner-" + UUID.randomUUID();
        RunningItemLeases worker1 = aWorkersLeases(Duration.ofSeconds(30));
        RunningItemLeases worker2 = aWorkersLeases(Duration.ofSeconds(30));

        Optional<Lease> first = worker1.forOwner(owner, 2);
        assertThat(worker2.forOwner(owner, 2)).isPresent();
        assertThat(worker1.forOwner(owner, 2)).as("two of the owner's items run").isEmpty();
        assertThat(worker1.forOwner("someone-else-" + owner, 2)).as("another owner's places are its own").isPresent();
        worker1.release(first.orElseThrow());
        assertThat(worker2.forOwner(owner, 2)).isPresent();
    }

    @Test
    void a_dead_workers_places_come_back_when_their_lease_runs_out_and_a_renewed_one_stays() throws Exception {
        RunningItemLeases dying = aWorkersLeases(Duration.ofMillis(500));
        RunningItemLeases living = aWorkersLeases(Duration.ofMillis(500));
        assertThat(dying.forTask(task, 2)).isPresent();
        assertThat(living.forTask(task, 2)).isPresent();

        for (int beat = 0; beat < 4; beat++) {
            Thread.sleep(250);
            living.renew();
        }

        assertThat(living.forTask(task, 2)).as("the dead worker's place is free").isPresent();
        assertThat(dying.forTask(task, 2)).as("the living worker's first place is still held").isEmpty();
    }
}
