package io.driftwatch.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.json.Json;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.Procs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The reduced proof run ({@code ./driftwatch e2e --smoke}, docs/detection.md) inside the test suite,
 * so the harness cannot rot: one real nginx in a runc container under wrk/ab load, maintenance,
 * then three attack techniques through the exploit simulation channel. The harness installs what
 * it needs (bench/e2e/setup.sh, idempotent) and builds the agent (./driftwatch build).
 *
 * <p>It asserts that the harness completed and cleaned up, that the workload served requests
 * without errors, that every technique demonstrably executed inside the container, and that
 * results.json is well formed — and that the agent left learning, raised no false positive in
 * the benign replay and detected every technique. {@code -Ddriftwatch.e2e.assertDetection=false}
 * checks the harness alone without judging detection.
 */
@Privileged(tools = {"runc"})
final class E2eSmokeTest {
    /** Assert detections, no false positives and a finished learning phase. */
    static final boolean ASSERT_DETECTION = Boolean.parseBoolean(System.getProperty("driftwatch.e2e.assertDetection", "true"));
    /**
     * Techniques detected by what they do rather than by their own name: the shell's name is in
     * the web server's profile (logrotate's postrotate script runs /bin/sh), so a new shell is
     * caught by the commands it runs (docs/detection.md).
     */
    private static final List<String> DETECTED_BY_CONSEQUENCE = List.of("shell_spawn");
    private static final long HARNESS_TIMEOUT_MS = 215_000;
    private static final List<String> TECHNIQUES = List.of("shell_spawn", "drop_exec", "reverse_shell");

    @Test
    @Timeout(value = 235, unit = TimeUnit.SECONDS)
    void smoke_servesLoadAndExecutesEveryTechnique() throws Exception {
        Path repo = repoRoot();
        Path runDir = repo.resolve("agent/target/e2e-smoke-" + System.currentTimeMillis());
        Path out = Files.createDirectories(runDir).resolve("harness.out");
        int rc = runHarness(List.of(repo.resolve("bench/e2e/run.sh").toString(), "--smoke", "--run-dir", runDir.toString()),
                repo, out);
        assertThat(rc).as("bench/e2e/run.sh --smoke exit status; output:\n%s", tail(out)).isZero();

        Path resultsFile = runDir.resolve("results.json");
        assertThat(resultsFile).exists();
        Map<String, Object> results = Json.parseObject(Files.readString(resultsFile, StandardCharsets.UTF_8));
        assertThat(results).containsKeys("run", "containers", "workloads", "attacks", "deviations_total",
                "deviations_by_phase", "false_alerts_during_attacks");
        Map<String, Object> run = map(results.get("run"));
        assertThat(run).containsEntry("mode", "smoke").containsKeys("tag", "learning_status", "timings_s");
        assertThat(Files.readString(runDir.resolve("results.md"))).contains("| Technique |", "| nginx");

        // the workload served the load: requests > 0, no errors, every step exited 0
        List<Object> workloads = list(results.get("workloads"));
        assertThat(workloads).hasSize(1);
        Map<String, Object> nginx = map(workloads.get(0));
        assertThat(nginx).containsEntry("workload", "nginx");
        for (Object o : list(nginx.get("loads"))) {
            Map<String, Object> load = map(o);
            assertThat(num(load.get("requests"))).as("requests of %s", load).isPositive();
            assertThat(num(load.get("errors"))).as("errors of %s", load).isZero();
            assertThat(num(load.get("rc"))).as("exit status of %s", load).isZero();
        }
        Map<String, Object> requests = map(nginx.get("requests"));
        assertThat(num(requests.get("learning"))).isPositive();
        assertThat(num(requests.get("benign"))).isPositive();
        for (Object o : list(nginx.get("maintenance"))) {
            assertThat(num(map(o).get("rc"))).as("maintenance step %s", o).isZero();
        }
        assertThat(list(nginx.get("learned_maintenance"))).contains("nginx -s reload", "logrotate -f");

        // every technique ran inside the container, with proof from the container or the peer
        List<Object> attacks = list(results.get("attacks"));
        assertThat(attacks.stream().map(a -> map(a).get("technique")).toList()).containsExactlyElementsOf(TECHNIQUES);
        for (Object o : attacks) {
            Map<String, Object> a = map(o);
            assertThat(a).containsKeys("detected", "precise", "time_to_alert_ms", "first_deviation", "start_ms", "end_ms");
            assertThat(a.get("executed")).as("technique %s executed", a.get("technique")).isEqualTo(Boolean.TRUE);
            assertThat(num(a.get("end_ms"))).isGreaterThanOrEqualTo(num(a.get("start_ms")));
        }
        assertThat(proof(attacks, "shell_spawn")).contains("exe=/usr/bin/dash");
        assertThat(proof(attacks, "drop_exec")).contains("uid=0(root)");
        assertThat(proof(attacks, "reverse_shell")).contains("DWE-PROOF reverse_shell root@web-7d4b9c6f8-x2x9q");

        // nothing left behind
        String tag = String.valueOf(run.get("tag"));
        assertThat(Procs.run(10_000, List.of("runc", "list", "-q")).stdout()).doesNotContain("dwe-" + tag);
        assertThat(Path.of("/run/netns/dwe-" + tag + "-peer")).doesNotExist();
        assertThat(Path.of("/sys/fs/cgroup/unified/dwe-" + tag + "-nginx")).doesNotExist();
        assertThat(runDir.resolve("bundles")).doesNotExist();

        if (ASSERT_DETECTION) {
            assertThat(run.get("learning_status")).isEqualTo("left learning");
            assertThat(num(nginx.get("false_positives"))).as("false positives: %s", nginx.get("false_positive_causes")).isZero();
            assertThat(list(results.get("false_alerts_during_attacks"))).isEmpty();
            for (Object o : attacks) {
                Map<String, Object> a = map(o);
                boolean detected = Boolean.TRUE.equals(a.get("detected"));
                boolean precise = Boolean.TRUE.equals(a.get("precise"));
                assertThat(detected).as("technique %s detected", a.get("technique")).isTrue();
                if (!DETECTED_BY_CONSEQUENCE.contains(a.get("technique"))) {
                    assertThat(precise).as("technique %s precise signal (%s %s)", a.get("technique"),
                            a.get("expect_kinds"), a.get("expect_value")).isTrue();
                }
            }
        }
    }

    /** Runs the harness; on timeout it gets SIGTERM first so its EXIT trap removes containers and namespaces. */
    private static int runHarness(List<String> cmd, Path dir, Path out) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).start();
        if (p.waitFor(HARNESS_TIMEOUT_MS, TimeUnit.MILLISECONDS)) return p.exitValue();
        p.destroy();
        p.descendants().forEach(ProcessHandle::destroy);
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        throw new AssertionError("bench/e2e/run.sh --smoke did not finish within " + HARNESS_TIMEOUT_MS + " ms:\n" + tail(out));
    }

    private static Path repoRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isExecutable(d.resolve("bench/e2e/run.sh")) && Files.exists(d.resolve("driftwatch"))) return d;
        }
        throw new IllegalStateException("bench/e2e/run.sh not found above " + Path.of("").toAbsolutePath());
    }

    private static String proof(List<Object> attacks, String technique) {
        return attacks.stream().map(E2eSmokeTest::map).filter(a -> technique.equals(a.get("technique")))
                .map(a -> String.valueOf(a.get("proof"))).findFirst().orElse("");
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        assertThat(o).isInstanceOf(List.class);
        return (List<Object>) o;
    }

    private static long num(Object o) {
        assertThat(o).isInstanceOf(Number.class);
        return ((Number) o).longValue();
    }
}
