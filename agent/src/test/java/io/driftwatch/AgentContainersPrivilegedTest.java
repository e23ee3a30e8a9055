package io.driftwatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.config.AgentConfig;
import io.driftwatch.testsupport.Http;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.Procs;
import io.driftwatch.testsupport.RuncContainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real agent attributes a real runc container with Kubernetes annotations (/proc source only). */
@Privileged(tools = {"runc"})
final class AgentContainersPrivilegedTest {
    @TempDir
    Path tmp;

    @Test
    void start_runcContainer_listedWithMetadataThenStopped() throws Exception {
        AgentConfig config = AgentConfig.builder().set("http.listen", "127.0.0.1:0").set("sources.proc.interval", "200ms")
                .set("profiles_dir", tmp.resolve("profiles").toString()).build();
        RuncContainer c = RuncContainer.builder("dwp-agent-it").kubernetes("shop", "web-7d4b9c6f8-x2x9q", "nginx",
                "registry.local/shop/web:1.2").command("sh", "-c", "exec sleep 100000").start();
        try (Agent agent = new Agent(config)) {
            agent.start();
            List<Map<String, Object>> list = Http.awaitContainers(agent.httpAddress(), 15_000,
                    l -> l.stream().anyMatch(m -> "dwp-agent-it".equals(m.get("id"))));
            Map<String, Object> ctr = list.stream().filter(m -> "dwp-agent-it".equals(m.get("id"))).findFirst().orElseThrow();
            assertThat(ctr).containsEntry("runtime", "runc").containsEntry("namespace", "shop")
                    .containsEntry("pod", "web-7d4b9c6f8-x2x9q").containsEntry("container", "nginx")
                    .containsEntry("image", "registry.local/shop/web:1.2").containsEntry("workload", "web")
                    .containsEntry("workload_kind", "Deployment").containsEntry("init_pid", c.pid())
                    .containsEntry("cgroup_path", "/dwp-agent-it");
            assertThat(((Number) ctr.get("cgroup_id")).longValue()).isEqualTo(c.cgroupId());
            assertThat(((Number) ctr.get("processes")).intValue()).isGreaterThanOrEqualTo(1);
            assertThat(list).noneMatch(m -> "/".equals(m.get("cgroup_path")));

            // a runc exec session: seen by the poller, attributed, and not an init descendant
            CompletableFuture<Procs.Result> session = CompletableFuture.supplyAsync(() -> c.exec(20_000, "sleep", "3"));
            try {
                int sleeper = awaitChild(c, 10_000);
                assertThat(sleeper).isPositive();
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (agent.processTable().exe(sleeper) == null && System.nanoTime() < deadline) Thread.sleep(100);
                boolean[] init = new boolean[2];
                agent.pipeline().call(() -> {
                    io.driftwatch.pipeline.ContainerState st = ((io.driftwatch.pipeline.CgroupContainerResolver) agent
                            .resolver()).running().stream().filter(x -> x.info.id().equals("dwp-agent-it")).findFirst()
                            .orElseThrow();
                    init[0] = agent.processTable().isInitDescendant(st, sleeper, agent.processTable().ppid(sleeper));
                    init[1] = agent.processTable().isInitDescendant(st, c.pid(), 0);
                    return null;
                }, 5_000);
                assertThat(init[0]).as("runc exec session").isFalse();
                assertThat(init[1]).as("container init").isTrue();
            } finally {
                session.get();
            }
            c.close();
            assertThat(Http.awaitContainers(agent.httpAddress(), 15_000,
                    l -> l.stream().noneMatch(m -> "dwp-agent-it".equals(m.get("id")))))
                    .noneMatch(m -> "dwp-agent-it".equals(m.get("id")));
        } finally {
            c.close();
        }
    }

    /** Host pid of the `sleep 3` exec'd into the container (not its init). */
    static int awaitChild(RuncContainer c, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() < deadline) {
            for (String line : java.nio.file.Files.readAllLines(c.cgroupV2Dir().resolve("cgroup.procs"))) {
                int pid = Integer.parseInt(line.trim());
                if (pid == c.pid()) continue;
                String cmd;
                try {
                    cmd = java.nio.file.Files.readString(Path.of("/proc", line.trim(), "cmdline")).replace('\0', ' ');
                } catch (java.io.IOException e) {
                    continue; // exited meanwhile
                }
                if (cmd.startsWith("sleep 3")) return pid;
            }
            Thread.sleep(50);
        }
        return -1;
    }
}
