package io.driftwatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.config.AgentConfig;
import io.driftwatch.testsupport.FixtureTree;
import io.driftwatch.testsupport.Http;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole agent over a fixture procfs, cgroupfs and runtime state: no root, no containers needed. */
final class AgentProcFixtureTest {
    @TempDir
    Path tmp;

    @Test
    void start_fixtureProcfs_listsContainerAndNoticesStop() throws Exception {
        Map<String, Path> w = FixtureTree.world(tmp);
        AgentConfig config = AgentConfig.builder().set("http.listen", "127.0.0.1:0").set("sources.proc.interval", "200ms")
                .set("procfs_root", w.get("proc").toString()).set("cgroup_root", w.get("cgroup").toString())
                .set("runtime_state_dirs", w.get("runtime").resolve("runc").toString())
                .set("profiles_dir", tmp.resolve("profiles").toString()).build();
        try (Agent agent = new Agent(config)) {
            agent.start();
            List<Map<String, Object>> list = Http.awaitContainers(agent.httpAddress(), 10_000, 
                    l -> !l.isEmpty() && ((Number) l.get(0).get("events")).longValue() > 0); // counts refresh each tick
            assertThat(list).singleElement().satisfies(c -> {
                assertThat(c).containsEntry("id", "dwp-fixture").containsEntry("runtime", "runc")
                        .containsEntry("namespace", "shop").containsEntry("pod", "web-7d4b9c6f8-x2x9q")
                        .containsEntry("container", "nginx").containsEntry("image", "registry.local/shop/web:1.2")
                        .containsEntry("workload", "web").containsEntry("workload_kind", "Deployment")
                        .containsEntry("init_pid", 100).containsEntry("processes", 3);
            });
            assertThat(agent.processTable().exe(101)).isEqualTo("/bin/busybox");
            assertThat(Http.get(agent.httpAddress(), "/metrics"))
                    .contains("driftwatch_containers 1.0")
                    .contains("driftwatch_container_processes{container=\"nginx\",namespace=\"shop\",pod=\"web-7d4b9c6f8-x2x9q\"} 3.0")
                    .contains("driftwatch_events_total{kind=\"exec\",source=\"proc\"}");

            Files.writeString(w.get("cgroup").resolve("unified/dwp-fixture/cgroup.procs"), "");
            assertThat(Http.awaitContainers(agent.httpAddress(), 10_000, List::isEmpty)).isEmpty();
            assertThat(Http.get(agent.httpAddress(), "/metrics")).contains("driftwatch_containers 0.0")
                    .doesNotContain("driftwatch_container_processes{");
        }
    }
}
