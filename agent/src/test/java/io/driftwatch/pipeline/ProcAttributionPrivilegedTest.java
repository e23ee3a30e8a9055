package io.driftwatch.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.EventLayout;
import io.driftwatch.container.RuntimeStateReader;
import io.driftwatch.proc.CgroupFs;
import io.driftwatch.proc.ProcFs;
import io.driftwatch.proc.ProcessTable;
import io.driftwatch.sensor.ProcSource;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.Procs;
import io.driftwatch.testsupport.RuncContainer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/** Real runc container, real /proc: exec events of the poller reach handlers attributed to the container. */
@Privileged(tools = {"runc"})
final class ProcAttributionPrivilegedTest {

    record Seen(int pid, String filename, List<String> argv, String containerId, boolean initDescendant) {}

    @Test
    void pipeline_runcExec_execEventAttributedAndNotInitDescendant() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ProcFs procFs = new ProcFs(Path.of("/proc"));
        CgroupFs cgroupFs = new CgroupFs(Path.of("/sys/fs/cgroup"));
        CgroupContainerResolver resolver = new CgroupContainerResolver(procFs, cgroupFs,
                RuntimeStateReader.fromConfig("/run/runc"), registry);
        ProcessTable table = new ProcessTable(procFs, cgroupFs, registry);
        Dispatcher dispatcher = new Dispatcher();
        table.register(dispatcher);
        ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
        dispatcher.register(EventLayout.OP_EXEC, (e, c) -> seen.add(new Seen(e.tgid(), e.filename(), e.argv(),
                c == null ? null : c.info.id(), c != null && table.isInitDescendant(c, e.tgid(), e.ppid()))));

        RuncContainer c = RuncContainer.builder("dwp-pipe-it").kubernetes("shop", "db-0", "postgres", "postgres:16")
                .command("sh", "-c", "exec sleep 100000").start();
        ProcSource source = new ProcSource(procFs, cgroupFs, Duration.ofMillis(200), registry).start();
        Pipeline pipeline = new Pipeline(List.of(source), resolver, dispatcher, registry, false);
        pipeline.every(500, "containers", () -> resolver.tick(System.currentTimeMillis()));
        pipeline.start();
        try {
            CompletableFuture<Procs.Result> session = CompletableFuture.supplyAsync(() -> c.exec(20_000, "sleep", "2"));
            long deadline = System.nanoTime() + 15_000_000_000L;
            while (System.nanoTime() < deadline && seen.stream().noneMatch(s -> s.argv().equals(List.of("sleep", "2")))) {
                Thread.sleep(50);
            }
            assertThat(session.get().exitCode()).isZero();
            assertThat(seen).filteredOn(s -> s.argv().equals(List.of("sleep", "2"))).first().satisfies(s -> {
                assertThat(s.containerId()).isEqualTo("dwp-pipe-it");
                assertThat(s.initDescendant()).as("runc exec session").isFalse();
            });
            assertThat(seen).filteredOn(s -> s.pid() == c.pid()).singleElement().satisfies(s -> {
                assertThat(s.containerId()).isEqualTo("dwp-pipe-it");
                assertThat(s.initDescendant()).as("container init").isTrue();
                assertThat(s.argv()).containsExactly("sleep", "100000");
            });
            int self = (int) ProcessHandle.current().pid();
            assertThat(seen).filteredOn(s -> s.pid() == self).allSatisfy(s -> assertThat(s.containerId()).isNull());
            // only this test's container: other containers on a shared machine (other test runs) have their own execs
            assertThat(seen).filteredOn(s -> "dwp-pipe-it".equals(s.containerId())).allSatisfy(s ->
                    assertThat(s.pid() == c.pid() || s.argv().get(0).equals("sleep") || s.filename().contains("runc"))
                            .as(s.toString()).isTrue());
            ContainerSnapshot snap = resolver.snapshot().stream().filter(x -> x.info().id().equals("dwp-pipe-it"))
                    .findFirst().orElseThrow();
            assertThat(snap.info().workload()).isEqualTo("db");
            assertThat(snap.info().workloadKind()).isEqualTo("StatefulSet");
        } finally {
            pipeline.close();
            source.close();
            c.close();
        }
    }
}
