package io.driftwatch.sensor;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The network guard in the real kernel with a runc container (private network namespace, only
 * lo): default deny of connect and bind inside the container with EPERM, allowed peers and ports
 * still work, the host is untouched, every denial is counted and reported, and release detaches.
 */
@Privileged(tools = {"runc", "bpftool"})
final class NetGuardTest {
    private static KernelSources kernel;
    private static KernelEnforcer enf;

    @BeforeAll
    static void start() {
        NativeBuild.ensureBridge();
        kernel = KernelSources.open(BridgeConfig.defaults().withSources(true, false), new SimpleMeterRegistry());
        enf = kernel.enforcer();
        assertThat(enf).as("enforcer: %s", kernel.enforcerUnavailableReason()).isNotNull();
        assertThat(enf.bpfEnforcementUnavailable()).isNull();
    }

    @AfterAll
    static void stop() {
        if (kernel != null) kernel.close();
    }

    /** A persistent busybox listener in the container that answers "hello-PORT". */
    private static void listen(RuncContainer c, int port) {
        Procs.run(10_000, List.of("runc", "exec", "-d", c.id(), "nc", "-ll", "-p", String.valueOf(port), "-e", "echo",
                "hello-" + port)).orThrow();
    }

    private static Procs.Result connect(RuncContainer c, String addr, int port) {
        return c.exec(10_000, "sh", "-c", "nc -w 2 " + addr + " " + port + " </dev/null");
    }

    private static Procs.Result bindAndList(RuncContainer c, int port) {
        return c.exec(10_000, "sh", "-c", "nc -l -p " + port + " 2>&1 & sleep 0.3; netstat -ltn; kill $! 2>/dev/null; true");
    }

    private static String attachedPrograms(Path dir) {
        return Procs.run(10_000, List.of("bpftool", "cgroup", "show", dir.toString())).stdout();
    }

    @Test
    void connect_and_bind_are_denied_unless_allowed_and_release_detaches() throws Exception {
        try (ServerSocket host = new ServerSocket()) {
            host.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int hostPort = host.getLocalPort();
            long[] cg = {-1};
            try (Collector col = new Collector(kernel.bpf(), v -> v.cgroupId() == cg[0]);
                    RuncContainer c = RuncContainer.builder("dwx-net-" + ProcessHandle.current().pid()).start()) {
                cg[0] = c.cgroupId();
                listen(c, 7001);
                listen(c, 7002);
                assertThat(connect(c, "127.0.0.1", 7002).stdout()).contains("hello-7002"); // before the guard

                NetGuard g = enf.guardNetwork(c.cgroupV2Dir(), true);
                assertThat(attachedPrograms(c.cgroupV2Dir())).contains("connect4", "connect6", "bind4", "bind6", "sendmsg4",
                        "sendmsg6");
                g.allowBind(7001, PROTO_TCP);
                g.allowBind(7004, PROTO_TCP);

                // loopback to a port the container may listen on: allowed (allow_loopback)
                assertThat(connect(c, "127.0.0.1", 7001).stdout()).contains("hello-7001");
                // loopback to a listener it may not have (bound before the guard): EPERM
                Procs.Result denied = connect(c, "127.0.0.1", 7002);
                assertThat(denied.exitCode()).isNotZero();
                assertThat(denied.stderr()).contains("Operation not permitted");
                assertThat(denied.stdout()).doesNotContain("hello");
                // IPv6 goes through connect6
                assertThat(connect(c, "::1", 7002).stderr()).contains("Operation not permitted");
                // a peer that nobody allowed: EPERM, not "connection refused" or "unreachable"
                assertThat(connect(c, "127.0.0.1", hostPort).stderr()).contains("Operation not permitted");
                assertThat(connect(c, "10.200.0.1", 80).stderr()).contains("Operation not permitted");

                // bind: the allowed port binds, another fails with EPERM
                assertThat(bindAndList(c, 7004).stdout()).contains(":7004").doesNotContain("Operation not permitted");
                Procs.Result badBind = bindAndList(c, 7003);
                assertThat(badBind.stdout()).contains("Operation not permitted").doesNotContain(":7003 ");

                // the host connects to the same address and port as before: untouched
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), hostPort), 2000);
                    assertThat(s.isConnected()).isTrue();
                }

                // explicit allow-list entries: a /8 prefix for one port; then without loopback
                g.allowConnect(InetAddress.getByName("127.0.0.0"), 8, 7002, PROTO_TCP);
                assertThat(connect(c, "127.0.0.1", 7002).stdout()).contains("hello-7002");
                g.setMode(BridgeLayout.NET_ALL);
                assertThat(connect(c, "127.0.0.1", 7001).stderr()).contains("Operation not permitted");
                g.allowConnect(InetAddress.getByName("::1"), 128, 0, NetGuard.PROTO_ANY);
                assertThat(connect(c, "::1", 7001).stdout()).contains("hello-7001");

                NetGuard.Denials d = g.denied();
                assertThat(d.connect()).isGreaterThanOrEqualTo(5);
                assertThat(d.bind()).isGreaterThanOrEqualTo(1);
                Rec rec = col.await(r -> r.op() == OP_CONNECT && r.has(F_DENIED) && r.rport() == 7002
                        && "127.0.0.1".equals(r.raddr()), 10_000);
                assertThat(rec).as("denied connect record in %s", col.records()).isNotNull();
                assertThat(rec.ret()).isEqualTo(-1);
                assertThat(rec.proto()).isEqualTo(PROTO_TCP);
                assertThat(rec.family()).isEqualTo(2);
                assertThat(rec.cgroupId()).isEqualTo(cg[0]);
                assertThat(rec.comm()).isEqualTo("nc");
                Rec bindRec = col.await(r -> r.op() == OP_BIND && r.has(F_DENIED) && r.lport() == 7003, 10_000);
                assertThat(bindRec).as("denied bind record in %s", col.records()).isNotNull();
                assertThat(kernel.bpf().refreshStats().get(BridgeLayout.STAT_NET_DENIED)).isGreaterThanOrEqualTo(d.total());

                // a second guard on the same cgroup is refused
                assertThatThrownBy(() -> enf.guardNetwork(c.cgroupV2Dir(), true)).isInstanceOf(IOException.class)
                        .hasMessageContaining("EEXIST");

                g.close();
                assertThat(attachedPrograms(c.cgroupV2Dir())).doesNotContain("connect4").doesNotContain("bind4");
                assertThat(connect(c, "127.0.0.1", 7002).stdout()).contains("hello-7002");
                assertThat(bindAndList(c, 7003).stdout()).contains(":7003");
                assertThatThrownBy(() -> g.allowBind(1, PROTO_TCP)).isInstanceOf(IOException.class);
            }
        }
    }

    @Test
    void udp_sendto_without_connect_is_denied_by_sendmsg4() throws Exception {
        // busybox has no unconnected UDP sender: a host shell joins the container's cgroup (the
        // guard follows the cgroup, not the network namespace) and runs python's sendto
        try (RuncContainer c = RuncContainer.builder("dwx-udp-" + ProcessHandle.current().pid()).start();
                NetGuard g = enf.guardNetwork(c.cgroupV2Dir(), false)) {
            String py = "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                    + "def send(p):\n  try:\n    s.sendto(b'x',('127.0.0.1',p)); return 'sent'\n"
                    + "  except OSError as e: return e.strerror\nprint(send(9), send(53))\n";
            Path script = Files.createTempFile("dw-udp", ".py");
            Files.writeString(script, py);
            g.allowConnect(InetAddress.getByName("127.0.0.1"), 32, 53, PROTO_UDP);
            String join = "echo $$ > " + c.cgroupV2Dir().resolve("cgroup.procs") + " && exec python3 " + script;
            Procs.Result r = Procs.run(20_000, List.of("sh", "-c", join));
            Files.deleteIfExists(script);
            assertThat(r.stdout().strip()).as("%s", r).isEqualTo("Operation not permitted sent");
            assertThat(g.denied().sendmsg()).isEqualTo(1);
        }
    }

    @Test
    void enforcement_fails_open_when_the_agent_dies() throws Exception {
        try (RuncContainer c = RuncContainer.builder("dwx-death-" + ProcessHandle.current().pid()).start()) {
            listen(c, 7001);
            Path tool = NativeBuild.output().resolve("dwguard");
            Path busybox = c.rootfs().resolve("bin/busybox");
            Path drop = c.rootfs().resolve("tmp/drop/busybox");
            Files.createDirectories(drop.getParent());
            Files.copy(busybox, drop);
            drop.toFile().setExecutable(true, false);
            long dev = io.driftwatch.bridge.Bridge.kernelDev(((Number) Files.getAttribute(busybox, "unix:dev")).longValue());
            long ino = ((Number) Files.getAttribute(busybox, "unix:ino")).longValue();
            Process agent = new ProcessBuilder(tool.toString(), c.cgroupV2Dir().toString(), String.valueOf(c.cgroupId()),
                    String.valueOf(dev), String.valueOf(ino)).redirectErrorStream(true).start();
            try {
                java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(agent.getInputStream()));
                assertThat(out.readLine()).isEqualTo("guarded");
                assertThat(attachedPrograms(c.cgroupV2Dir())).contains("connect4");
                assertThat(connect(c, "127.0.0.1", 7001).stderr()).contains("Operation not permitted");
                assertThat(c.exec("/tmp/drop/busybox", "true").exitCode()).isEqualTo(137); // exec kill
            } finally {
                agent.destroyForcibly(); // SIGKILL: no clean-up code runs
                assertThat(agent.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            }
            // the kernel dropped the links with the process: nothing attached, nothing enforced
            long end = System.nanoTime() + 5_000_000_000L;
            while (attachedPrograms(c.cgroupV2Dir()).contains("connect4") && System.nanoTime() < end) Thread.sleep(20);
            assertThat(attachedPrograms(c.cgroupV2Dir())).doesNotContain("connect4").doesNotContain("bind");
            assertThat(connect(c, "127.0.0.1", 7001).stdout()).contains("hello-7001");
            assertThat(c.exec("/tmp/drop/busybox", "echo", "ran").orThrow().stdout()).isEqualTo("ran\n");
        }
    }

    @Test
    void guard_of_a_path_that_is_not_a_container_cgroup_is_refused() {
        assertThatThrownBy(() -> enf.guardNetwork(Path.of("/sys/fs/cgroup/unified"), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("root cgroup");
        assertThatThrownBy(() -> enf.guardNetwork(Path.of("/tmp"), true)).isInstanceOf(IOException.class)
                .hasMessageContaining("EINVAL");
    }
}
