package io.driftwatch.sensor;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The eBPF source in the real kernel, with a real runc container: what processes inside the
 * container do arrives attributed to the container's cgroup, with the right paths, modes,
 * addresses and ports. One bridge for the class (loading the programs takes ~1 s).
 *
 * <p>This class runs the fast programs (syscall arguments read at sys_exit, which this kernel
 * supports); {@link BpfSourceContainerCompatTest} runs the same tests on the compat programs
 * (arguments saved at sys_enter), which older kernels get.
 */
@Privileged(tools = {"runc", "nsenter", "ip"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BpfSourceContainerTest {
    private KernelSources kernel;
    private BpfSource bpf;

    /** Loads the compat programs instead of the fast ones. */
    boolean compat() {
        return false;
    }

    private String id(String what) {
        return "dwb-" + what + (compat() ? "-c-" : "-") + ProcessHandle.current().pid();
    }

    @BeforeAll
    void start() {
        NativeBuild.ensureBridge();
        kernel = KernelSources.open(BridgeConfig.defaults().withSources(true, false).withSuppression(true)
                .withCompatArgs(compat()), new SimpleMeterRegistry());
        assertThat(kernel.bpf()).as("bpf source: %s", kernel.statuses()).isNotNull();
        bpf = kernel.bpf();
        // the kernel here (6.2+) supports both sets: the one asked for is the one loaded
        assertThat(bpf.status().detail())
                .contains(compat() ? "saved at sys_enter (compat: compat requested)" : "read at sys_exit (fast)");
    }

    @AfterAll
    void stop() {
        if (kernel != null) kernel.close();
    }

    /** Starts the container; its cgroup id is known only then, so the filter reads it from cgid[0]. */
    private static RuncContainer startWith(RuncContainer.Builder b, long[] cgid) throws java.io.IOException {
        RuncContainer c = b.start();
        cgid[0] = c.cgroupId();
        return c;
    }

    private static Predicate<io.driftwatch.bridge.EventView> inCgroup(long cg) {
        return v -> v.cgroupId() == cg;
    }

    @Test
    void exec_and_opens_inside_container_are_attributed_with_paths_and_modes() throws Exception {
        String id = id("files");
        // one poller per bridge: the container's records, and the runtime's re-execs (host cgroup)
        long[] cgid = {-1};
        try (Collector col = new Collector(bpf, v -> v.cgroupId() == cgid[0] || v.op() == OP_EXEC && v.hasFlag(F_RUNTIME));
                RuncContainer c = startWith(RuncContainer.builder(id).file("/etc/app.conf", "x=1\n"), cgid)) {
            long cg = c.cgroupId();
            assertThat(c.exec("cat", "/etc/app.conf").orThrow().stdout()).isEqualTo("x=1\n");
            assertThat(c.exec("sh", "-c", "echo hello > /tmp/out.txt").exitCode()).isZero();
            assertThat(c.exec("sh", "-c", "echo more >> /tmp/out.txt").exitCode()).isZero();
            assertThat(c.exec("sh", "-c", "cd /etc && cat ./hostname").exitCode()).isZero();
            assertThat(c.exec("sh", "-c", "cd /etc && cat ./missing-file").exitCode()).isNotZero();

            // busybox applet: the path as executed, not /bin/busybox
            Rec exec = col.await(r -> r.op() == OP_EXEC && "/bin/cat".equals(r.filename())
                    && r.argv().equals(List.of("cat", "/etc/app.conf")), 10_000);
            assertThat(exec).as("exec of /bin/cat in %s", col.records()).isNotNull();
            assertThat(exec.cgroupId()).isEqualTo(cg);
            assertThat(exec.comm()).isEqualTo("cat");
            assertThat(exec.has(F_RUNTIME)).isFalse();

            // read: absolute path, read access, dev+ino of the opened file
            Rec read = col.await(r -> r.op() == OP_OPEN && "/etc/app.conf".equals(r.path()) && r.tgid() == exec.tgid(), 10_000);
            assertThat(read).as("open of /etc/app.conf").isNotNull();
            assertThat(read.ret()).isGreaterThanOrEqualTo(0);
            assertThat(read.access() & (ACC_READ | ACC_WRITE)).isEqualTo(ACC_READ);
            Path host = c.rootfs().resolve("etc/app.conf");
            assertThat(read.ino()).isEqualTo(((Number) Files.getAttribute(host, "unix:ino")).longValue());
            assertThat(read.dev()).isEqualTo(Bridge.kernelDev(((Number) Files.getAttribute(host, "unix:dev")).longValue()));

            // write: create + truncate, then append
            Rec write = col.await(r -> r.op() == OP_OPEN && "/tmp/out.txt".equals(r.path())
                    && (r.access() & ACC_TRUNC) != 0, 10_000);
            assertThat(write).as("truncating open of /tmp/out.txt in %s", col.records()).isNotNull();
            assertThat(write.access() & (ACC_WRITE | ACC_CREATE | ACC_TRUNC)).isEqualTo(ACC_WRITE | ACC_CREATE | ACC_TRUNC);
            assertThat(write.cgroupId()).isEqualTo(cg);
            assertThat(col.await(r -> r.op() == OP_OPEN && "/tmp/out.txt".equals(r.path())
                    && (r.access() & ACC_APPEND) != 0, 10_000)).isNotNull();

            // relative paths: resolved against the cwd; success via the opened file, failure by joining
            assertThat(col.await(r -> r.op() == OP_OPEN && "/etc/hostname".equals(r.path()) && r.ret() >= 0, 10_000))
                    .as("./hostname from /etc").isNotNull();
            Rec missing = col.await(r -> r.op() == OP_OPEN && r.path() != null && r.path().endsWith("missing-file"), 10_000);
            assertThat(missing).isNotNull();
            assertThat(missing.path()).isEqualTo("/etc/./missing-file");
            assertThat(missing.ret()).isEqualTo(-2);
            assertThat(missing.ino()).isZero();

            // nothing the container did was reported without a path, silently
            for (Rec r : col.records()) {
                if (r.op() == OP_OPEN) {
                    assertThat(r.path().isEmpty()).as("empty path must be flagged: %s", r).isEqualTo(r.has(F_PATH_UNREADABLE));
                }
            }

            // the runtime's own re-exec (runc init: /proc/self/exe, then the memfd/fd copy) is flagged
            assertThat(col.await(r -> "/proc/self/exe".equals(r.filename()) && r.has(F_RUNTIME), 10_000)).isNotNull();
            for (Rec r : col.records()) {
                if (r.cgroupId() != cg) continue;
                if (r.op() == OP_EXEC && r.tgid() == c.pid()) {
                    // the container's own first exec (sleep) is not the runtime's
                    assertThat(r.has(F_RUNTIME)).as("%s", r).isEqualTo(r.comm().startsWith("runc:"));
                }
                if (r.comm().startsWith("runc:[")) assertThat(r.has(F_RUNTIME)).as("%s", r).isTrue();
            }
            assertThat(col.records().stream().anyMatch(r -> r.op() == OP_EXIT && r.exitCode() == 0 && "cat".equals(r.comm())))
                    .isTrue();
        }
    }

    @Test
    void connect_bind_listen_accept_inside_container() throws Exception {
        String id = id("net");
        try (RuncContainer c = RuncContainer.builder(id).start();
                Collector col = new Collector(bpf, inCgroup(c.cgroupId()))) {
            long cg = c.cgroupId();
            // loopback inside the container's own network namespace
            Procs.run(10_000, List.of("nsenter", "-t", String.valueOf(c.pid()), "-n", "ip", "link", "set", "lo", "up")).orThrow();
            Procs.Result srv = Procs.run(10_000, List.of("runc", "exec", "-d", c.id(), "nc", "-l", "-p", "18080"));
            assertThat(srv.exitCode()).as(srv.stderr()).isZero();
            Rec listen = col.await(r -> r.op() == OP_LISTEN && r.lport() == 18080, 10_000);
            assertThat(listen).as("listen on 18080 in %s", col.records()).isNotNull();
            assertThat(listen.cgroupId()).isEqualTo(cg);
            assertThat(listen.proto()).isEqualTo(PROTO_TCP);
            Rec bind = col.await(r -> r.op() == OP_BIND && r.lport() == 18080, 5_000);
            assertThat(bind).isNotNull();
            assertThat(bind.ret()).isZero();

            c.exec(10_000, "sh", "-c", "echo hi | timeout 3 nc 127.0.0.1 18080");
            Rec connect = col.await(r -> r.op() == OP_CONNECT && r.rport() == 18080, 10_000);
            assertThat(connect).as("connect in %s", col.records()).isNotNull();
            assertThat(connect.raddr()).isEqualTo("127.0.0.1");
            assertThat(connect.family()).isEqualTo(2);
            assertThat(connect.proto()).isEqualTo(PROTO_TCP);
            assertThat(connect.ret()).isIn(0, -115);
            assertThat(connect.cgroupId()).isEqualTo(cg);
            assertThat(connect.comm()).isEqualTo("nc");

            Rec accept = col.await(r -> r.op() == OP_ACCEPT && r.lport() == 18080, 10_000);
            assertThat(accept).as("accept in %s", col.records()).isNotNull();
            assertThat(accept.raddr()).isEqualTo("127.0.0.1"); // v4 or v4-mapped v6
            assertThat(accept.rport()).isEqualTo(connect.lport());
            assertThat(accept.ret()).isGreaterThanOrEqualTo(0);
            assertThat(accept.cgroupId()).isEqualTo(cg);
            assertThat(accept.tgid()).isEqualTo(listen.tgid());
            assertIpv4Bytes(connect); // its local address is read from the socket (nc listens on IPv6)
        }
    }

    /**
     * An IPv4 address fills the first 4 of a record's 16 address bytes and the rest is zero: the
     * suppression key covers all 16, so anything else there (the socket's hash and ports, once)
     * made every accept from one peer a new key.
     */
    private static void assertIpv4Bytes(Rec r) {
        assertThat(r.family()).as("%s", r).isEqualTo(2);
        assertThat(java.util.Arrays.copyOfRange(r.laddrBytes(), 4, 16)).as("laddr bytes 4-15 of %s", r).containsOnly((byte) 0);
        assertThat(java.util.Arrays.copyOfRange(r.raddrBytes(), 4, 16)).as("raddr bytes 4-15 of %s", r).containsOnly((byte) 0);
    }

    @Test
    void accepts_from_a_known_peer_stay_in_the_kernel() throws Exception {
        String id = id("suppacc");
        try (RuncContainer c = RuncContainer.builder(id).file("/www/index.html", "hi\n").start();
                Collector col = new Collector(bpf, inCgroup(c.cgroupId()))) {
            Procs.run(10_000, List.of("nsenter", "-t", String.valueOf(c.pid()), "-n", "ip", "link", "set", "lo", "up")).orThrow();
            // an IPv4 listener that accepts many connections
            assertThat(Procs.run(10_000, List.of("runc", "exec", "-d", c.id(), "httpd", "-f", "-p", "127.0.0.1:18081", "-h",
                    "/www")).exitCode()).isZero();
            assertThat(col.await(r -> r.op() == OP_LISTEN && r.lport() == 18081, 10_000)).isNotNull();
            Predicate<Rec> accept = r -> r.op() == OP_ACCEPT && r.lport() == 18081;
            Predicate<Rec> connect = r -> r.op() == OP_CONNECT && r.rport() == 18081;
            String fetch = "wget -q -O /dev/null http://127.0.0.1:18081/index.html";

            // one connection: its accept is reported; the agent would suppress it
            c.exec(10_000, "sh", "-c", fetch).orThrow();
            Rec first = col.await(accept, 10_000);
            assertThat(first).as("accept in %s", col.records()).isNotNull();
            assertIpv4Bytes(first);
            assertThat(bpf.suppress(record(first, w -> w.net(OP_ACCEPT, first.family(), first.proto(), first.ret(),
                    first.laddrBytes(), first.lport(), first.raddrBytes(), first.rport())))).isTrue();

            // more connections from the same peer (other source ports, other sockets): one key
            for (int i = 0; i < 3; i++) c.exec(10_000, "sh", "-c", fetch).orThrow();
            assertThat(col.awaitCount(connect, 4, 10_000)).as("connects in %s", col.records()).isEqualTo(4);
            Thread.sleep(300);
            assertThat(col.records().stream().filter(accept).count()).as("accepts reported").isEqualTo(1);
        }
    }

    @Test
    void suppressed_opens_stay_in_the_kernel_and_are_counted() throws Exception {
        String id = id("supp");
        try (RuncContainer c = RuncContainer.builder(id).file("/etc/known.conf", "k\n").file("/etc/other.conf", "o\n").start();
                Collector col = new Collector(bpf, inCgroup(c.cgroupId()))) {
            c.exec("cat", "/etc/known.conf").orThrow();
            Rec first = col.await(r -> r.op() == OP_OPEN && "/etc/known.conf".equals(r.path()), 10_000);
            assertThat(first).isNotNull();

            // suppress exactly that record, from its own fields
            long before = bpf.refreshStats().suppressed();
            assertThat(bpf.suppress(openRecord(first, first.ino()))).isTrue();

            c.exec("cat", "/etc/known.conf").orThrow();
            c.exec("cat", "/etc/other.conf").orThrow();
            assertThat(col.await(r -> r.op() == OP_OPEN && "/etc/other.conf".equals(r.path()), 10_000)).isNotNull();
            Thread.sleep(200);
            assertThat(col.records().stream().filter(r -> r.op() == OP_OPEN && "/etc/known.conf".equals(r.path())).count())
                    .as("second open of a suppressed file").isEqualTo(1);
            BridgeStats s = bpf.refreshStats();
            assertThat(s.suppressed()).isGreaterThan(before);

            // clearing the container's keys lets it through again
            assertThat(bpf.clearSuppression(c.cgroupId())).isEqualTo(1);
            c.exec("cat", "/etc/known.conf").orThrow();
            assertThat(col.awaitCount(r -> r.op() == OP_OPEN && "/etc/known.conf".equals(r.path()), 2, 10_000)).isEqualTo(2);
        }
    }

    /** A record with the header of {@code r} (cgroup, tgid, comm) and the body {@code body} writes. */
    private static io.driftwatch.bridge.EventView record(Rec r, java.util.function.Consumer<io.driftwatch.bridge.EventWriter> body) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(8192).order(java.nio.ByteOrder.nativeOrder());
        io.driftwatch.bridge.EventWriter w = new io.driftwatch.bridge.EventWriter(b);
        w.header(SRC_BPF, 0, r.cgroupId(), 0, r.tgid(), 0, 0, r.comm());
        body.accept(w);
        return new io.driftwatch.bridge.EventView().wrap(b, 0);
    }

    /** An open record like {@code r} (same cgroup, path, access, result and device) for inode {@code ino}. */
    private static io.driftwatch.bridge.EventView openRecord(Rec r, long ino) {
        return record(r, w -> w.open(r.path(), 0, r.access(), r.ret(), r.dev(), ino));
    }

    @Test
    void a_full_suppression_table_overwrites_keys_whose_records_then_come_again() throws Exception {
        String id = id("suppfull");
        // a source of its own with the smallest table: 256 keys (64 buckets of 4 ways)
        try (KernelSources small = KernelSources.open(BridgeConfig.defaults().withSources(true, false)
                .withSuppression(true).withCompatArgs(compat()).withSuppressEntries(1), new SimpleMeterRegistry());
                RuncContainer c = RuncContainer.builder(id).file("/etc/known.conf", "k\n").start();
                Collector col = new Collector(small.bpf(), inCgroup(c.cgroupId()))) {
            BpfSource sb = small.bpf();
            Predicate<Rec> known = r -> r.op() == OP_OPEN && "/etc/known.conf".equals(r.path());
            c.exec("cat", "/etc/known.conf").orThrow();
            Rec first = col.await(known, 10_000);
            assertThat(first).isNotNull();
            assertThat(sb.suppress(openRecord(first, first.ino()))).isTrue();
            c.exec("cat", "/etc/known.conf").orThrow();
            c.exec("cat", "/etc/known.conf").orThrow();
            Thread.sleep(200);
            assertThat(col.records().stream().filter(known).count()).as("suppressed while in the table").isEqualTo(1);

            // 16 times the table's size in other keys of the same cgroup: every bucket overflows
            for (int i = 1; i <= 4096; i++) assertThat(sb.suppress(openRecord(first, first.ino() + 1_000_000L * i))).isTrue();
            assertThat(sb.clearSuppression(-1L)).as("no key of another cgroup").isZero();
            c.exec("cat", "/etc/known.conf").orThrow();
            assertThat(col.awaitCount(known, 2, 10_000)).as("overwritten: reported again").isEqualTo(2);

            // added again, it holds again; the table never held more than its size
            assertThat(sb.suppress(openRecord(first, first.ino()))).isTrue();
            c.exec("cat", "/etc/known.conf").orThrow();
            Thread.sleep(200);
            assertThat(col.records().stream().filter(known).count()).isEqualTo(2);
            assertThat(sb.clearSuppression(c.cgroupId())).as("keys held: the table's size").isEqualTo(256);
        }
    }

    @Test
    void failed_exec_is_reported_with_the_name_that_was_run_and_its_error() throws Exception {
        String id = id("failexec");
        try (RuncContainer c = RuncContainer.builder(id).file("/etc/not-a-program", "data\n").start();
                Collector col = new Collector(bpf, inCgroup(c.cgroupId()))) {
            // a file without execute permission: execve fails with EACCES, the shell reports 126
            assertThat(c.exec("sh", "-c", "/etc/not-a-program").exitCode()).isEqualTo(126);
            Rec failed = col.await(r -> r.op() == OP_EXEC && "/etc/not-a-program".equals(r.filename()), 10_000);
            assertThat(failed).as("failed exec in %s", col.records()).isNotNull();
            assertThat(failed.ret()).isEqualTo(-13);
            assertThat(failed.cgroupId()).isEqualTo(c.cgroupId());
        }
    }

    @Test
    void host_filter_drops_a_cgroups_opens_and_connects_but_not_its_execs() throws Exception {
        String id = id("hostf");
        try (RuncContainer c = RuncContainer.builder(id).file("/etc/seen.conf", "s\n").start();
                Collector col = new Collector(bpf, inCgroup(c.cgroupId()))) {
            long cg = c.cgroupId();
            long before = bpf.refreshStats().hostDropped();
            bpf.addHostCgroup(cg); // the agent does this for cgroups it finds outside any container
            c.exec("cat", "/etc/seen.conf").orThrow();
            c.exec(10_000, "sh", "-c", "nc -w 1 127.0.0.1 18099 </dev/null; true");
            Rec exec = col.await(r -> r.op() == OP_EXEC && "/bin/cat".equals(r.filename()), 10_000);
            assertThat(exec).as("exec still reported in %s", col.records()).isNotNull();
            Thread.sleep(300);
            // (the runtime's set-up opens, flagged, came before the filter)
            assertThat(col.records()).as("no open or connect of a filtered cgroup")
                    .noneMatch(r -> (r.op() == OP_OPEN || r.op() == OP_CONNECT) && !r.has(F_RUNTIME));
            assertThat(bpf.refreshStats().hostDropped() - before).as("counted").isGreaterThanOrEqualTo(2);

            // removed from the filter: reported again
            assertThat(bpf.removeHostCgroup(cg)).isTrue();
            assertThat(bpf.removeHostCgroup(cg)).as("already gone").isFalse();
            c.exec("cat", "/etc/seen.conf").orThrow();
            assertThat(col.await(r -> r.op() == OP_OPEN && "/etc/seen.conf".equals(r.path()), 10_000)).isNotNull();
        }
    }

    @Test
    void host_filter_key_of_a_process_in_the_v2_root_is_its_v1_memory_cgroup() throws Exception {
        // hybrid hosts (like this one) keep host processes in the cgroup v2 root; the agent then
        // keys them by their v1 memory cgroup, and the kernel must compute the same key
        io.driftwatch.proc.ProcFs procFs = new io.driftwatch.proc.ProcFs(Path.of("/proc"));
        io.driftwatch.proc.CgroupFs cgroupFs = new io.driftwatch.proc.CgroupFs(Path.of("/sys/fs/cgroup"));
        long[] ids = cgroupFs.ids(procFs.cgroup((int) ProcessHandle.current().pid()));
        long key = io.driftwatch.pipeline.ContainerState.key(ids[0], ids[1], cgroupFs.v2RootId());
        assertThat(key).as("cgroup ids %s", java.util.Arrays.toString(ids)).isNotZero();
        Path f = Files.createTempFile("dw-hostkey", ".txt");
        try (Collector col = new Collector(bpf, v -> v.op() == OP_OPEN && f.toString().equals(v.path()) || v.op() == OP_EXEC
                && "/bin/cat".equals(v.filename()))) {
            bpf.addHostCgroup(key);
            try {
                Procs.run(10_000, List.of("/bin/cat", f.toString())).orThrow();
                assertThat(col.await(r -> r.op() == OP_EXEC, 10_000)).as("exec still reported").isNotNull();
                Thread.sleep(300);
                assertThat(col.records()).as("open of a filtered host process").noneMatch(r -> r.op() == OP_OPEN);
            } finally {
                bpf.removeHostCgroup(key);
            }
            Procs.run(10_000, List.of("/bin/cat", f.toString())).orThrow();
            assertThat(col.await(r -> r.op() == OP_OPEN, 10_000)).as("reported once removed").isNotNull();
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Test
    void accept_of_a_connection_reset_before_it_returns_keeps_its_local_port(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws Exception {
        // the bench's connect loop: connect, then close with RST at once; by the time the server's
        // accept returns the child socket is unhashed and its inet_num reads 0
        Path loops = tmp.resolve("loops");
        Procs.run(60_000, List.of("gcc", "-O2", "-o", loops.toString(),
                NativeBuild.repo().resolve("bench/overhead/loops.c").toString(), "-lpthread")).orThrow();
        int port = 20_000 + (int) (ProcessHandle.current().pid() % 20_000) + (compat() ? 1 : 0);
        try (Collector col = new Collector(bpf, v -> v.op() == OP_ACCEPT && "loops".equals(v.comm()))) {
            Procs.run(30_000, List.of(loops.toString(), "connect", "40", String.valueOf(port))).orThrow();
            assertThat(col.awaitCount(r -> true, 40, 10_000)).isEqualTo(40);
            assertThat(col.records()).allSatisfy(r -> {
                assertThat(r.lport()).as("local port of %s", r).isEqualTo(port);
                assertThat(r.raddr()).isEqualTo("127.0.0.1");
                assertThat(r.rport()).isNotZero();
            });
        }
    }
}
