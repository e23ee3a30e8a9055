package io.driftwatch.learn;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.ProcessLineage;
import io.driftwatch.profile.Clock;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.Entry;
import io.driftwatch.profile.Mode;
import io.driftwatch.profile.Profile;
import io.driftwatch.profile.ProfileStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class BaselineLearnerTest {
    static final long T0 = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    static final long MIN = 60_000;

    @TempDir Path dir;
    final long[] now = {T0};
    final Clock clock = () -> now[0];
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final TestEvents ev = new TestEvents();
    ProfileStore store;
    BaselineLearner learner;
    ContainerState c;
    boolean trusted = true;
    String parentExe = "/usr/bin/tini";

    final ProcessLineage lineage = new ProcessLineage() {
        @Override public boolean isInitDescendant(ContainerState container, int tgid, int ppid) { return trusted; }
        @Override public String exe(int tgid) { return null; }
        @Override public String parentExe(int tgid) { return parentExe; }
    };

    @BeforeEach
    void setUp() throws Exception {
        learner = newLearner(true);
        c = TestEvents.container(42, TestEvents.k8s("c1", "shop", "web", "web-7d4b9c-x2x", "nginx",
                "registry.local/shop/nginx:1.25", "sha256:aaa"), T0);
    }

    BaselineLearner newLearner(boolean autoPromote) throws Exception {
        store = new ProfileStore(dir, "workload", registry, clock);
        store.load();
        LearningSettings s = new LearningSettings(10 * MIN, 5 * MIN, 24 * 60 * MIN, 20, 30_000, autoPromote, false, 16);
        return new BaselineLearner(store, GeneralisationRules.defaults(), s, lineage, clock, registry);
    }

    Profile profile() {
        return store.profile("shop/web/nginx");
    }

    void steady(int n) {
        for (int i = 0; i < n; i++) learner.observe(ev.open("/etc/nginx/nginx.conf", false), c);
    }

    double gauge(String name, String... tags) {
        return registry.get(name).tags(tags).gauge().value();
    }

    @Test
    void observe_knownValue_countsWithoutNewEntry() {
        steady(5);
        Entry e = profile().dim(Dimension.FILE_READ).entry("/etc/nginx/nginx.conf");
        assertThat(e.count()).isEqualTo(5);
        assertThat(profile().dim(Dimension.FILE_READ).size()).isEqualTo(1);
        assertThat(e.image()).isEqualTo("sha256:aaa");
        assertThat(profile().observations()).isEqualTo(5);
    }

    @Test
    void tick_convergesAfterMinDurationAndQuietWindow_thenPromotes() {
        learner.observe(ev.exec("/usr/sbin/nginx"), c);
        steady(30);
        for (int m = 1; m <= 9; m++) {
            now[0] = T0 + m * MIN;
            learner.tick();
            assertThat(profile().state()).isEqualTo("learning");
        }
        assertThat(gauge("driftwatch.profile.confidence", "workload", "web", "dimension", "exec")).isBetween(0.5, 0.99);
        now[0] = T0 + 10 * MIN;
        learner.tick();
        assertThat(profile().mode()).isEqualTo(Mode.MONITOR);
        assertThat(profile().convergedMs()).isEqualTo(T0 + 10 * MIN);
        assertThat(gauge("driftwatch.profile.confidence", "workload", "web", "dimension", "file_read")).isEqualTo(1.0);
        assertThat(gauge("driftwatch.profiles", "state", "monitor")).isEqualTo(1.0);
        assertThat(gauge("driftwatch.profiles", "state", "learning")).isEqualTo(0.0);
        // a monitored profile learns nothing more
        learner.observe(ev.open("/etc/shadow", false), c);
        assertThat(profile().dim(Dimension.FILE_READ).entry("/etc/shadow")).isNull();
    }

    @Test
    void tick_newBehaviourRestartsTheQuietWindow() {
        steady(30);
        now[0] = T0 + 9 * MIN;
        learner.observe(ev.open("/etc/nginx/mime.types", false), c);
        now[0] = T0 + 12 * MIN;
        learner.tick();
        assertThat(profile().state()).isEqualTo("learning");
        now[0] = T0 + 14 * MIN;
        learner.tick();
        assertThat(profile().state()).isEqualTo("monitor");
    }

    @Test
    void tick_notEnoughObservations_doesNotConverge() {
        steady(3);
        now[0] = T0 + 60 * MIN;
        learner.tick();
        assertThat(profile().state()).isEqualTo("learning");
        assertThat(gauge("driftwatch.profile.confidence", "workload", "web", "dimension", "file_read")).isEqualTo(3 / 20.0);
    }

    @Test
    void tick_maxDurationWithoutConvergence_isUnconvergedAndStopsLearning() {
        steady(30);
        for (int m = 4; m <= 24 * 60; m += 4) {
            now[0] = T0 + m * MIN;
            learner.observe(ev.open("/srv/f" + Integer.toString(m, 36) + ".txt", false), c); // something new every 4 min
            learner.tick();
        }
        assertThat(profile().state()).isEqualTo("unconverged");
        assertThat(profile().mode()).isEqualTo(Mode.LEARNING);
        assertThat(gauge("driftwatch.profiles", "state", "unconverged")).isEqualTo(1.0);
        assertThat(profile().dim(Dimension.FILE_READ).unconvergedMs()).isNotZero();
        assertThat(profile().dim(Dimension.EXEC).unconvergedMs()).isZero(); // exec was stable
        int size = profile().dim(Dimension.FILE_READ).size();
        learner.observe(ev.open("/srv/after-max", false), c);
        assertThat(profile().dim(Dimension.FILE_READ).size()).isEqualTo(size);
        assertThat(profile().compiled().alerts(Dimension.FILE_READ)).isFalse();
    }

    @Test
    void tick_autoPromoteOff_staysLearningAsConverged() throws Exception {
        learner = newLearner(false);
        steady(30);
        now[0] = T0 + 10 * MIN;
        learner.tick();
        assertThat(profile().state()).isEqualTo("converged");
        assertThat(profile().mode()).isEqualTo(Mode.LEARNING);
        learner.observe(ev.open("/etc/nginx/extra.conf", false), c);
        now[0] += MIN;
        learner.tick();
        assertThat(profile().state()).isEqualTo("learning");
    }

    @Test
    void observe_startupWindow_tagsStartupOnlyUntilSeenInSteadyState() {
        now[0] = T0 + 10_000;
        learner.observe(ev.exec("/docker-entrypoint.sh"), c);
        learner.observe(ev.open("/etc/nginx/nginx.conf", false), c);
        now[0] = T0 + 60_000;
        learner.observe(ev.open("/etc/nginx/nginx.conf", false), c);
        assertThat(profile().dim(Dimension.EXEC).entry("/docker-entrypoint.sh").startupOnly()).isTrue();
        assertThat(profile().dim(Dimension.FILE_READ).entry("/etc/nginx/nginx.conf").startupOnly()).isFalse();
    }

    @Test
    void observe_execSessionsAreNotLearned() {
        trusted = false;
        learner.observe(ev.exec("/bin/sh"), c);
        assertThat(profile().dim(Dimension.EXEC).size()).isZero();
        assertThat(registry.get("driftwatch.learning.ignored").tag("reason", "exec_session").counter().count()).isEqualTo(1);
    }

    @Test
    void observe_failedSyscallsAreNotLearned_butInProgressConnectIs() {
        learner.observe(ev.open("/etc/missing", 0, -2), c);
        learner.observe(ev.exec("/bin/nope", -2), c);
        learner.observe(ev.net(OP_CONNECT, PROTO_TCP, "10.1.0.7", 40000, "10.2.0.5", 5432, -111), c);
        learner.observe(ev.net(OP_CONNECT, PROTO_TCP, "10.1.0.7", 40001, "10.2.0.5", 6379, -115), c);
        assertThat(profile().dim(Dimension.FILE_READ).size()).isZero();
        assertThat(profile().dim(Dimension.EXEC).size()).isZero();
        assertThat(profile().dim(Dimension.CONNECT).entry("tcp:10.2.0.5:6379")).isNotNull();
        assertThat(profile().dim(Dimension.CONNECT).size()).isEqualTo(1);
        assertThat(registry.get("driftwatch.learning.ignored").tag("reason", "failed_syscall").counter().count()).isEqualTo(3);
    }

    @Test
    void observe_ports_listenBindUdpAcceptAndPeers_neverEphemeralPorts() {
        learner.observe(ev.listen(80), c);
        learner.observe(ev.net(OP_BIND, PROTO_UDP, "0.0.0.0", 5353, "0.0.0.0", 0, 0), c);
        learner.observe(ev.net(OP_BIND, PROTO_TCP, "0.0.0.0", 8080, "0.0.0.0", 0, 0), c); // TCP bind: listen tells
        learner.observe(ev.net(OP_BIND, PROTO_UDP, "0.0.0.0", 0, "0.0.0.0", 0, 0), c); // ephemeral bind
        learner.observe(ev.accept(80, 51234), c);
        learner.observe(ev.accept(80, 51777), c);
        learner.observe(ev.connect("10.96.0.10", 53), c);
        assertThat(values(Dimension.LISTEN)).containsExactly("tcp:80", "udp:5353");
        assertThat(values(Dimension.ACCEPT)).containsExactly("tcp:80");
        assertThat(profile().dim(Dimension.ACCEPT).entry("tcp:80").count()).isEqualTo(2);
        assertThat(values(Dimension.CONNECT)).containsExactly("tcp:10.96.0.10:53");
    }

    @Test
    void observe_execRecordsParents() {
        learner.observe(ev.exec("/usr/sbin/nginx"), c);
        parentExe = "/docker-entrypoint.sh";
        learner.observe(ev.exec("/usr/sbin/nginx"), c);
        assertThat(profile().dim(Dimension.EXEC).entry("/usr/sbin/nginx").parents())
                .containsExactly("/docker-entrypoint.sh", "/usr/bin/tini");
    }

    @Test
    void observe_duringOpenDeviation_marksNewEntriesSuspect() {
        steady(2);
        store.openDeviation(c, "exec /bin/sh not in profile");
        learner.observe(ev.open("/tmp/payload", true), c);
        learner.observe(ev.open("/etc/nginx/nginx.conf", false), c);
        store.closeDeviation(c);
        learner.observe(ev.open("/var/log/nginx/access.log", true), c);
        assertThat(profile().dim(Dimension.FILE_WRITE).entry("/tmp/payload").suspect()).isEqualTo("exec /bin/sh not in profile");
        assertThat(profile().dim(Dimension.FILE_READ).entry("/etc/nginx/nginx.conf").suspect()).isNull();
        assertThat(profile().dim(Dimension.FILE_WRITE).entry("/var/log/nginx/access.log").suspect()).isNull();
        assertThat(store.proposals("shop/web/nginx")).anySatisfy(m -> assertThat(m).containsEntry("value", "/tmp/payload"));
    }

    @Test
    void observe_directoryFanout_collapsesToStarWithEvidence() {
        for (int i = 0; i < 17; i++) learner.observe(ev.open("/srv/app/static/file" + (char) ('a' + i) + ".css", false), c);
        assertThat(values(Dimension.FILE_READ)).containsExactly("/srv/app/static/*");
        Entry e = profile().dim(Dimension.FILE_READ).entry("/srv/app/static/*");
        assertThat(e.count()).isEqualTo(17);
        assertThat(e.examples()).hasSize(3);
        assertThat(e.generalisedBy()).containsExactly("fanout");
        learner.observe(ev.open("/srv/app/static/other.js", false), c);
        assertThat(values(Dimension.FILE_READ)).containsExactly("/srv/app/static/*");
        assertThat(e.count()).isEqualTo(18);
    }

    @Test
    void observe_hashBucketDirectories_collapseBothLevels() {
        for (int i = 1; i <= 17 * 7; i += 7) {
            learner.observe(ev.open(String.format("/var/cache/nginx/proxy_temp/%d/%02d/%010d", i % 10, (i / 10) % 100, i), true), c);
        }
        assertThat(values(Dimension.FILE_WRITE)).containsExactly("/var/cache/nginx/proxy_temp/*/*/[num]");
        Entry e = profile().dim(Dimension.FILE_WRITE).entry("/var/cache/nginx/proxy_temp/*/*/[num]");
        assertThat(e.generalisedBy()).containsExactly("counter", "fanout");
        assertThat(e.count()).isEqualTo(17);
    }

    @Test
    void observe_rulesGeneraliseAndFoldRepeats() {
        learner.observe(ev.open("/var/lib/nginx/body/0000000012", true), c);
        learner.observe(ev.open("/var/lib/nginx/body/0000000013", true), c);
        Entry e = profile().dim(Dimension.FILE_WRITE).entry("/var/lib/nginx/body/[num]");
        assertThat(e.count()).isEqualTo(2);
        assertThat(e.examples()).containsExactly("/var/lib/nginx/body/0000000012", "/var/lib/nginx/body/0000000013");
        assertThat(e.generalisedBy()).containsExactly("counter");
    }

    @Test
    void tombstone_isNeverRelearned_exactOrPattern() {
        learner.observe(ev.open("/tmp/x", true), c);
        store.tombstone("shop/web/nginx", Dimension.FILE_WRITE, "/tmp/x", "alice", "not normal");
        store.tombstone("shop/web/nginx", Dimension.FILE_WRITE, "/etc/**", "alice", "never write /etc");
        learner.observe(ev.open("/tmp/x", true), c);
        learner.observe(ev.open("/etc/cron.d/evil", true), c);
        learner.observe(ev.open("/etc/cron.d/evil", true), c);
        assertThat(profile().dim(Dimension.FILE_WRITE).size()).isZero();
        assertThat(registry.get("driftwatch.learning.ignored").tag("reason", "tombstoned").counter().count()).isEqualTo(3);
    }

    @Test
    void undoGeneralisation_learnsExactValuesAfterwards() {
        learner.observe(ev.open("/var/lib/nginx/body/0000000012", true), c);
        store.undoGeneralisation("shop/web/nginx", Dimension.FILE_WRITE, "/var/lib/nginx/body/[num]", "alice");
        learner.observe(ev.open("/var/lib/nginx/body/0000000099", true), c);
        assertThat(values(Dimension.FILE_WRITE)).containsExactly("/var/lib/nginx/body/0000000012",
                "/var/lib/nginx/body/0000000099");
    }

    @Test
    void relearn_inMonitorMode_learnsOnlyThatDimensionUntilItConverges() {
        steady(30);
        now[0] = T0 + 10 * MIN;
        learner.tick();
        assertThat(profile().mode()).isEqualTo(Mode.MONITOR);
        store.relearn("shop/web/nginx", Dimension.FILE_WRITE, "bob");
        assertThat(profile().compiled().alerts(Dimension.FILE_WRITE)).isFalse();
        assertThat(profile().compiled().alerts(Dimension.FILE_READ)).isTrue();
        learner.observe(ev.open("/var/log/nginx/access.log", true), c);
        learner.observe(ev.open("/etc/other", false), c); // read dimension is monitored: not learned
        assertThat(values(Dimension.FILE_WRITE)).containsExactly("/var/log/nginx/access.log");
        assertThat(profile().dim(Dimension.FILE_READ).entry("/etc/other")).isNull();
        for (int i = 0; i < 20; i++) learner.observe(ev.open("/var/log/nginx/access.log", true), c);
        now[0] = T0 + 21 * MIN;
        learner.tick();
        assertThat(profile().dim(Dimension.FILE_WRITE).relearning()).isFalse();
        assertThat(profile().compiled().alerts(Dimension.FILE_WRITE)).isTrue();
    }

    @Test
    void observe_knownPath_allocatesNothing() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        var open = ev.open("/etc/nginx/nginx.conf", false);
        for (int i = 0; i < 200_000; i++) learner.observe(open, c); // warm up (JIT, caches)
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) learner.observe(open, c);
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        // one object per event would be >= 1.6 MB here; stray JIT-time allocations stay far below
        assertThat(allocated).as("bytes allocated by 100k known observations").isLessThan(16 * 1024);
    }

    private java.util.List<String> values(Dimension d) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (Entry e : profile().dim(d).entries()) out.add(e.value());
        return out;
    }
}
