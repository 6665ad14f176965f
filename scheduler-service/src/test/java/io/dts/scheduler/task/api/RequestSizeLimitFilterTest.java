package io.dts.scheduler.task.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.dts.scheduler.config.TestSchedulerProperties;
import jakarta.servlet.FilterChain;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/** Large bodies are read a few at a time; the rest get a fast 503 instead of a share of the heap. */
class RequestSizeLimitFilterTest {

    private final RequestSizeLimitFilter filter = new RequestSizeLimitFilter(
            TestSchedulerProperties.with(Map.of("large-request-size", "1KB", "max-large-requests", "1")), JsonMapper.builder().build());

    private static MockHttpServletRequest post(int bytes) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/api/tasks");
        request.setContent(new byte[bytes]);
        return request;
    }

    @Test
    void while_one_large_body_is_read_another_gets_a_503_with_retry_after_and_a_small_one_goes_through() throws Exception {
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FilterChain slow = (request, response) -> {
            reading.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        CompletableFuture<Void> first = CompletableFuture.runAsync(() -> {
            try {
                filter.doFilter(post(2_048), new MockHttpServletResponse(), slow);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(reading.await(10, TimeUnit.SECONDS)).isTrue();

        MockHttpServletResponse refused = new MockHttpServletResponse();
        filter.doFilter(post(2_048), refused, (request, response) -> ((jakarta.servlet.http.HttpServletResponse) response).setStatus(202));
        MockHttpServletResponse small = new MockHttpServletResponse();
        filter.doFilter(post(100), small, (request, response) -> ((jakarta.servlet.http.HttpServletResponse) response).setStatus(202));

        assertThat(refused.getStatus()).isEqualTo(503);
        assertThat(refused.getHeader("Retry-After")).isEqualTo("1");
        assertThat(refused.getContentType()).isEqualTo("application/problem+json");
        assertThat(refused.getContentAsString()).contains("scheduler.max-large-requests");
        assertThat(small.getStatus()).isEqualTo(202);

        release.countDown();
        first.get(10, TimeUnit.SECONDS);
        MockHttpServletResponse after = new MockHttpServletResponse();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            filter.doFilter(post(2_048), after, (request, response) -> ((jakarta.servlet.http.HttpServletResponse) response).setStatus(202));
            assertThat(after.getStatus()).as("the permit is given back").isEqualTo(202);
        });
    }
}
