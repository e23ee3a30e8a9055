package io.driftwatch.sensor;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftwatch.bridge.Bridge;
import io.driftwatch.bridge.BridgeConfig;
import io.driftwatch.bridge.BridgeStats;
import io.driftwatch.bridge.Collector;
import io.driftwatch.bridge.Collector.Rec;
import io.driftwatch.bridge.NativeBuild;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.Procs;
import io.driftwatch.testsupport.RuncContainer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * fanotify in the real kernel with a real runc container: a watch on the container's root mount
 * sees the container's opens and execs (and none of the host's, even of the same file), and a
 * deny decision blocks one exec inside the container while everything else runs, and while the
 * host executes the very same file.
 */
@Privileged(tools = {"runc"})
final class FanotifySourceTest {
    private static final String SCRIPT = "#!/bin/sh\necho ran-denyme\n";

    @BeforeAll
    static void build() {
        NativeBuild.ensureBridge();
    }

    private static KernelSources fanotifyOnly() {
        KernelSources k = KernelSources.open(BridgeConfig.defaults().withSources(false, true), new SimpleMeterRegistry());
        assertThat(k.fanotify()).as("%s", k.statuses()).isNotNull();
        return k;
    }

    @Test
    void deny_blocks_one_exec_in_the_container_only() throws Exception {
        KernelSources k = fanotifyOnly();
        FanotifySource fan = k.fanotify();
        try (RuncContainer c = RuncContainer.builder("dwb-fan-deny-" + ProcessHandle.current().pid())
                .file("/bin/denyme", SCRIPT).file("/bin/allowed", SCRIPT).start();
                Collector col = new Collector(fan, v -> true)) {
            long cg = c.cgroupId();
            int watch = fan.watch(c.pid(), cg, 0, true, true);
            Path denyme = c.rootfs().resolve("bin/denyme");
            long dev = Bridge.kernelDev(((Number) Files.getAttribute(denyme, "unix:dev")).longValue());
            long ino = ((Number) Files.getAttribute(denyme, "unix:ino")).longValue();

            assertThat(c.exec("/bin/denyme").stdout()).isEqualTo("ran-denyme\n"); // allowed before the decision
            fan.deny(watch, dev, ino, true);

            Procs.Result denied = c.exec("/bin/denyme");
            assertThat(denied.exitCode()).as("exec of a denied file").isNotZero();
            assertThat(denied.stdout()).doesNotContain("ran-denyme");
            // everything else still runs, including reading the denied file (exec-only decision)
            assertThat(c.exec("/bin/allowed").orThrow().stdout()).isEqualTo("ran-denyme\n");
            assertThat(c.exec("cat", "/bin/denyme").orThrow().stdout()).isEqualTo(SCRIPT);
            assertThat(c.exec("cat", "/etc/hostname").orThrow().stdout()).isEqualTo("ctr\n");

            // the host executes the very same file (same inode, through the host's mount): unaffected, unseen
            Process host = new ProcessBuilder(denyme.toString()).redirectErrorStream(true).start();
            String out = new String(host.getInputStream().readAllBytes());
            assertThat(host.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(host.exitValue()).isZero();
            assertThat(out).isEqualTo("ran-denyme\n");
            Process hostCat = new ProcessBuilder("cat", c.rootfs().resolve("etc/hostname").toString()).start();
            hostCat.getInputStream().readAllBytes();
            hostCat.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);

            Rec deniedRec = col.await(r -> r.has(F_DENIED), 10_000);
            assertThat(deniedRec).as("denied record in %s", col.records()).isNotNull();
            assertThat(deniedRec.source()).isEqualTo(SRC_FANOTIFY);
            assertThat(deniedRec.has(F_PERM)).isTrue();
            assertThat(deniedRec.path()).isEqualTo("/bin/denyme");
            assertThat(deniedRec.access() & ACC_EXEC).isEqualTo(ACC_EXEC);
            assertThat(deniedRec.cgroupId()).isEqualTo(cg);
            assertThat(deniedRec.ino()).isEqualTo(ino);
            assertThat(deniedRec.dev()).isEqualTo(dev);
            assertThat(deniedRec.ret()).isEqualTo(-1);

            // notify: the container's allowed opens arrive too, attributed to the watch's cgroup
            Rec hostname = col.await(r -> "/etc/hostname".equals(r.path()) && !r.has(F_DENIED), 10_000);
            assertThat(hostname).as("open of /etc/hostname in %s", col.records()).isNotNull();
            assertThat(hostname.cgroupId()).isEqualTo(cg);
            assertThat(hostname.comm()).isEqualTo("cat");
            // and nothing of the host's
            Thread.sleep(200);
            for (Rec r : col.records()) {
                assertThat(r.tgid()).as("host process seen: %s", r).isNotIn((int) host.pid(), (int) hostCat.pid());
            }

            // the decision can be lifted
            fan.allowAll(watch);
            assertThat(c.exec("/bin/denyme").orThrow().stdout()).isEqualTo("ran-denyme\n");
            BridgeStats s = k.bpf() == null ? null : k.bpf().refreshStats();
            assertThat(s).isNull();
            fan.unwatch(watch);
            assertThatThrownBy(() -> fan.deny(watch, dev, ino, true)).isInstanceOf(IOException.class);
        } finally {
            k.close();
        }
    }

    @Test
    void watch_of_a_vanished_process_is_a_clear_error() {
        KernelSources k = fanotifyOnly();
        try {
            assertThatThrownBy(() -> k.fanotify().watch(Integer.MAX_VALUE - 7, 1, 0, true, false))
                    .isInstanceOf(IOException.class).hasMessageContaining("ENOENT");
            assertThatThrownBy(() -> k.fanotify().watch(1, 1, 0, false, false)).isInstanceOf(IOException.class)
                    .hasMessageContaining("EINVAL");
        } finally {
            k.close();
        }
    }

    @Test
    void notify_watch_cannot_deny() throws Exception {
        KernelSources k = fanotifyOnly();
        try (RuncContainer c = RuncContainer.builder("dwb-fan-notify-" + ProcessHandle.current().pid()).start()) {
            int w = k.fanotify().watch(c.pid(), c.cgroupId(), 0, false, true);
            assertThatThrownBy(() -> k.fanotify().deny(w, 1, 2, true)).isInstanceOf(IOException.class)
                    .hasMessageContaining("EOPNOTSUPP");
            assertThat(Procs.run(10_000, List.of("runc", "exec", c.id(), "true")).exitCode()).isZero();
        } finally {
            k.close();
        }
    }
}
