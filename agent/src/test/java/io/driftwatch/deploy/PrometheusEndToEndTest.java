package io.driftwatch.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.Agent;
import io.driftwatch.config.AgentConfig;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.PrometheusServer;
import io.driftwatch.profile.Mode;
import io.driftwatch.testsupport.AgentHarness;
import io.driftwatch.testsupport.RuncContainer;
import io.driftwatch.testsupport.ServiceWorkload;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's binary) loads the shipped rules unchanged and scrapes a real
 * agent over loopback: it sees the target and the build info, fires DriftwatchDeviation when a
 * real runc container deviates from its learned profile and DriftwatchEnforcementAction when
 * enforce mode kills it, and fires DriftwatchAgentDown (for: 1m) after the agent stops.
 */
@Privileged(tools = {"prometheus", "promtool"})
final class PrometheusEndToEndTest {
    static final Path RULES = Repo.path("deploy/prometheus/driftwatch-rules.yaml");

    static Agent startAgent(Path profiles) throws Exception {
        return io.driftwatch.testsupport.AgentHarness.startAgent(AgentConfig.builder().set("http.listen", "127.0.0.1:0")
                .set("profiles_dir", profiles.toString()).build());
    }

    static String target(Agent agent) {
        InetSocketAddress a = agent.httpAddress();
        return "127.0.0.1:" + a.getPort();
    }

    @Test
    @Privileged(tools = {"prometheus", "promtool", "runc"})
    void realContainerDeviation_firesDriftwatchDeviation_thenKillFiresDriftwatchEnforcementAction(@TempDir Path work)
            throws Exception {
        String key = "shop/web/web";
        try (AgentHarness h = AgentHarness.start(work.resolve("profiles"), work.resolve("dev.jsonl"),
                "response.default_action", "kill");
             RuncContainer c = ServiceWorkload.builder("dwp-prom", "shop", "web-5d9c7b8f6-prm4x", "web",
                     "registry.local/shop/web:1.0").start();
             PrometheusServer prom = PrometheusServer.builder().target(target(h.agent())).ruleFile(RULES).start()) {
            prom.awaitQuery("up{job=\"driftwatch\"} == 1", Duration.ofSeconds(20));
            List<Map<String, Object>> info = prom.awaitQuery("driftwatch_build_info{job=\"driftwatch\"}",
                    Duration.ofSeconds(20));
            assertThat(Repo.str(info.get(0), "metric", "version")).isEqualTo(Agent.VERSION);

            // the real container is learned until its profile converges into monitor mode
            h.awaitMode(key, "monitor", 120_000);
            Thread.sleep(2000);
            assertThat(prom.alerts("DriftwatchDeviation", "firing")).as("learned behaviour alerts nothing").isEmpty();

            // a deviation inside the container: the shipped rule fires with its workload's labels
            ServiceWorkload.trigger(c, "cat /etc/shadow > /dev/null");
            List<Map<String, Object>> firing = prom.awaitAlert("DriftwatchDeviation", "firing", Duration.ofSeconds(30));
            assertThat(firing).hasSize(1);
            assertThat(Repo.map(firing.get(0), "labels")).containsEntry("namespace", "shop")
                    .containsEntry("workload", "web").containsEntry("kind", "file").containsEntry("severity", "warning");
            assertThat(Repo.str(firing.get(0), "annotations", "summary")).isEqualTo("shop/web deviated from its profile (file)");
            assertThat(prom.alerts("DriftwatchEnforcementAction", "firing")).isEmpty();

            // enforce with kill: the next deviation kills the container and the action alert fires
            h.onPipeline(() -> h.agent().profiles().setMode(key, Mode.ENFORCE, "test"));
            Thread.sleep(1500);
            ServiceWorkload.trigger(c, "sh -c 'id > /dev/null'");
            assertThat(c.awaitEmpty(10_000)).isTrue();
            List<Map<String, Object>> action = prom.awaitAlert("DriftwatchEnforcementAction", "firing",
                    Duration.ofSeconds(30));
            assertThat(Repo.map(action.get(0), "labels")).containsEntry("action", "kill").containsEntry("severity", "critical");
        }
    }

    @Test
    void firesDriftwatchAgentDown_aMinuteAfterTheAgentStops(@TempDir Path profiles) throws Exception {
        Agent agent = startAgent(profiles);
        boolean stopped = false; // Agent.close() is not idempotent: close it exactly once
        try (PrometheusServer prom = PrometheusServer.builder().target(target(agent)).ruleFile(RULES).start()) {
            prom.awaitQuery("up{job=\"driftwatch\"} == 1", Duration.ofSeconds(20));
            assertThat(prom.alerts("DriftwatchAgentDown", "pending")).isEmpty();
            String instance = target(agent);
            stopped = true;
            agent.close();

            prom.awaitQuery("up{job=\"driftwatch\"} == 0", Duration.ofSeconds(20));
            prom.awaitAlert("DriftwatchAgentDown", "pending", Duration.ofSeconds(15));
            // the shipped rule, unchanged (for: 1m); the wait allows for scrape and evaluation slack
            long start = System.nanoTime();
            List<Map<String, Object>> firing = prom.awaitAlert("DriftwatchAgentDown", "firing", Duration.ofSeconds(90));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("for: 1m is respected")
                    .isGreaterThan(Duration.ofSeconds(50));
            assertThat(Repo.map(firing.get(0), "labels")).containsEntry("job", "driftwatch")
                    .containsEntry("instance", instance).containsEntry("severity", "critical");
            // the target still exists, so "no target at all" must not fire
            assertThat(prom.alerts("DriftwatchAgentAbsent", "pending")).isEmpty();
            assertThat(prom.alerts("DriftwatchAgentAbsent", "firing")).isEmpty();
        } finally {
            if (!stopped) agent.close();
        }
    }
}
