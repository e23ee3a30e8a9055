package io.driftwatch.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.testsupport.ReviewAgent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With http.token_file set (here on loopback, where it is then required too) /api needs the bearer token. */
final class ProfileApiTokenTest {
    private static final String TOKEN = "s3cret-token-0123456789";
    @TempDir Path tmp;

    private static int status(String url, String auth, String method) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        if (auth != null) b.header("Authorization", auth);
        if (method.equals("POST")) {
            b.POST(HttpRequest.BodyPublishers.ofString("{\"mode\":\"enforce\"}")).header("Content-Type", "application/json");
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void api_withTokenFile_requiresBearer() throws Exception {
        try (ReviewAgent a = ReviewAgent.start(tmp, TOKEN)) {
            String list = a.base + "/api/v1/profiles";
            String mode = a.base + "/api/v1/profiles/cache%2Fredis%2Fredis/mode";
            assertThat(status(list, null, "GET")).isEqualTo(401);
            assertThat(status(list, "Bearer wrong-token-0123456789", "GET")).isEqualTo(401);
            assertThat(status(list, "Bearer " + TOKEN + "x", "GET")).isEqualTo(401);
            assertThat(status(list, "Basic " + TOKEN, "GET")).isEqualTo(401);
            assertThat(status(mode, null, "POST")).isEqualTo(401);
            assertThat(a.agent.profiles().snapshot("cache/redis/redis").mode()).isEqualTo("monitor");
            assertThat(status(list, "Bearer " + TOKEN, "GET")).isEqualTo(200);
            assertThat(status(mode, "bearer " + TOKEN, "POST")).isEqualTo(200);
            assertThat(a.agent.profiles().snapshot("cache/redis/redis").mode()).isEqualTo("enforce");
            // the page itself loads without the token (it asks for it and sends it on each API call)
            assertThat(status(a.base + "/", null, "GET")).isEqualTo(200);
            assertThat(status(a.base + "/ui/app.js", null, "GET")).isEqualTo(200);
        }
    }
}
