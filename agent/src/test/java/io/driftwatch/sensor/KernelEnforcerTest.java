package io.driftwatch.sensor;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftwatch.bridge.Bridge;
import io.driftwatch.bridge.BridgeConfig;
import io.driftwatch.bridge.BridgeLayout;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The exec prevention primitives in the real kernel with runc containers: the fanotify exec
 * allow-list refuses an exec of a dropped binary with EPERM (shell exit 126) while the learned
 * executables run and the host runs the same file; exec kill answers an unexpected exec with
 * SIGKILL (exit 137) while allowed execs run.
 */
@Privileged(tools = {"runc"})
final class KernelEnforcerTest {
    private static final String SCRIPT = "#!/bin/sh\necho script-ran\n";
    private static KernelSources kernel;
    private static KernelEnforcer enf;

    @BeforeAll
    static void start() {
        NativeBuild.ensureBridge();
        kernel = KernelSources.open(BridgeConfig.defaults().withSources(true, true), new SimpleMeterRegistry());
        enf = kernel.enforcer();
        assertThat(enf).as("enforcer: %s", kernel.enforcerUnavailableReason()).isNotNull();
        assertThat(enf.bpfEnforcementUnavailable()).isNull();
        assertThat(enf.execAllowListUnavailable()).isNull();
    }

    @AfterAll
    static void stop() {
        if (kernel != null) kernel.close();
    }

    private static long dev(Path p) throws IOException {
        return Bridge.kernelDev(((Number) Files.getAttribute(p, "unix:dev")).longValue());
    }

    private static long ino(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
    }

    /** A copy of a host file into the rootfs: a new inode with the same content. */
    private static Path copyIn(RuncContainer c, String host, String inContainer) throws IOException {
        Path dst = c.rootfs().resolve(inContainer.substring(1));
        Files.createDirectories(dst.getParent());
        Files.copy(Path.of(host), dst);
        dst.toFile().setExecutable(true, false);
        return dst;
    }

    @Test
    void exec_allow_list_denies_a_dropped_binary_and_lets_the_profile_run() throws Exception {
        try (RuncContainer c = RuncContainer.builder("dwx-allow-" + ProcessHandle.current().pid())
                .file("/bin/app.sh", SCRIPT).file("/bin/new.sh", SCRIPT).start();
                Collector col = new Collector(kernel.fanotify(), v -> v.hasFlag(F_DENIED))) {
            long cg = c.cgroupId();
            Path busybox = c.rootfs().resolve("bin/busybox");
            Path app = c.rootfs().resolve("bin/app.sh");
            Path evil = copyIn(c, RuncContainer.BUSYBOX, "/tmp/drop/busybox");
            assertThat(ino(evil)).isNotEqualTo(ino(busybox));
            assertThat(c.exec("/tmp/drop/busybox", "echo", "before").orThrow().stdout()).isEqualTo("before\n");

            int watch = enf.execAllowList(c.pid(), cg, 0);
            enf.allowExec(watch, dev(busybox), ino(busybox));
            enf.allowExec(watch, dev(app), ino(app));

            // the learned executables run: busybox applets, the script and its interpreter
            assertThat(c.exec("cat", "/etc/hostname").orThrow().stdout()).isEqualTo("ctr\n");
            assertThat(c.exec("/bin/app.sh").orThrow().stdout()).isEqualTo("script-ran\n");
            // the dropped binary is refused with EPERM: the shell's 126
            Procs.Result r = c.exec("sh", "-c", "/tmp/drop/busybox echo ran; echo rc=$?");
            assertThat(r.stdout()).doesNotContain("ran\n").contains("rc=126");
            assertThat(r.stderr()).contains("Operation not permitted");
            // so is a new script, although its interpreter is allowed
            assertThat(c.exec("sh", "-c", "/bin/new.sh; echo rc=$?").stdout()).contains("rc=126").doesNotContain("script-ran");
            // and a copy dropped on another mount of the container (/dev/shm, a tmpfs)
            Procs.Result shm = c.exec("sh", "-c", "cp /bin/busybox /dev/shm/busybox && chmod +x /dev/shm/busybox && /dev/shm/busybox echo ran; echo rc=$?");
            assertThat(shm.stdout()).contains("rc=126").doesNotContain("ran\n");
            // reading the dropped file is not an exec: allowed
            assertThat(c.exec("sh", "-c", "wc -c < /tmp/drop/busybox").orThrow().stdout().strip())
                    .isEqualTo(String.valueOf(Files.size(evil)));

            // the host executes the same path and inode
            Procs.Result host = Procs.run(10_000, List.of(evil.toString(), "echo", "host-ran"));
            assertThat(host.exitCode()).isZero();
            assertThat(host.stdout()).isEqualTo("host-ran\n");

            Rec rec = col.await(x -> "/tmp/drop/busybox".equals(x.path()), 10_000);
            assertThat(rec).as("denied record in %s", col.records()).isNotNull();
            assertThat(rec.has(F_PERM)).isTrue();
            assertThat(rec.access() & ACC_EXEC).isEqualTo(ACC_EXEC);
            assertThat(rec.ino()).isEqualTo(ino(evil));
            assertThat(rec.cgroupId()).isEqualTo(cg);
            assertThat(col.await(x -> "/bin/new.sh".equals(x.path()), 5_000)).isNotNull();
            assertThat(kernel.bpf().refreshStats().get(BridgeLayout.STAT_FAN_NOT_ALLOWED)).isGreaterThanOrEqualTo(3);

            // allowing it at run time, then switching the allow-list off
            enf.allowExec(watch, dev(evil), ino(evil));
            assertThat(c.exec("/tmp/drop/busybox", "echo", "now").orThrow().stdout()).isEqualTo("now\n");
            assertThat(enf.disallowExec(watch, dev(evil), ino(evil))).isTrue();
            assertThat(c.exec("/tmp/drop/busybox", "echo", "again").exitCode()).isNotZero();
            enf.execAllowListMode(watch, false, false);
            assertThat(c.exec("/tmp/drop/busybox", "echo", "off").orThrow().stdout()).isEqualTo("off\n");
            enf.releaseExecAllowList(watch);
        }
    }

    @Test
    void exec_allow_list_sees_ld_so_but_not_shared_libraries() throws Exception {
        try (RuncContainer c = RuncContainer.builder("dwx-ldso-" + ProcessHandle.current().pid()).start()) {
            Path busybox = c.rootfs().resolve("bin/busybox");
            Path dyn = copyIn(c, "/usr/bin/true", "/bin/dyntrue");
            Path ldso = copyIn(c, "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2");
            copyIn(c, "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6");
            assertThat(c.exec("/bin/dyntrue").exitCode()).isZero();

            int watch = enf.execAllowList(c.pid(), c.cgroupId(), 0);
            enf.allowExec(watch, dev(busybox), ino(busybox));
            enf.allowExec(watch, dev(dyn), ino(dyn));
            // the executable is allowed, its ELF interpreter is not: execve opens ld.so for exec
            assertThat(c.exec("sh", "-c", "/bin/dyntrue; echo rc=$?").stdout()).contains("rc=126");
            // ld.so allowed, libc never: libraries are mmapped by ld.so, no exec-open event
            enf.allowExec(watch, dev(ldso), ino(ldso));
            assertThat(c.exec("sh", "-c", "/bin/dyntrue; echo rc=$?").stdout()).contains("rc=0");
            enf.releaseExecAllowList(watch);
        }
    }

    @Test
    void exec_kill_kills_an_unexpected_exec_and_lets_allowed_ones_run() throws Exception {
        String id = "dwx-kill-" + ProcessHandle.current().pid();
        long[] cg = {-1};
        try (Collector col = new Collector(kernel.bpf(), v -> v.op() == OP_EXEC && v.cgroupId() == cg[0]);
                RuncContainer c = RuncContainer.builder(id)
                        .command("sh", "-c", "while [ ! -e /tmp/go ]; do usleep 20000; done; exec /tmp/drop/busybox sleep 100")
                        .start()) {
            cg[0] = c.cgroupId();
            Path busybox = c.rootfs().resolve("bin/busybox");
            Path evil = copyIn(c, RuncContainer.BUSYBOX, "/tmp/drop/busybox");
            enf.allowExecInode(cg[0], dev(busybox), ino(busybox));
            enf.execKill(cg[0], true);
            assertThat(enf.execKilled(cg[0])).isZero();

            // allowed: busybox applets (runc exec itself works in an exec-kill container)
            assertThat(c.exec("cat", "/etc/hostname").orThrow().stdout()).isEqualTo("ctr\n");
            // not allowed: the process is killed, exit 137, before the new image runs
            Procs.Result r = c.exec("/tmp/drop/busybox", "echo", "ran");
            assertThat(r.exitCode()).isEqualTo(137);
            assertThat(r.stdout()).doesNotContain("ran");
            Procs.Result sh = c.exec("sh", "-c", "/tmp/drop/busybox echo ran; echo rc=$?");
            assertThat(sh.stdout()).contains("rc=137").doesNotContain("ran\n");

            Rec killed = col.await(x -> x.has(F_KILLED) && "/tmp/drop/busybox".equals(x.filename()), 10_000);
            assertThat(killed).as("killed exec record in %s", col.records()).isNotNull();
            assertThat(killed.ret()).isZero();
            Rec allowed = col.await(x -> "/bin/cat".equals(x.filename()), 5_000);
            assertThat(allowed).isNotNull();
            assertThat(allowed.has(F_KILLED)).isFalse();

            // the container's init runs the unexpected exec: the container dies within a second
            long t0 = System.nanoTime();
            Files.writeString(c.rootfs().resolve("tmp/go"), "");
            assertThat(c.awaitEmpty(2_000)).isTrue();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(ms).as("container gone after %d ms", ms).isLessThan(1_000);
            assertThat(enf.execKilled(cg[0])).isEqualTo(3);
            assertThat(kernel.bpf().refreshStats().get(BridgeLayout.STAT_EXEC_KILLED)).isGreaterThanOrEqualTo(3);

            // the host runs the same file: unaffected
            assertThat(Procs.run(10_000, List.of(evil.toString(), "echo", "host")).stdout()).isEqualTo("host\n");
            assertThat(enf.clearExecKill(cg[0])).isEqualTo(1);
            assertThat(enf.execKilled(cg[0])).isEqualTo(-1);
        }
    }

    @Test
    void host_and_own_cgroups_are_refused() {
        assertThatThrownBy(() -> enf.execKill(1, true)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> enf.execAllowList(1, 5, 0)).isInstanceOf(IllegalArgumentException.class);
        long self = KernelEnforcer.selfCgroupId();
        if (self > 1) assertThatThrownBy(() -> enf.execKill(self, true)).isInstanceOf(IllegalArgumentException.class);
    }
}
