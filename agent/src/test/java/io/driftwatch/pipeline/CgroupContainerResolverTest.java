package io.driftwatch.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.EventLayout;
import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.EventWriter;
import io.driftwatch.container.RuntimeStateReader;
import io.driftwatch.proc.CgroupFs;
import io.driftwatch.proc.ProcFs;
import io.driftwatch.testsupport.FakeClock;
import io.driftwatch.testsupport.FixtureTree;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class CgroupContainerResolverTest {
    @TempDir
    Path tmp;
    Map<String, Path> world;
    Path cg;
    FakeClock clock = new FakeClock();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CgroupContainerResolver resolver;
    final List<String> lifecycle = new ArrayList<>();
    final ByteBuffer buf = ByteBuffer.allocateDirect(4096).order(ByteOrder.nativeOrder());
    final EventWriter writer = new EventWriter(buf);
    final EventView view = new EventView();
    long ctrV2, ctrV1, hostV1, rootV1;

    @BeforeEach
    void setUp() throws Exception {
        world = FixtureTree.world(tmp);
        cg = world.get("cgroup");
        resolver = new CgroupContainerResolver(new ProcFs(world.get("proc")), new CgroupFs(cg),
                new RuntimeStateReader(List.of(world.get("runtime").resolve("runc"))), registry, clock);
        resolver.addListener(new ContainerResolver.ContainerListener() {
            @Override
            public void started(ContainerState c) {
                lifecycle.add("started " + c.info.id());
            }

            @Override
            public void stopped(ContainerState c) {
                lifecycle.add("stopped " + c.info.id());
            }
        });
        ctrV2 = ino(cg.resolve("unified/dwp-fixture"));
        ctrV1 = ino(cg.resolve("memory/process_api/abc/dwp-fixture"));
        hostV1 = ino(cg.resolve("memory/process_api/abc"));
        rootV1 = ino(cg.resolve("memory"));
    }

    private EventView event(int tgid, long v2, long v1) {
        writer.reset();
        writer.header(EventLayout.SRC_PROC, 1, v2, v1, tgid, 0, 0, "x");
        writer.exit(0);
        return view.wrap(buf, 0);
    }

    private long v2Root() throws Exception {
        return ino(cg.resolve("unified"));
    }

    @Test
    void resolve_containerProcess_metadataFromRuncState() {
        ContainerState c = resolver.resolve(event(101, ctrV2, ctrV1));
        assertThat(c).isNotNull();
        assertThat(c.info.id()).isEqualTo("dwp-fixture");
        assertThat(c.info.runtime()).isEqualTo("runc");
        assertThat(c.info.namespace()).isEqualTo("shop");
        assertThat(c.info.pod()).isEqualTo("web-7d4b9c6f8-x2x9q");
        assertThat(c.info.container()).isEqualTo("nginx");
        assertThat(c.info.image()).isEqualTo("registry.local/shop/web:1.2");
        assertThat(c.info.workload()).isEqualTo("web");
        assertThat(c.info.workloadKind()).isEqualTo("Deployment");
        assertThat(c.info.cgroupPath()).isEqualTo("/dwp-fixture");
        assertThat(c.initPid).isEqualTo(100);
        assertThat(c.processes).isEqualTo(3);
        assertThat(c.cgroupId).isEqualTo(ctrV2);
        assertThat(lifecycle).containsExactly("started dwp-fixture");
        assertThat(resolver.snapshot()).singleElement().satisfies(s -> {
            assertThat(s.info().id()).isEqualTo("dwp-fixture");
            assertThat(s.initPid()).isEqualTo(100);
        });
        assertThat(registry.get("driftwatch.containers").gauge().value()).isEqualTo(1);
        assertThat(registry.get("driftwatch.container.processes").tag("namespace", "shop")
                .tag("pod", "web-7d4b9c6f8-x2x9q").tag("container", "nginx").gauge().value()).isEqualTo(3);
    }

    @Test
    void resolve_knownContainer_sameStateWithoutIo() {
        ContainerState c = resolver.resolve(event(101, ctrV2, ctrV1));
        double misses = registry.get("driftwatch.resolver.misses").counter().count();
        for (int i = 0; i < 1000; i++) assertThat(resolver.resolve(event(100 + (i % 2), ctrV2, ctrV1))).isSameAs(c);
        assertThat(registry.get("driftwatch.resolver.misses").counter().count()).isEqualTo(misses);
    }

    @Test
    void resolve_hostProcesses_nullAndCachedAfterOneMiss() throws Exception {
        long root = v2Root();
        assertThat(resolver.resolve(event(150, root, hostV1))).isNull();
        assertThat(resolver.resolve(event(1, root, rootV1))).isNull();
        double misses = registry.get("driftwatch.resolver.misses").counter().count();
        clock.advanceMillis(60_000); // past every retry window
        for (int i = 0; i < 100; i++) {
            assertThat(resolver.resolve(event(150, root, hostV1))).isNull();
            assertThat(resolver.resolve(event(1, root, rootV1))).isNull();
        }
        assertThat(resolver.resolve(event(150, root, hostV1))).isNull();
        // /process_api/abc looks like a runc id: it is a candidate until the retry window closes
        assertThat(registry.get("driftwatch.resolver.misses").counter().count()).isLessThanOrEqualTo(misses + 1);
        assertThat(resolver.snapshot()).isEmpty();
    }

    @Test
    void resolve_processVanished_foundByCgroupInode() {
        ContainerState c = resolver.resolve(event(77_777, ctrV2, ctrV1));
        assertThat(c).isNotNull();
        assertThat(c.info.id()).isEqualTo("dwp-fixture");
    }

    @Test
    void resolve_noCgroupIds_attributedThroughProcPid() {
        ContainerState c = resolver.resolve(event(200, 0, 0));
        assertThat(c).isNotNull();
        assertThat(c.info.id()).isEqualTo("dwp-fixture");
        assertThat(resolver.resolve(event(150, 0, 0))).isNull();
    }

    @Test
    void resolve_unknownCgroupId_null() {
        assertThat(resolver.resolve(event(77_777, 987_654_321L, 0))).isNull();
    }

    @Test
    void tick_emptyCgroup_stopsContainerAndRemovesMetrics() throws Exception {
        ContainerState c = resolver.resolve(event(101, ctrV2, ctrV1));
        Files.writeString(cg.resolve("unified/dwp-fixture/cgroup.procs"), "");
        resolver.tick(0);
        assertThat(c.alive).isFalse();
        assertThat(lifecycle).containsExactly("started dwp-fixture", "stopped dwp-fixture");
        assertThat(resolver.snapshot()).isEmpty();
        assertThat(registry.get("driftwatch.containers").gauge().value()).isZero();
        assertThat(registry.find("driftwatch.container.processes").gauges()).isEmpty();
        assertThat(resolver.resolve(event(101, ctrV2, ctrV1))).as("late events within the grace").isSameAs(c);
        clock.advanceMillis(CgroupContainerResolver.STOPPED_GRACE_MS + 1);
        resolver.tick(0);
        Files.writeString(cg.resolve("unified/dwp-fixture/cgroup.procs"), "100\n");
        ContainerState again = resolver.resolve(event(100, ctrV2, ctrV1));
        assertThat(again).isNotSameAs(c);
        assertThat(again.alive).isTrue();
    }

    @Test
    void tick_cgroupDirGone_stops() throws Exception {
        resolver.resolve(event(101, ctrV2, ctrV1));
        Files.delete(cg.resolve("unified/dwp-fixture/cgroup.procs"));
        Files.delete(cg.resolve("unified/dwp-fixture"));
        resolver.tick(0);
        assertThat(resolver.snapshot()).isEmpty();
        assertThat(lifecycle).contains("stopped dwp-fixture");
    }

    @Test
    void resolve_startingContainer_stateWrittenMomentsLater_nextEventIsAttributed() throws Exception {
        Path dir = Files.createDirectories(cg.resolve("unified/dwp-start"));
        Files.writeString(dir.resolve("cgroup.procs"), "100\n");
        long id = ino(dir);
        assertThat(resolver.resolve(event(0, id, 0))).isNull(); // the runtime has not written its state yet
        Path state = world.get("runtime").resolve("runc/dwp-start/state.json");
        Files.createDirectories(state.getParent());
        Files.writeString(state, "{\"id\":\"dwp-start\",\"init_process_pid\":100,\"config\":{\"labels\":[]}}");
        clock.advanceMillis(5);
        assertThat(resolver.resolve(event(0, id, 0))).as("looked for again at the next event while it starts")
                .isNotNull().extracting(c -> c.info.id()).isEqualTo("dwp-start");
    }

    @Test
    void tick_stateWrittenLate_containerAppearsFromPendingRetry() throws Exception {
        Path dir = Files.createDirectories(cg.resolve("unified/dwp-late"));
        Files.writeString(dir.resolve("cgroup.procs"), "100\n");
        long late = ino(dir);
        assertThat(resolver.resolve(event(0, late, 0))).isNull(); // no state.json yet
        clock.advanceMillis(1_500); // past the start-up second: retries back off
        assertThat(resolver.resolve(event(0, late, 0))).isNull();
        Path state = world.get("runtime").resolve("runc/dwp-late/state.json");
        Files.createDirectories(state.getParent());
        Files.writeString(state, "{\"id\":\"dwp-late\",\"init_process_pid\":100,\"config\":{\"labels\":[]}}");
        assertThat(resolver.resolve(event(0, late, 0))).as("retry is rate-limited").isNull();
        clock.advanceMillis(300);
        resolver.tick(0);
        assertThat(resolver.snapshot()).extracting(s -> s.info().id()).containsExactly("dwp-late");
        assertThat(resolver.resolve(event(0, late, 0)).info.container()).isEqualTo("dwp-late");
    }

    @Test
    void resolve_candidateNeverConfirmed_becomesHost() throws Exception {
        Path dir = Files.createDirectories(cg.resolve("unified/not-a-container"));
        Files.writeString(dir.resolve("cgroup.procs"), "1\n");
        long id = ino(dir);
        assertThat(resolver.resolve(event(0, id, 0))).isNull();
        for (int i = 0; i < 40; i++) {
            clock.advanceMillis(1_000);
            resolver.tick(0);
        }
        double misses = registry.get("driftwatch.resolver.misses").counter().count();
        assertThat(resolver.resolve(event(0, id, 0))).isNull();
        assertThat(registry.get("driftwatch.resolver.misses").counter().count()).isEqualTo(misses);
        assertThat(resolver.snapshot()).isEmpty();
    }

    private static long ino(Path p) throws Exception {
        return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
    }
}
