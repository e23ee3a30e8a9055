package io.driftwatch.testsupport;

import io.driftwatch.json.Json;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Small HTTP helpers for tests against a running agent. */
public final class Http {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Http() {}

    public static String get(InetSocketAddress addr, String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + addr.getPort() + path))
                .timeout(Duration.ofSeconds(10)).build();
        return CLIENT.send(req, HttpResponse.BodyHandlers.ofString()).body();
    }

    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> containers(InetSocketAddress addr) throws Exception {
        return (List<Map<String, Object>>) Json.parseObject(get(addr, "/api/v1/containers")).get("containers");
    }

    /** Polls /api/v1/containers until {@code until} holds (bounded), returns the last list. */
    public static List<Map<String, Object>> awaitContainers(InetSocketAddress addr, long timeoutMs,
            Predicate<List<Map<String, Object>>> until) throws Exception {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        List<Map<String, Object>> last = containers(addr);
        while (!until.test(last) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            last = containers(addr);
        }
        return last;
    }
}
