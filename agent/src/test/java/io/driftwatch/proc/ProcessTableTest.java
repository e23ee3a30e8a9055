package io.driftwatch.proc;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.EventLayout;
import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.EventWriter;
import io.driftwatch.container.ContainerInfo;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.Dispatcher;
import io.driftwatch.testsupport.FakeClock;
import io.driftwatch.testsupport.FixtureTree;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class ProcessTableTest {
    @TempDir
    Path tmp;
    CgroupFs cgroupFs;
    ProcFs procFs;
    FakeClock clock = new FakeClock();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ProcessTable table;
    ContainerState container;
    long ctrV2, ctrV1, hostV1;
    final Dispatcher dispatcher = new Dispatcher();
    final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
    final EventWriter writer = new EventWriter(buf);
    final EventView view = new EventView();

    @BeforeEach
    void setUp() throws Exception {
        Map<String, Path> w = FixtureTree.world(tmp);
        procFs = new ProcFs(w.get("proc"));
        cgroupFs = new CgroupFs(w.get("cgroup"));
        table = new ProcessTable(procFs, cgroupFs, registry, 100, 5_000_000_000L, clock);
        table.register(dispatcher);
        ctrV2 = ino(w.get("cgroup").resolve("unified/dwp-fixture"));
        ctrV1 = ino(w.get("cgroup").resolve("memory/process_api/abc/dwp-fixture"));
        hostV1 = ino(w.get("cgroup").resolve("memory/process_api/abc"));
        container = new ContainerState(cgroupFs.key(ctrV2, ctrV1), info(), ctrV2, ctrV1);
        container.initPid = 100;
    }

    private static ContainerInfo info() {
        String u = ContainerInfo.UNKNOWN;
        return new ContainerInfo("dwp-fixture", "runc", "/dwp-fixture", u, u, u, "dwp-fixture", u, u, u, u, null);
    }

    /** pid, ppid, init descendant, exe, parent exe: lineage from the fixture /proc alone. */
    static Stream<Arguments> fromProc() {
        return Stream.of(
                Arguments.of(100, 90, true, "/bin/busybox", null),
                Arguments.of(101, 100, true, "/bin/busybox", "/bin/busybox"),
                Arguments.of(200, 150, false, "/bin/busybox", "/usr/sbin/runc"),
                Arguments.of(150, 1, false, "/usr/sbin/runc", "/usr/lib/systemd/systemd"),
                Arguments.of(301, 1, false, "/usr/bin/foo", "/usr/lib/systemd/systemd"));
    }

    @ParameterizedTest
    @MethodSource("fromProc")
    void isInitDescendant_fromProc(int pid, int ppid, boolean init, String exe, String parentExe) {
        assertThat(table.isInitDescendant(container, pid, ppid)).isEqualTo(init);
        assertThat(table.exe(pid)).isEqualTo(exe);
        assertThat(table.parentExe(pid)).isEqualTo(parentExe);
    }

    @ParameterizedTest
    @MethodSource("fromProc")
    void isInitDescendant_initUnknown_foundThroughNspid(int pid, int ppid, boolean init, String exe, String parentExe) {
        container.initPid = 0;
        assertThat(table.isInitDescendant(container, pid, ppid)).isEqualTo(init);
        if (init) assertThat(container.initPid).isEqualTo(100);
    }

    @Test
    void isInitDescendant_noContainer_false() {
        assertThat(table.isInitDescendant(null, 101, 100)).isFalse();
    }

    @Test
    void forkExecExit_fromEvents_lineageExeAndGrace() {
        fork(100, 500, ctrV2, ctrV1);
        exec(500, 100, "/bin/cat", ctrV2, ctrV1);
        assertThat(table.isInitDescendant(container, 500, 100)).isTrue();
        assertThat(table.exe(500)).isEqualTo("/bin/cat");
        assertThat(table.parentExe(500)).isEqualTo("/bin/busybox");

        exit(500);
        clock.advanceMillis(1_000);
        table.expire();
        assertThat(table.exe(500)).as("late events still resolve within the grace").isEqualTo("/bin/cat");
        clock.advanceMillis(5_000);
        table.expire();
        assertThat(table.peek(500)).isNull();
        assertThat(table.exe(500)).as("not in /proc either").isNull();
    }

    @Test
    void execSession_fromOutside_neverInitDescendant_evenAfterReparenting() {
        fork(150, 600, 1, hostV1);                   // runc (host) forks runc init
        exec(600, 150, "/bin/sh", ctrV2, ctrV1);     // joins the container's cgroup, execs the command
        assertThat(table.isInitDescendant(container, 600, 150)).isFalse();
        fork(600, 601, ctrV2, ctrV1);                // the session's child
        exec(601, 600, "/bin/wget", ctrV2, ctrV1);
        assertThat(table.isInitDescendant(container, 601, 600)).isFalse();
        exec(601, 100, "/bin/wget", ctrV2, ctrV1);   // orphaned, re-parented to the container's init
        assertThat(table.isInitDescendant(container, 601, 100)).isFalse();
    }

    @Test
    void threadsAndFailedExecs_ignored() {
        fork(100, 100, ctrV2, ctrV1); // a thread of 100: child tgid == parent
        writer.reset();
        writer.header(EventLayout.SRC_BPF, 1, ctrV2, ctrV1, 101, 100, 0, "sh");
        writer.exec("/bin/nope", List.of("nope"), -2);
        dispatch();
        assertThat(table.exe(101)).isEqualTo("/bin/busybox");
        writer.reset();
        writer.header(EventLayout.SRC_BPF, 1, ctrV2, ctrV1, 101, 100, 0, "sh").flags(EventLayout.F_THREAD);
        writer.exit(0);
        dispatch();
        assertThat(table.peek(101).exitedAt).isZero();
    }

    @Test
    void add_full_refusesAndCounts() {
        for (int i = 0; i < 150; i++) fork(100, 10_000 + i, ctrV2, ctrV1);
        assertThat(table.size()).isEqualTo(100);
        assertThat(registry.get("driftwatch.process.table.refused").counter().count()).isEqualTo(50);
        for (int i = 0; i < 100; i++) exit(10_000 + i);
        clock.advanceMillis(6_000);
        fork(100, 20_000, ctrV2, ctrV1); // expiry makes room
        assertThat(table.peek(20_000)).isNotNull();
    }

    @Test
    void isInitDescendant_vanishedProcess_falseUnlessParentKnown() {
        assertThat(table.isInitDescendant(container, 9_999, 8_888)).isFalse();
        assertThat(table.isInitDescendant(container, 9_999, 101)).isTrue();
    }

    private void fork(int parent, int child, long v2, long v1) {
        writer.reset();
        writer.header(EventLayout.SRC_BPF, 1, v2, v1, parent, 0, 0, "p");
        writer.fork(child);
        dispatch();
    }

    private void exec(int pid, int ppid, String file, long v2, long v1) {
        writer.reset();
        writer.header(EventLayout.SRC_BPF, 1, v2, v1, pid, ppid, 0, "x");
        writer.exec(file, List.of(file), 0);
        dispatch();
    }

    private void exit(int pid) {
        writer.reset();
        writer.header(EventLayout.SRC_BPF, 1, ctrV2, ctrV1, pid, 0, 0, "x");
        writer.exit(0);
        dispatch();
    }

    private void dispatch() {
        view.wrap(buf, 0);
        assertThat(view.check(writer.position())).isNull();
        dispatcher.dispatch(view, null);
    }

    private static long ino(Path p) throws Exception {
        return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
    }
}
