package io.driftwatch.testsupport;

import io.driftwatch.Agent;
import io.driftwatch.config.AgentConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real agent on 127.0.0.1:0 whose profiles_dir holds the committed example profiles
 * (profiles/examples/*.yaml) plus a profile with hostile values, for the review API, CLI and
 * page tests. Close it to stop the agent.
 */
public final class ReviewAgent implements AutoCloseable {
    /** Key of the profile whose values are HTML/JS payloads (must render as text). */
    public static final String HOSTILE_KEY = "evil/<b>x</b>/c";
    public static final String XSS_FILE = "/tmp/<img src=x onerror=alert(1)>";

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    public final Path dir;
    public final Agent agent;
    public final String base;
    public final String token;

    private ReviewAgent(Path dir, Agent agent, String token) {
        this.dir = dir;
        this.agent = agent;
        this.base = "http://127.0.0.1:" + agent.httpAddress().getPort();
        this.token = token;
    }

    /** Starts an agent over a copy of the examples in {@code tmp}; with {@code token}, /api needs it. */
    public static ReviewAgent start(Path tmp, String token) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("profiles"));
        Path examples = Path.of(System.getProperty("driftwatch.repo", "..")).resolve("profiles/examples");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(examples, "*.yaml")) {
            for (Path p : ds) Files.copy(p, dir.resolve(p.getFileName()));
        }
        Files.writeString(dir.resolve("hostile.yaml"), hostileProfile(), StandardCharsets.UTF_8);
        return startExisting(tmp, token);
    }

    /** Starts an agent over {@code tmp}/profiles as it is (e.g. again after {@link #close}). */
    public static ReviewAgent startExisting(Path tmp, String token) throws Exception {
        Path dir = tmp.resolve("profiles");
        AgentConfig.Builder b = AgentConfig.builder().set("profiles_dir", dir.toString()).set("http.listen", "127.0.0.1:0")
                .set("node_name", "test-node")
                // isolated from the host: no kernel sources, an empty /proc and cgroup tree, so only
                // the profiles in profiles_dir exist (other containers on this machine are not learned)
                .set("sources.bpf", "off").set("sources.fanotify", "off")
                .set("procfs_root", Files.createDirectories(tmp.resolve("proc")).toString())
                .set("cgroup_root", Files.createDirectories(tmp.resolve("cgroup")).toString())
                .set("runtime_state_dirs", Files.createDirectories(tmp.resolve("run")).toString());
        if (token != null) {
            Path tf = tmp.resolve("token");
            Files.writeString(tf, token + "\n");
            b.set("http.token_file", tf.toString());
        }
        Agent agent = AgentHarness.startAgent(b.build());
        // confidence is computed by the learner's first tick (1 s after start): wait for it, bounded
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            io.driftwatch.profile.ProfileSnapshot s = agent.profiles().snapshot("cache/redis/redis");
            if (s == null || s.confidence().getOrDefault("exec", 0.0) > 0) break;
            Thread.sleep(50);
        }
        return new ReviewAgent(dir, agent, token);
    }

    /** A valid profile whose key, values, examples and reasons are HTML/JS payloads. */
    public static String hostileProfile() {
        return "schema_version: 1\n"
                + "key: \"" + HOSTILE_KEY + "\"\n"
                + "namespace: evil\n"
                + "workload: \"<b>x</b>\"\n"
                + "container: c\n"
                + "mode: learning\n"
                + "learning:\n"
                + "  started: 2026-01-01T00:00:00Z\n"
                + "  observations: 3\n"
                + "file_reads:\n"
                + "  - value: \"" + XSS_FILE + "\"\n"
                + "    count: 1\n"
                + "    first_seen: 2026-01-01T00:00:01Z\n"
                + "    suspect: true\n"
                + "    suspect_reason: \"<script>alert(2)</script>\"\n"
                + "  - value: \"/srv/<svg onload=alert(3)>/*\"\n"
                + "    count: 20\n"
                + "    first_seen: 2026-01-01T00:00:02Z\n"
                + "    generalised_by:\n"
                + "      - fanout\n"
                + "    fanout: 20\n"
                + "    examples:\n"
                + "      - \"/srv/<svg onload=alert(3)>/a\\\"'><iframe>\"\n";
    }

    public int port() {
        return agent.httpAddress().getPort();
    }

    public HttpResponse<String> send(String method, String path, String contentType, String body) throws IOException,
            InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(15))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) b.header("Content-Type", contentType);
        if (token != null) b.header("Authorization", "Bearer " + token);
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send("GET", path, null, null);
    }

    public HttpResponse<String> postJson(String path, String json) throws IOException, InterruptedException {
        return send("POST", path, "application/json", json);
    }

    @Override
    public void close() {
        agent.close();
    }
}
