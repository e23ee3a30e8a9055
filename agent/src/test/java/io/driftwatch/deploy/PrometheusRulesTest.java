package io.driftwatch.deploy;

import static io.driftwatch.deploy.Repo.maps;
import static io.driftwatch.deploy.Repo.str;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.Procs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped alert rules: promtool accepts them, their unit tests pass, every alert has a
 * case where it fires and one where it must not, and the unit tests do catch a broken rule or
 * a wrong expectation (a test of the tests).
 */
@Privileged(tools = {"promtool"})
final class PrometheusRulesTest {
    static final String RULES = "deploy/prometheus/driftwatch-rules.yaml";
    static final String TESTS = "deploy/prometheus/tests";
    /** Series from kube-state-metrics that DriftwatchDaemonSetIncomplete uses. */
    static final Set<String> KUBE_STATE_METRICS = Set.of("kube_daemonset_status_desired_number_scheduled",
            "kube_daemonset_status_number_available");

    @Test
    void promtoolCheckRules_succeeds() {
        Procs.Result r = Procs.run(30_000, List.of("promtool", "check", "rules", Repo.path(RULES).toString()));
        assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
        assertThat(r.stdout()).contains("SUCCESS");
    }

    @Test
    void promtoolTestRules_succeeds() {
        List<Path> tests = Repo.list(TESTS, ".yaml");
        assertThat(tests).isNotEmpty();
        for (Path t : tests) {
            Procs.Result r = Procs.run(60_000, List.of("promtool", "test", "rules", t.toString()));
            assertThat(r.exitCode()).as(t + ":\n" + r.stdout() + r.stderr()).isZero();
            assertThat(r.stdout()).contains("SUCCESS");
        }
    }

    @Test
    void everyAlert_isTestedFiringAndNotFiring() {
        Map<String, Set<String>> cases = new LinkedHashMap<>();
        for (Path t : Repo.list(TESTS, ".yaml")) {
            for (Map<String, Object> test : maps(Repo.yamlDocuments(t).get(0), "tests")) {
                for (Map<String, Object> c : maps(test, "alert_rule_test")) {
                    cases.computeIfAbsent(str(c, "alertname"), k -> new TreeSet<>())
                            .add(maps(c, "exp_alerts").isEmpty() ? "not firing" : "firing");
                }
            }
        }
        for (String alert : alertNames()) {
            assertThat(cases.get(alert)).as("promtool cases of " + alert).containsExactly("firing", "not firing");
        }
    }

    @Test
    void everyAlert_hasSeveritySummaryDescriptionAndARunbookSection() {
        String docs = Repo.read("docs/deploy.md");
        for (Map<String, Object> rule : rules()) {
            String alert = str(rule, "alert");
            assertThat(str(rule, "labels", "severity")).as(alert).isIn("critical", "warning", "info");
            assertThat(str(rule, "annotations", "summary")).as(alert).isNotBlank();
            assertThat(str(rule, "annotations", "description")).as(alert).isNotBlank();
            assertThat(str(rule, "annotations", "runbook")).as(alert)
                    .isEqualTo("docs/deploy.md#" + alert.toLowerCase(java.util.Locale.ROOT));
            assertThat(docs).as("runbook section for " + alert).containsPattern("(?m)^#+ " + alert + "$");
        }
    }

    @Test
    void rules_useOnlyTheAgentsDocumentedMetrics() {
        for (Map<String, Object> rule : rules()) {
            for (String name : PromQl.metricNames(str(rule, "expr"))) {
                assertThat(MetricContract.METRICS.containsKey(name) || MetricContract.PROMETHEUS.contains(name)
                        || KUBE_STATE_METRICS.contains(name)).as(str(rule, "alert") + " uses " + name).isTrue();
            }
        }
    }

    @Test
    void aWrongExpectation_failsPromtool(@TempDir Path tmp) throws IOException {
        // the shipped tests with one expected label changed: promtool must report the mismatch
        String test = Repo.read(TESTS + "/driftwatch-rules-test.yaml");
        String wrong = test.replaceFirst("workload: web", "workload: not-web");
        assertThat(wrong).isNotEqualTo(test);
        Procs.Result r = promtoolTest(tmp, wrong, Repo.read(RULES));
        assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isNotZero();
        assertThat(r.stdout() + r.stderr()).contains("FAILED").contains("not-web");
    }

    @Test
    void aBrokenRule_failsTheUnitTests(@TempDir Path tmp) throws IOException {
        // DriftwatchDeviation that only counts increases (the first deviation of a workload is
        // then missed): the "first deviation" case must catch it
        String rules = Repo.read(RULES);
        String broken = rules.replaceFirst(
                "\\(driftwatch_deviations_total unless driftwatch_deviations_total offset 5m\\) \\+ 0\\s+or\\s+", "");
        assertThat(broken).isNotEqualTo(rules);
        Procs.Result r = promtoolTest(tmp, Repo.read(TESTS + "/driftwatch-rules-test.yaml"), broken);
        assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isNotZero();
        assertThat(r.stdout() + r.stderr()).contains("first deviation of a workload");
        // and the copy mechanics are sound: the unchanged rules pass from the same place
        Procs.Result ok = promtoolTest(tmp, Repo.read(TESTS + "/driftwatch-rules-test.yaml"), rules);
        assertThat(ok.exitCode()).as(ok.stdout() + ok.stderr()).isZero();
    }

    // ---- helpers ----------------------------------------------------------------------------

    static Procs.Result promtoolTest(Path dir, String testYaml, String rulesYaml) throws IOException {
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, rulesYaml, StandardCharsets.UTF_8);
        Path test = dir.resolve("test.yaml");
        String rewritten = testYaml.replace("- ../driftwatch-rules.yaml", "- " + rules);
        assertThat(rewritten).isNotEqualTo(testYaml);
        Files.writeString(test, rewritten, StandardCharsets.UTF_8);
        return Procs.run(60_000, List.of("promtool", "test", "rules", test.toString()));
    }

    static List<Map<String, Object>> rules() {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (Map<String, Object> g : maps(Repo.yaml(RULES), "groups")) out.addAll(maps(g, "rules"));
        assertThat(out).isNotEmpty();
        return out;
    }

    static Set<String> alertNames() {
        Set<String> names = new LinkedHashSet<>();
        for (Map<String, Object> r : rules()) names.add(str(r, "alert"));
        return names;
    }
}
