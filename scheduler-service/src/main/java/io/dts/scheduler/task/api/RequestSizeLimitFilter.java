package io.dts.scheduler.task.api;

import java.io.IOException;
import java.util.concurrent.Semaphore;

import io.dts.scheduler.config.SchedulerProperties;
import io.dts.scheduler.task.domain.PayloadTooLargeException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Refuses request bodies over {@code scheduler.max-request-size} with a 413 problem: at once when the
 * Content-Length says so, otherwise as soon as the streamed body goes past the limit. Large bodies
 * (over {@code scheduler.large-request-size}, or streamed without a length) are let in
 * {@code scheduler.max-large-requests} at a time: a million small items take tens of MB while they
 * are read and saved, so several at once could exhaust the heap. The others get a fast 503 with
 * {@code Retry-After}.
 */
@Component
public class RequestSizeLimitFilter extends OncePerRequestFilter {

    private final long maxBytes;
    private final long largeBytes;
    private final int maxLargeRequests;
    private final Semaphore largeRequests;
    private final JsonMapper json;

    public RequestSizeLimitFilter(SchedulerProperties properties, JsonMapper json) {
        this.maxBytes = properties.maxRequestSize().toBytes();
        this.largeBytes = properties.largeRequestSize().toBytes();
        this.maxLargeRequests = properties.maxLargeRequests();
        this.largeRequests = new Semaphore(maxLargeRequests);
        this.json = json;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long length = request.getContentLengthLong();
        if (length > maxBytes) {
            refuse(response, HttpStatus.PAYLOAD_TOO_LARGE, "Request too large", message());
            return;
        }
        boolean large = length > largeBytes || length < 0 && request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
        if (large && !largeRequests.tryAcquire()) {
            response.setHeader(HttpHeaders.RETRY_AFTER, "1");
            refuse(response, HttpStatus.SERVICE_UNAVAILABLE, "Busy with large requests", "The scheduler is reading "
                    + maxLargeRequests + " other large requests already (scheduler.max-large-requests); retry in a moment.");
            return;
        }
        try {
            chain.doFilter(new LimitedRequest(request), response);
        } finally {
            if (large) {
                largeRequests.release();
            }
        }
    }

    private void refuse(HttpServletResponse response, HttpStatus status, String title, String detail) throws IOException {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setTitle(title);
        response.setStatus(status.value());
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        json.writeValue(response.getOutputStream(), problem);
    }

    private String message() {
        return "The request body is over " + maxBytes + " bytes (scheduler.max-request-size). Split the work into several tasks.";
    }

    /** Counts the bytes read from a body of unknown length and stops at the limit. */
    private final class LimitedRequest extends HttpServletRequestWrapper {

        LimitedRequest(HttpServletRequest request) {
            super(request);
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            ServletInputStream in = super.getInputStream();
            return new ServletInputStream() {
                private long read;

                @Override
                public int read() throws IOException {
                    int b = in.read();
                    count(b < 0 ? 0 : 1);
                    return b;
                }

                @Override
                public int read(byte[] buffer, int offset, int length) throws IOException {
                    int n = in.read(buffer, offset, length);
                    count(Math.max(n, 0));
                    return n;
                }

                private void count(int n) {
                    read += n;
                    if (read > maxBytes) {
                        throw new PayloadTooLargeException(message());
                    }
                }

                @Override
                public boolean isFinished() {
                    return in.isFinished();
                }

                @Override
                public boolean isReady() {
                    return in.isReady();
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    in.setReadListener(listener);
                }
            };
        }
    }
}
