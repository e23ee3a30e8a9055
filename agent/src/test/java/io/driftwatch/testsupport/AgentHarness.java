package io.driftwatch.testsupport;

import io.driftwatch.Agent;
import io.driftwatch.config.AgentConfig;
import io.driftwatch.json.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** A real agent in this JVM on 127.0.0.1:0, and the HTTP calls tests make against it. */
public final class AgentHarness implements AutoCloseable {
    private final Agent agent;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final String base;

    private AgentHarness(Agent agent) {
        this.agent = agent;
        this.base = "http://127.0.0.1:" + agent.httpAddress().getPort();
    }

    /** Starts an agent on {@code config}; a failed start closes what it opened and rethrows. */
    public static Agent startAgent(AgentConfig config) throws Exception {
        Agent agent = new Agent(config);
        try {
            agent.start();
        } catch (Exception e) {
            agent.close();
            throw e;
        }
        return agent;
    }

    /** Fast-learning settings for tests; {@code extra} are more key/value pairs. */
    public static AgentHarness start(Path profilesDir, Path deviationsFile, String... extra) throws Exception {
        Map<String, String> cfg = new LinkedHashMap<>();
        cfg.put("http.listen", "127.0.0.1:0");
        cfg.put("profiles_dir", profilesDir.toString());
        cfg.put("deviations.file", deviationsFile.toString());
        cfg.put("deviations.stdout", "false");
        cfg.put("learning.min_duration", "4s");
        cfg.put("learning.quiet_window", "3s");
        cfg.put("learning.min_observations", "10");
        cfg.put("learning.startup_window", "1s");
        cfg.put("profiles.flush_interval", "1s");
        cfg.put("sources.proc.interval", "500ms");
        for (int i = 0; i + 1 < extra.length; i += 2) cfg.put(extra[i], extra[i + 1]);
        AgentConfig.Builder b = AgentConfig.builder();
        cfg.forEach(b::set);
        return new AgentHarness(startAgent(b.build()));
    }

    public Agent agent() { return agent; }
    public String baseUrl() { return base; }

    public HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> getJson(String path) throws Exception {
        HttpResponse<String> r = get(path);
        if (r.statusCode() != 200) throw new IllegalStateException("GET " + path + " -> " + r.statusCode() + " " + r.body());
        return (Map<String, Object>) Json.parse(r.body());
    }

    /** The profile summary of {@code key} from GET /api/v1/profiles, or null. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> profile(String key) throws Exception {
        for (Object o : (List<Object>) getJson("/api/v1/profiles").get("profiles")) {
            Map<String, Object> p = (Map<String, Object>) o;
            if (key.equals(p.get("key"))) return p;
        }
        return null;
    }

    /** Waits (bounded) until profile {@code key} is in {@code mode}; returns its summary. */
    public Map<String, Object> awaitMode(String key, String mode, long timeoutMs) throws Exception {
        long end = System.nanoTime() + timeoutMs * 1_000_000L;
        Map<String, Object> p = null;
        while (System.nanoTime() < end) {
            p = profile(key);
            if (p != null && mode.equals(p.get("mode"))) return p;
            Thread.sleep(200);
        }
        throw new AssertionError("profile " + key + " not in mode " + mode + " after " + timeoutMs + " ms: " + p);
    }

    /** Deviations from GET /api/v1/deviations (newest first). */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> deviations() throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : (List<Object>) getJson("/api/v1/deviations?limit=1000").get("deviations")) {
            out.add((Map<String, Object>) o);
        }
        return out;
    }

    /** Waits (bounded) until a deviation matching {@code p} is listed; returns it. */
    public Map<String, Object> awaitDeviation(Predicate<Map<String, Object>> p, long timeoutMs) throws Exception {
        long end = System.nanoTime() + timeoutMs * 1_000_000L;
        List<Map<String, Object>> last = List.of();
        while (System.nanoTime() < end) {
            last = deviations();
            for (Map<String, Object> d : last) if (p.test(d)) return d;
            Thread.sleep(50);
        }
        throw new AssertionError("no matching deviation after " + timeoutMs + " ms; have: " + last);
    }

    /** Runs work on the pipeline thread (operator calls into the profile store). */
    public <T> T onPipeline(java.util.function.Supplier<T> work) throws Exception {
        return agent.pipeline().call(work, 10_000);
    }

    @Override
    public void close() {
        agent.close();
    }
}
