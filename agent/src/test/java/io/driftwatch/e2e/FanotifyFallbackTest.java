package io.driftwatch.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.testsupport.AgentHarness;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.RuncContainer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With eBPF switched off, fanotify (plus the /proc poller) is the source: the container is still learned. */
@Privileged(tools = {"runc"})
final class FanotifyFallbackTest {

    @Test
    void bpfOff_fanotifyReportsTheContainersOpens_andTheProfileLearnsThem(@TempDir Path work) throws Exception {
        try (AgentHarness a = AgentHarness.start(work.resolve("p"), work.resolve("d.jsonl"), "sources.bpf", "off");
                RuncContainer c = DetectionResponseTest.workload("dwf-fallback", "web-5d9c7b8f6-fbk2x").start()) {
            String status = a.get("/api/v1/status").body();
            assertThat(status).contains("\"source\":\"bpf\",\"state\":\"disabled\"")
                    .contains("\"source\":\"fanotify\",\"state\":\"running\"");
            // the workload's loop reads both files every 200 ms; a loaded machine may take a while
            String profile = "";
            for (long end = System.nanoTime() + 30_000_000_000L; System.nanoTime() < end; Thread.sleep(250)) {
                profile = a.get("/api/v1/profiles/" + DetectionResponseTest.KEY).body();
                if (profile.contains("/etc/app.conf") && profile.contains("/www/index.html")) break;
            }
            assertThat(profile).contains("/etc/app.conf").contains("/www/index.html");
            String metrics = a.get("/metrics").body();
            assertThat(metrics).containsPattern("driftwatch_events_total\\{kind=\"open\",source=\"fanotify\"} [1-9]");
            assertThat(metrics).containsPattern("driftwatch_fanotify_watches [1-9]");
        }
    }
}
