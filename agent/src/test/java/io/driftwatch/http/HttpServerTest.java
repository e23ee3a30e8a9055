package io.driftwatch.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class HttpServerTest {
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private HttpServer server;
    private String base;

    private void start(String token) throws Exception {
        Router r = new Router();
        r.get("/api/v1/thing", req -> Response.ok(java.util.Map.of("caller", req.caller(), "q", String.valueOf(req.param("q")))));
        r.post("/api/v1/thing", req -> Response.ok(java.util.Map.of("len", req.body().length())));
        r.get("/api/v1/items/*", req -> Response.ok(java.util.Map.of("path", req.path())));
        r.get("/api/v1/fail", req -> { throw new ApiException(400, "bad field", "mode"); });
        r.get("/api/v1/boom", req -> { throw new IllegalStateException("secret detail"); });
        r.get("/metrics", req -> Response.text(200, "m 1\n"));
        server = new HttpServer(r, token);
        InetSocketAddress a = server.start(InetSocketAddress.createUnresolved("127.0.0.1", 0));
        base = "http://127.0.0.1:" + a.getPort();
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(5));
        for (int i = 0; i + 1 < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void routes_queryAndPrefix() throws Exception {
        start(null);
        assertThat(get("/api/v1/thing?q=a%20b").body()).contains("\"q\":\"a b\"");
        assertThat(get("/api/v1/items/x%2Fy").body()).contains("\"path\":\"/api/v1/items/x/y\"");
    }

    @Test
    void unknownPath404_wrongMethod405() throws Exception {
        start(null);
        HttpResponse<String> r = get("/nope");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).contains("no such endpoint");
        HttpResponse<String> d = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                .DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(d.statusCode()).isEqualTo(405);
        assertThat(d.body()).contains("use GET");
    }

    @Test
    void apiErrors_carryFieldAndHideInternals() throws Exception {
        start(null);
        HttpResponse<String> r = get("/api/v1/fail");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("\"field\":\"mode\"");
        HttpResponse<String> b = get("/api/v1/boom");
        assertThat(b.statusCode()).isEqualTo(500);
        assertThat(b.body()).doesNotContain("secret detail");
    }

    @Test
    void hugeBody_is413() throws Exception {
        start(null);
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/thing"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(HttpServer.MAX_BODY_BYTES + 10))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        HttpResponse<String> ok = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/thing"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ok.body()).contains("\"len\":2");
    }

    @Test
    void token_requiredForApiOnly() throws Exception {
        start("s3cret-token-0123456789");
        assertThat(get("/api/v1/thing").statusCode()).isEqualTo(401);
        assertThat(get("/api/v1/thing", "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
        assertThat(get("/api/v1/thing", "Authorization", "Bearer s3cret-token-0123456789").statusCode()).isEqualTo(200);
        assertThat(get("/metrics").statusCode()).isEqualTo(200);
    }
}
