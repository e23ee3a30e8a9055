package io.driftwatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.config.AgentConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The read-only profile routes and the flush on close, through a real agent. */
final class AgentProfilesTest {
    @TempDir Path dir;

    @Test
    void routes_listAndShowProfiles_fromSnapshots() throws Exception {
        Files.copy(Path.of(System.getProperty("driftwatch.repo", "..")).resolve("profiles/examples/redis.yaml"),
                dir.resolve("redis.yaml"));
        Files.writeString(dir.resolve("broken.yaml"), "schema_version: 1\nkey: x\nmode: learning\nexecutables: [\n");
        AgentConfig config = AgentConfig.builder().set("profiles_dir", dir.toString()).set("http.listen", "127.0.0.1:0").build();
        try (Agent agent = new Agent(config)) {
            agent.start();
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + agent.httpAddress().getPort();
            HttpResponse<String> list = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/profiles")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(list.statusCode()).isEqualTo(200);
            assertThat(list.body()).contains("\"key\":\"cache/redis/redis\"").contains("\"state\":\"monitor\"")
                    .contains("broken.yaml").contains("\"line\":");
            HttpResponse<String> one = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/profiles/cache/redis/redis"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(one.statusCode()).isEqualTo(200);
            assertThat(one.body()).contains("\"listening_ports\"").contains("tcp:6379");
            HttpResponse<String> none = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/profiles/no/such"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(none.statusCode()).isEqualTo(404);
            String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("driftwatch_profiles{state=\"monitor\"} 1.0")
                    .contains("driftwatch_profile_confidence{container=\"redis\",dimension=\"exec\",namespace=\"cache\",workload=\"redis\"}")
                    .contains("driftwatch_profile_errors 1.0");
        }
    }
}
