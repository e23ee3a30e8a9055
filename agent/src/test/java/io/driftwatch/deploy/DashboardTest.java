package io.driftwatch.deploy;

import static io.driftwatch.deploy.Repo.at;
import static io.driftwatch.deploy.Repo.list;
import static io.driftwatch.deploy.Repo.maps;
import static io.driftwatch.deploy.Repo.str;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.Agent;
import io.driftwatch.json.Json;
import io.driftwatch.metrics.AgentMetrics;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard: valid JSON, a data source variable used by every panel, and queries
 * that only use metrics the agent documents or, for JVM and process panels, that a real agent
 * registry exports.
 */
final class DashboardTest {
    static final String FILE = "deploy/grafana/driftwatch-dashboard.json";

    static Map<String, Object> dashboard() {
        return Json.parseObject(Repo.read(FILE));
    }

    static List<Map<String, Object>> panels() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> p : maps(dashboard(), "panels")) {
            out.add(p);
            out.addAll(maps(p, "panels")); // collapsed rows keep their panels inside
        }
        return out;
    }

    @Test
    void dataSource_isAVariable_usedByEveryPanelAndQuery() {
        List<Map<String, Object>> vars = maps(dashboard(), "templating", "list");
        Map<String, Object> ds = vars.stream().filter(v -> "datasource".equals(v.get("type"))).findFirst().orElseThrow();
        assertThat(str(ds, "query")).isEqualTo("prometheus");
        String ref = "${" + str(ds, "name") + "}";
        for (Map<String, Object> p : panels()) {
            if ("row".equals(p.get("type"))) continue;
            assertThat(str(p, "datasource", "uid")).as("panel " + p.get("title")).isEqualTo(ref);
            assertThat(maps(p, "targets")).as("panel " + p.get("title") + " has queries").isNotEmpty();
            for (Map<String, Object> t : maps(p, "targets")) {
                assertThat(str(t, "datasource", "uid")).as("query of " + p.get("title")).isEqualTo(ref);
            }
        }
    }

    @Test
    void panels_haveUniqueIdsTitlesAndPositions() {
        Set<Object> ids = new HashSet<>();
        for (Map<String, Object> p : panels()) {
            assertThat(ids.add(p.get("id"))).as("unique panel id " + p.get("id")).isTrue();
            assertThat(str(p, "title")).isNotBlank();
            assertThat(at(p, "gridPos", "w")).isNotNull();
            assertThat(at(p, "gridPos", "h")).isNotNull();
        }
        assertThat(str(dashboard(), "uid")).isEqualTo("driftwatch");
    }

    @Test
    void queries_useOnlyDocumentedAgentMetrics_andJvmMetricsTheAgentExports() {
        Set<String> exported = new TreeSet<>();
        try (AgentMetrics m = new AgentMetrics(Agent.VERSION)) {
            for (String line : m.scrape().split("\n")) {
                if (line.startsWith("# TYPE ")) exported.add(line.split(" ")[2]);
            }
        }
        assertThat(exported).contains("driftwatch_build_info");
        Set<String> used = new TreeSet<>();
        for (Map<String, Object> p : panels()) {
            for (Map<String, Object> t : maps(p, "targets")) {
                for (String name : PromQl.metricNames(str(t, "expr"))) {
                    used.add(name);
                    boolean ok = name.startsWith("driftwatch_") ? MetricContract.METRICS.containsKey(name)
                            : MetricContract.PROMETHEUS.contains(name) || exported.contains(name);
                    assertThat(ok).as("panel '" + p.get("title") + "' uses " + name
                            + " (neither documented nor exported by the agent)").isTrue();
                }
            }
        }
        // the brief's panels are all there
        assertThat(used).contains("driftwatch_deviations_total", "driftwatch_actions_total", "driftwatch_events_total",
                "driftwatch_events_lost_total", "driftwatch_pipeline_lag_seconds", "driftwatch_profiles",
                "driftwatch_profile_confidence", "process_cpu_usage", "jvm_memory_used_bytes");
        for (Map<String, Object> v : maps(dashboard(), "templating", "list")) {
            Object q = at(v, "query", "query");
            if (q != null) {
                for (String name : PromQl.metricNames(String.valueOf(q).replaceAll("label_values\\((.*),[^,]*\\)", "$1"))) {
                    assertThat(MetricContract.METRICS).as("variable " + v.get("name")).containsKey(name);
                }
            }
        }
        assertThat(list(dashboard(), "tags")).contains("driftwatch");
    }
}
