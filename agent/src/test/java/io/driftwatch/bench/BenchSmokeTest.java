package io.driftwatch.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.NativeBuild;
import io.driftwatch.json.Json;
import io.driftwatch.testsupport.Privileged;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark harness ({@code ./driftwatch bench}, bench/run.sh) in its reduced form, so it
 * cannot rot: every section completes and results.json is well formed with positive numbers.
 * Nothing here asserts speed — the smoke numbers are meaningless by design (tiny runs on a
 * shared machine). The agent runs from this test's class path (the jar is packaged after the
 * tests); JMH runs only when bench/target/driftwatch-bench.jar was built before.
 */
@Privileged(tools = {"runc", "gcc", "jq", "curl"})
final class BenchSmokeTest {
    @TempDir
    Path tmp;

    @Test
    @SuppressWarnings("unchecked")
    void smoke_harnessCompletes_resultsWellFormed() throws Exception {
        NativeBuild.ensureBuilt();
        Path repo = NativeBuild.repo();
        Path out = tmp.resolve("run");
        Path log = tmp.resolve("bench.log");
        ProcessBuilder pb = new ProcessBuilder("bash", repo.resolve("bench/run.sh").toString(), "--smoke", "--no-build",
                "--no-doc", "--out", out.toString()).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("DRIFTWATCH_BENCH_AGENT_CP", System.getProperty("java.class.path"));
        Process p = pb.start();
        if (!p.waitFor(6, TimeUnit.MINUTES)) {
            p.destroy(); // SIGTERM: the harness's trap stops its agents, containers, auditd rule and bpftrace
            if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("bench/run.sh --smoke:\n%s", tail(output)).isZero();

        Map<String, Object> r = (Map<String, Object>) Json.parse(Files.readString(out.resolve("results.json")));
        assertThat(r).containsEntry("smoke", true).containsKeys("machine", "sections", "targets", "overhead", "loss",
                "latency", "footprint", "jmh");
        for (Object s : (List<Object>) r.get("sections")) assertThat(num(((Map<String, Object>) s).get("rc"))).isZero();

        Map<String, Object> overhead = (Map<String, Object>) r.get("overhead");
        List<Map<String, Object>> results = (List<Map<String, Object>>) (List<?>) overhead.get("results");
        for (String config : List.of("none", "learning", "monitor-supp-on", "monitor-supp-off", "none-after")) {
            for (String env : List.of("host", "container")) {
                for (String loop : List.of("openclose", "forkexec", "connect")) {
                    assertThat(results).as("%s/%s/%s", config, env, loop).anySatisfy(x -> {
                        assertThat(x).containsEntry("config", config).containsEntry("env", env).containsEntry("loop", loop);
                        assertThat(num(x.get("median_ns"))).isPositive();
                        assertThat(num(x.get("ratio"))).isPositive();
                    });
                }
            }
        }
        // peers run here (or the notes say why not)
        for (String peer : List.of("auditd", "bpftrace")) {
            boolean measured = results.stream().anyMatch(x -> peer.equals(x.get("config")));
            assertThat(measured || ((List<Object>) overhead.get("notes")).stream().anyMatch(n -> n.toString().startsWith(peer)))
                    .as("%s measured or explained", peer).isTrue();
        }

        Map<String, Object> loss = (Map<String, Object>) r.get("loss");
        assertThat((List<Object>) loss.get("steps")).isNotEmpty().allSatisfy(s -> {
            Map<String, Object> step = (Map<String, Object>) s;
            assertThat(num(step.get("achieved_rate"))).isPositive();
            assertThat(num(step.get("open_events_received"))).isPositive();
            assertThat(num(step.get("events_lost"))).isNotNegative();
        });

        Map<String, Object> latency = (Map<String, Object>) r.get("latency");
        Map<String, Object> detection = (Map<String, Object>) latency.get("detection");
        assertThat(num(detection.get("samples"))).isPositive();
        assertThat(num(detection.get("p50_seconds"))).isPositive();
        assertThat(num(detection.get("p99_seconds"))).isPositive();
        Map<String, Object> kill = (Map<String, Object>) latency.get("kill");
        assertThat(num(kill.get("killed"))).isPositive();
        assertThat(num(kill.get("p50_seconds"))).isPositive();

        Map<String, Object> footprint = (Map<String, Object>) r.get("footprint");
        assertThat((List<Object>) footprint.get("phases")).hasSize(3).allSatisfy(ph -> {
            Map<String, Object> phase = (Map<String, Object>) ph;
            assertThat(num(phase.get("rss_kb"))).isPositive();
            assertThat(num(phase.get("cpu_cores"))).isNotNegative();
        });

        Map<String, Object> jmh = (Map<String, Object>) r.get("jmh");
        if (!jmh.containsKey("skipped")) {
            assertThat((List<Object>) jmh.get("benchmarks")).isNotEmpty().allSatisfy(b ->
                    assertThat(num(((Map<String, Object>) b).get("events_per_second"))).isPositive());
        }
        assertThat(Files.readString(out.resolve("results.md"))).contains("#### Syscall overhead", "#### Event loss",
                "#### Latency", "#### Footprint");
    }

    private static double num(Object o) {
        assertThat(o).isInstanceOf(Number.class);
        return ((Number) o).doubleValue();
    }

    private static String tail(String s) {
        return s.length() <= 6000 ? s : s.substring(s.length() - 6000);
    }
}
