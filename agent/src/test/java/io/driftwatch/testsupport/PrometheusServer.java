package io.driftwatch.testsupport;

import io.driftwatch.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A real Prometheus server (Debian's {@code prometheus} binary) for end-to-end tests: bound to
 * 127.0.0.1 on a free port, storage in a temp directory, scrape and rule evaluation every
 * second, scraping one target as {@code job="driftwatch"} (the convention of the shipped rules)
 * with {@code honor_labels: true}. {@link #close()} stops the process and deletes its files.
 * Needs {@code prometheus} and {@code promtool} (the config is checked before start) on the
 * PATH: annotate users with {@code @Privileged(tools = {"prometheus", "promtool"})}.
 * Network: loopback only (the server and its targets).
 *
 * <pre>
 * try (PrometheusServer prom = PrometheusServer.builder().target("127.0.0.1:9477")
 *         .ruleFile(Path.of("deploy/prometheus/driftwatch-rules.yaml")).start()) {
 *     prom.awaitQuery("up{job=\"driftwatch\"} == 1", Duration.ofSeconds(20));
 *     prom.alerts();
 * }
 * </pre>
 */
public final class PrometheusServer implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    private final Path dir;
    private final Process process;
    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private PrometheusServer(Path dir, Process process, URI base) {
        this.dir = dir;
        this.process = process;
        this.base = base;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private final List<String> targets = new ArrayList<>();
        private final List<Path> ruleFiles = new ArrayList<>();
        private String job = "driftwatch";

        private Builder() {}

        /** A {@code host:port} to scrape at /metrics. */
        public Builder target(String hostPort) {
            targets.add(hostPort);
            return this;
        }

        public Builder job(String job) {
            this.job = job;
            return this;
        }

        /** A rule file to load (copied into the server's directory). */
        public Builder ruleFile(Path file) {
            ruleFiles.add(file);
            return this;
        }

        /** Writes the config, starts Prometheus and waits (bounded) until it is ready. */
        public PrometheusServer start() throws IOException, InterruptedException {
            Path dir = Files.createTempDirectory("dw-prometheus");
            try {
                List<String> rules = new ArrayList<>();
                for (int i = 0; i < ruleFiles.size(); i++) {
                    Path copy = dir.resolve("rules-" + i + ".yaml");
                    Files.copy(ruleFiles.get(i), copy);
                    rules.add(copy.toString());
                }
                StringBuilder cfg = new StringBuilder();
                cfg.append("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n");
                cfg.append("rule_files:\n");
                for (String r : rules) cfg.append("  - ").append(Json.write(r)).append('\n');
                cfg.append("scrape_configs:\n  - job_name: ").append(Json.write(job)).append('\n');
                cfg.append("    honor_labels: true\n    metrics_path: /metrics\n    static_configs:\n      - targets: [");
                for (int i = 0; i < targets.size(); i++) cfg.append(i == 0 ? "" : ", ").append(Json.write(targets.get(i)));
                cfg.append("]\n");
                Path config = dir.resolve("prometheus.yml");
                Files.writeString(config, cfg.toString(), StandardCharsets.UTF_8);
                Procs.run(30_000, List.of("promtool", "check", "config", config.toString())).orThrow();

                // a free port can be taken between probing and binding: retry a few times
                IOException last = null;
                for (int attempt = 0; attempt < 3; attempt++) {
                    int port = freePort();
                    Path log = dir.resolve("prometheus-" + attempt + ".log");
                    Process p = new ProcessBuilder("prometheus", "--config.file=" + config,
                            "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                            "--storage.tsdb.retention.time=1h", "--log.level=warn")
                            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
                    PrometheusServer s = new PrometheusServer(dir, p, URI.create("http://127.0.0.1:" + port));
                    try {
                        s.awaitReady(log);
                        return s;
                    } catch (IOException e) {
                        s.stopProcess();
                        last = e;
                    }
                }
                throw last;
            } catch (IOException | InterruptedException | RuntimeException e) {
                deleteTree(dir);
                throw e;
            }
        }
    }

    private void awaitReady(Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("prometheus exited with " + process.exitValue() + ": " + tail(log));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/-/ready"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IOException("prometheus not ready after " + READY_TIMEOUT.toSeconds() + " s: " + tail(log));
    }

    /** Base URL, e.g. http://127.0.0.1:41234 */
    public URI uri() {
        return base;
    }

    /** An instant query ({@code /api/v1/query}); returns the vector's elements (metric, value). */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> query(String promql) {
        Map<String, Object> data = api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        Object result = data.get("result");
        if (!"vector".equals(data.get("resultType")) || !(result instanceof List)) {
            throw new IllegalStateException("query " + promql + ": expected a vector, got " + data);
        }
        return (List<Map<String, Object>>) result;
    }

    /** Active alerts ({@code /api/v1/alerts}): maps with labels, annotations, state (pending|firing), activeAt. */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> alerts() {
        Object alerts = api("/api/v1/alerts").get("alerts");
        return alerts instanceof List ? (List<Map<String, Object>>) alerts : List.of();
    }

    /** Alerts with this name in this state (pending or firing). */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> alerts(String name, String state) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> a : alerts()) {
            Map<String, Object> labels = (Map<String, Object>) a.get("labels");
            if (labels != null && name.equals(labels.get("alertname")) && state.equals(a.get("state"))) out.add(a);
        }
        return out;
    }

    /** Waits until the query returns at least one element; returns them. */
    public List<Map<String, Object>> awaitQuery(String promql, Duration timeout) throws InterruptedException {
        return await("query " + promql, timeout, () -> query(promql), r -> !r.isEmpty());
    }

    /** Waits until the named alert is in the state; returns those alerts. */
    public List<Map<String, Object>> awaitAlert(String name, String state, Duration timeout) throws InterruptedException {
        return await("alert " + name + " " + state, timeout, () -> alerts(name, state), r -> !r.isEmpty());
    }

    /** Polls {@code probe} every 250 ms until {@code done} holds; fails after {@code timeout}. */
    public <T> T await(String what, Duration timeout, Supplier<T> probe, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        while (true) {
            last = probe.get();
            if (done.test(last)) return last;
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
                        + "; last result: " + last + "; alerts: " + alerts());
            }
            if (!process.isAlive()) throw new IllegalStateException("prometheus exited while waiting for " + what);
            Thread.sleep(250);
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> api(String pathAndQuery) {
        HttpResponse<String> r;
        try {
            r = http.send(HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + pathAndQuery, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        Map<String, Object> body = Json.parseObject(r.body());
        if (r.statusCode() != 200 || !"success".equals(body.get("status"))) {
            throw new IllegalStateException("GET " + pathAndQuery + ": HTTP " + r.statusCode() + " " + r.body());
        }
        Object data = body.get("data");
        return data instanceof Map ? (Map<String, Object>) data : Map.of();
    }

    private void stopProcess() throws InterruptedException {
        process.destroy(); // SIGTERM: Prometheus shuts down cleanly
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        try {
            stopProcess();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            deleteTree(dir);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp files: best effort
        }
    }
}
