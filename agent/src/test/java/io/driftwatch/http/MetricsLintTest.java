package io.driftwatch.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.Agent;
import io.driftwatch.config.AgentConfig;
import io.driftwatch.testsupport.Privileged;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scrapes a running agent's /metrics and lints it with {@code promtool check metrics}, as
 * node_exporter's checkmetrics.sh does: the exposition must parse, and metric names, HELP and
 * units must follow Prometheus' conventions.
 */
@Privileged(tools = {"promtool"})
final class MetricsLintTest {
    record Lint(int exitCode, List<String> findings, String output) {}

    @Test
    void metricsEndpoint_passesPromtoolCheckMetrics(@TempDir Path profiles) throws Exception {
        String body;
        try (Agent agent = new Agent(AgentConfig.builder().set("http.listen", "127.0.0.1:0")
                .set("profiles_dir", profiles.toString()).build())) {
            agent.start();
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + agent.httpAddress().getPort() + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
            body = r.body();
        }
        assertThat(body).contains("driftwatch_build_info{");

        // the agent's own families alone: no findings at all
        Lint own = lint(driftwatchFamilies(body));
        assertThat(own.findings()).as("promtool findings in driftwatch_* metrics").isEmpty();
        assertThat(own.exitCode()).as(own.output()).isZero();

        // the whole exposition, JVM and process meters included: no findings either
        Lint all = lint(body);
        assertThat(all.findings()).as("promtool findings in the whole exposition").isEmpty();
        assertThat(all.exitCode()).as(all.output()).isZero();
    }

    /** The HELP, TYPE and sample lines of the driftwatch_* families. */
    static String driftwatchFamilies(String exposition) {
        StringBuilder sb = new StringBuilder();
        for (String line : exposition.split("\n")) {
            String l = line.startsWith("# HELP ") || line.startsWith("# TYPE ") ? line.substring(7) : line;
            if (l.startsWith("driftwatch_")) sb.append(line).append('\n');
        }
        return sb.toString();
    }

    static Lint lint(String exposition) throws IOException, InterruptedException {
        Path out = Files.createTempFile("dw-promtool", ".out");
        try {
            Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(exposition.getBytes(StandardCharsets.UTF_8));
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError("promtool check metrics timed out");
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            List<String> findings = new ArrayList<>();
            for (String line : text.split("\n")) {
                if (!line.isBlank()) findings.add(line.strip());
            }
            return new Lint(p.exitValue(), findings, text);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
