package io.driftwatch.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.testsupport.AgentHarness;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.RuncContainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The baseline's life, end to end with the real kernel and real runc containers: a service is
 * learned until its profile converges and is written; the agent restarts and reloads it
 * unchanged; a second replica of the same workload shares that profile and, doing what the
 * first did, raises nothing.
 */
@Privileged(tools = {"runc"})
final class BaselineLifecycleTest {
    static final String KEY = DetectionResponseTest.KEY;

    private static Path profileFile(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            // other containers may run on the node too: only this workload's files are checked
            List<Path> yamls = s.filter(p -> p.getFileName().toString().startsWith("shop_web_web")
                    && p.toString().endsWith(".yaml")).toList();
            assertThat(yamls).as("one profile file per workload").hasSize(1);
            return yamls.get(0);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void learnConvergeWrite_restartReloadsUnchanged_replicaSharesProfile(@TempDir Path work) throws Exception {
        Path profiles = work.resolve("profiles");
        try (RuncContainer first = DetectionResponseTest.workload("dwl-first", "web-5d9c7b8f6-lrn2x").start()) {
            byte[] learned;
            try (AgentHarness a = AgentHarness.start(profiles, work.resolve("a.jsonl"))) {
                // started after the container: the /proc snapshot finds it, the kernel source sees the rest
                Map<String, Object> p = a.awaitMode(KEY, "monitor", 120_000);
                assertThat(p).containsEntry("namespace", "shop").containsEntry("workload", "web").containsEntry("container", "web");
                Map<String, Object> conf = (Map<String, Object>) p.get("confidence");
                assertThat(conf.values()).allSatisfy(v -> assertThat(((Number) v).doubleValue()).isEqualTo(1.0));
                Thread.sleep(1500); // a flush interval
            }
            Path file = profileFile(profiles);
            learned = Files.readAllBytes(file);
            String yaml = new String(learned);
            assertThat(yaml.lines().filter(l -> !l.startsWith("#")).findFirst().orElse("")).startsWith("schema_version:");
            assertThat(yaml).contains("mode: monitor", "/bin/cat", "/bin/wget", "/etc/app.conf", "/var/log/app.log",
                    "tcp:8080", "tcp:127.0.0.1:8080");
            assertThat(yaml).as("the runtime's own set-up is not the container's behaviour")
                    .doesNotContain("dw-bundle", "/proc/self/exe", "uid_map");

            // restart: the same file is reloaded as it was, and nothing relearns
            try (AgentHarness b = AgentHarness.start(profiles, work.resolve("b.jsonl"))) {
                assertThat(b.profile(KEY)).containsEntry("mode", "monitor");
                Thread.sleep(3000); // the first container keeps running; flushes happen
                assertThat(Files.readAllBytes(file)).as("reloaded and rewritten unchanged").isEqualTo(learned);

                // a second replica of the workload (another pod of the same Deployment)
                try (RuncContainer second = DetectionResponseTest.workload("dwl-second", "web-5d9c7b8f6-x9z2q").start()) {
                    long end = System.nanoTime() + 20_000_000_000L;
                    String containers = "";
                    while (System.nanoTime() < end && !containers.contains("\"id\":\"dwl-second\"")) {
                        containers = b.get("/api/v1/containers").body();
                        Thread.sleep(100);
                    }
                    assertThat(containers).contains("\"id\":\"dwl-second\"");
                    Thread.sleep(3000);
                    List<Map<String, Object>> list = (List<Map<String, Object>>) b.getJson("/api/v1/containers").get("containers");
                    assertThat(list).filteredOn(c -> c.get("id").toString().startsWith("dwl-"))
                            .extracting(c -> c.get("profile")).containsOnly(KEY);
                    assertThat((List<Map<String, Object>>) b.getJson("/api/v1/profiles").get("profiles"))
                            .extracting(x -> String.valueOf(x.get("key")))
                            .as("no per-pod or per-container profile").filteredOn(k -> k.contains("web-5d9c7b8f6") || k.contains("dwl-"))
                            .isEmpty();
                    assertThat(b.profile(KEY)).containsEntry("mode", "monitor");
                    assertThat(b.deviations()).as("the replica does what was learned: no deviation")
                            .noneMatch(d -> String.valueOf(d.get("container_id")).startsWith("dwl-"));
                }
            }
        }
    }
}
