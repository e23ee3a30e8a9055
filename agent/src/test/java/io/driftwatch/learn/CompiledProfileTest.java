package io.driftwatch.learn;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.EventView;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.profile.CompiledProfile;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.ProfileStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The detector's query API over events built with EventWriter (lives here to reuse TestEvents). */
final class CompiledProfileTest {
    static final String KEY = "db/pg/postgres";
    @TempDir Path dir;
    final TestEvents ev = new TestEvents();
    ProfileStore store;
    ContainerState c;

    @BeforeEach
    void setUp() throws Exception {
        store = new ProfileStore(dir, "workload", new SimpleMeterRegistry(), () -> 1_767_225_600_000L);
        store.load();
        c = TestEvents.container(9, TestEvents.k8s("p1", "db", "pg", "pg-0", "postgres", "postgres:15", "sha256:p"), 0);
        store.bind(c);
        for (String[] e : new String[][] {
            {"exec", "/usr/lib/postgresql/15/bin/postgres"},
            {"file_read", "/etc/postgresql/15/main/postgresql.conf"},
            {"file_read", "/proc/[pid]/stat"},
            {"file_write", "/var/lib/postgresql/15/main/pg_wal/[hex]"},
            {"file_write", "/var/lib/postgresql/15/main/base/**"},
            {"listen", "tcp:5432"},
            {"accept", "tcp:5432"},
            {"connect", "tcp:10.96.0.0/12:443"},
            {"connect", "udp:10.96.0.10:53"},
            {"connect", "tcp:[fd00::7]:9000"},
        }) {
            store.addEntry(KEY, Dimension.parse(e[0]), e[1], "test");
        }
    }

    CompiledProfile compiled() {
        return store.compiledFor(c);
    }

    @Test
    void matches_exactAndPatternPathsInPlace() {
        CompiledProfile p = compiled();
        assertThat(p.matches(Dimension.EXEC, ev.exec("/usr/lib/postgresql/15/bin/postgres"))).isTrue();
        assertThat(p.matches(Dimension.EXEC, ev.exec("/bin/sh"))).isFalse();
        assertThat(p.matches(Dimension.FILE_READ, ev.open("/proc/self/stat", false))).isTrue();
        assertThat(p.matches(Dimension.FILE_READ, ev.open("/proc/812/stat", false))).isTrue();
        assertThat(p.matches(Dimension.FILE_READ, ev.open("/proc/812/environ", false))).isFalse();
        assertThat(p.matches(Dimension.FILE_WRITE, ev.open("/var/lib/postgresql/15/main/pg_wal/00000001000000000000000B", true))).isTrue();
        assertThat(p.matches(Dimension.FILE_WRITE, ev.open("/var/lib/postgresql/15/main/base/16384/2619", true))).isTrue();
        assertThat(p.matches(Dimension.FILE_WRITE, ev.open("/etc/passwd", true))).isFalse();
        // a file the workload writes may be read; not the other way round
        assertThat(p.matches(Dimension.FILE_READ, ev.open("/var/lib/postgresql/15/main/base/16384/2619", false))).isTrue();
        assertThat(p.matches(Dimension.FILE_WRITE, ev.open("/etc/postgresql/15/main/postgresql.conf", true))).isFalse();
    }

    @Test
    void matches_portsAndPeers() {
        CompiledProfile p = compiled();
        assertThat(p.matches(Dimension.LISTEN, ev.listen(5432))).isTrue();
        assertThat(p.matches(Dimension.LISTEN, ev.listen(4444))).isFalse();
        assertThat(p.matches(Dimension.ACCEPT, ev.accept(5432, 61000))).isTrue();
        assertThat(p.matches(Dimension.CONNECT, ev.connect("10.100.3.4", 443))).isTrue(); // in 10.96.0.0/12
        assertThat(p.matches(Dimension.CONNECT, ev.connect("10.112.0.1", 443))).isFalse(); // outside
        assertThat(p.matches(Dimension.CONNECT, ev.connect("10.100.3.4", 80))).isFalse();
        assertThat(p.matches(Dimension.CONNECT, ev.net(OP_CONNECT, PROTO_UDP, "10.1.0.7", 40000, "10.96.0.10", 53, 0))).isTrue();
        byte[] v6 = new byte[16];
        v6[0] = (byte) 0xfd;
        v6[15] = 7;
        assertThat(p.matches(Dimension.CONNECT, ev.net6(OP_CONNECT, PROTO_TCP, v6, 9000))).isTrue();
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(TestEvents.v4("10.96.0.10"), 0, mapped, 12, 4);
        assertThat(p.matches(Dimension.CONNECT, ev.net6(OP_CONNECT, PROTO_UDP, mapped, 53))).isTrue(); // v4-mapped
    }

    @Test
    void matchesExecParent_usesRecordedParents() {
        store.profile(KEY).dim(Dimension.EXEC).entry("/usr/lib/postgresql/15/bin/postgres").addParent("/usr/local/bin/docker-entrypoint.sh", 8);
        store.profile(KEY).changed();
        CompiledProfile p = compiled();
        EventView e = ev.exec("/usr/lib/postgresql/15/bin/postgres");
        assertThat(p.matchesExecParent(e, "/usr/local/bin/docker-entrypoint.sh")).isTrue();
        assertThat(p.matchesExecParent(e, "/bin/bash")).isFalse();
    }

    @Test
    void modeFlags_learningNeverAlerts() {
        assertThat(compiled().alerts(Dimension.EXEC)).isFalse();
        store.setMode(KEY, io.driftwatch.profile.Mode.MONITOR, "alice");
        assertThat(compiled().alerts(Dimension.EXEC)).isTrue();
        assertThat(compiled().enforces(Dimension.EXEC)).isFalse();
    }

    @Test
    void matches_knownPathAllocatesNothing() {
        CompiledProfile p = compiled();
        EventView wal = ev.open("/var/lib/postgresql/15/main/pg_wal/000000010000000000000003", true);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        boolean all = true;
        for (int i = 0; i < 20_000; i++) all &= p.matches(Dimension.FILE_WRITE, wal);
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) all &= p.matches(Dimension.FILE_WRITE, wal);
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertThat(all).isTrue();
        assertThat(allocated).isLessThan(1024);
    }
}
