package io.driftwatch.bench;

import static io.driftwatch.bridge.EventLayout.*;

import io.driftwatch.bridge.Access;
import io.driftwatch.bridge.EventWriter;
import io.driftwatch.container.RuntimeStateReader;
import io.driftwatch.pipeline.CgroupContainerResolver;
import io.driftwatch.proc.CgroupFs;
import io.driftwatch.proc.ProcFs;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A fixture world for the pipeline benchmarks, built in a temp directory: a hybrid cgroup tree
 * ({@code cgroup/unified/<id>}, {@code cgroup/memory/<id>}), a procfs with the container's init
 * (pid 4000, pid 1 inside) and eight workers (4001..4008, children of init) plus host pid 1, and
 * runc state ({@code runtime/runc/<id>/state.json}) carrying the Kubernetes annotations containerd's
 * CRI plugin writes. The real {@link CgroupContainerResolver} resolves the container from it on
 * the first event (the miss path: /proc, cgroup inodes, state.json) and from its primitive map on
 * every later one (the known path the benchmarks measure).
 *
 * <p>{@link #batch} writes one batch of {@value #RECORDS} wire-format records shaped like a small
 * web service: reads of its config, content and libraries, /proc/&lt;pid&gt;/ reads (learned as
 * patterns), log appends, accepts on its port, connects to its database and cache, execs of its
 * helpers, and some host-process events that the resolver attributes to no container.
 */
final class BenchWorld implements AutoCloseable {
    static final int RECORDS = 1024;
    static final String ID = "dwb-bench";
    static final String KEY = "shop/web/nginx";
    static final int INIT = 4000;
    static final int WORKERS = 8;

    final Path root;
    final Path proc;
    final Path cgroup;
    final Path runtime;
    final long cgroupId;
    final long cgroupV1Id;
    final long hostV2;
    final long hostV1;

    BenchWorld() throws IOException {
        root = Files.createTempDirectory("dw-bench-world-");
        proc = root.resolve("proc");
        cgroup = root.resolve("cgroup");
        runtime = root.resolve("runtime");
        Path unified = Files.createDirectories(cgroup.resolve("unified").resolve(ID));
        Path memory = Files.createDirectories(cgroup.resolve("memory").resolve(ID));
        StringBuilder procs = new StringBuilder();
        for (int i = 0; i <= WORKERS; i++) procs.append(INIT + i).append('\n');
        Files.writeString(unified.resolve("cgroup.procs"), procs);
        Files.writeString(memory.resolve("cgroup.procs"), procs);
        Files.createDirectories(proc);
        Files.writeString(proc.resolve("stat"), "cpu  100 0 100 1000 0 0 0 0 0 0\nbtime 1700000000\n");
        process(1, 0, "systemd", "/", new int[] {1});
        process(INIT, 3999, "nginx", "/" + ID, new int[] {INIT, 1});
        for (int i = 1; i <= WORKERS; i++) process(INIT + i, INIT, "nginx", "/" + ID, new int[] {INIT + i, 1 + i});
        Path state = Files.createDirectories(runtime.resolve("runc").resolve(ID));
        Files.writeString(state.resolve("state.json"), "{\"id\":\"" + ID + "\",\"init_process_pid\":" + INIT
                + ",\"created\":\"2026-01-02T03:04:05Z\",\"config\":{\"labels\":["
                + "\"io.kubernetes.cri.container-type=container\","
                + "\"io.kubernetes.cri.sandbox-namespace=shop\","
                + "\"io.kubernetes.cri.sandbox-name=web-7d4b9c6f8-x2x9q\","
                + "\"io.kubernetes.cri.sandbox-uid=0b6d5c6e-1c5e-4c1e-9d6f-000000000001\","
                + "\"io.kubernetes.cri.container-name=nginx\","
                + "\"io.kubernetes.cri.image-name=registry.local/shop/web:1.2\"]}}");
        cgroupId = ino(unified);
        cgroupV1Id = ino(memory);
        hostV2 = ino(cgroup.resolve("unified"));
        hostV1 = ino(cgroup.resolve("memory"));
    }

    private void process(int pid, int ppid, String name, String cgroupPath, int[] nspid) throws IOException {
        Path d = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(d.resolve("cgroup"), "4:memory:" + cgroupPath + "\n0::" + cgroupPath + "\n");
        Files.writeString(d.resolve("stat"), pid + " (" + name + ") S " + ppid + " " + pid + " " + pid
                + " 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 1000 2453504 210 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
        StringBuilder ns = new StringBuilder();
        for (int n : nspid) ns.append(ns.length() == 0 ? "" : "\t").append(n);
        Files.writeString(d.resolve("status"), "Name:\t" + name + "\nTgid:\t" + pid + "\nPid:\t" + pid + "\nPPid:\t" + ppid
                + "\nUid:\t0\t0\t0\t0\nNSpid:\t" + ns + "\n");
        Files.writeString(d.resolve("cmdline"), name + "\0");
        Files.createSymbolicLink(d.resolve("exe"), Path.of("/usr/sbin/" + name));
    }

    private static long ino(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
    }

    CgroupContainerResolver resolver(MeterRegistry registry) {
        return new CgroupContainerResolver(new ProcFs(proc), new CgroupFs(cgroup),
                new RuntimeStateReader(List.of(runtime.resolve("runc"))), registry);
    }

    ProcFs procFs() {
        return new ProcFs(proc);
    }

    CgroupFs cgroupFs() {
        return new CgroupFs(cgroup);
    }

    private static final String[] READS = {"/etc/nginx/nginx.conf", "/etc/nginx/mime.types",
        "/usr/share/nginx/html/index.html", "/usr/share/nginx/html/favicon.ico", "/etc/hosts", "/etc/resolv.conf",
        "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/etc/ssl/certs/ca-certificates.crt"};
    private static final String[] PROC_READS = {"/proc/%d/stat", "/proc/%d/status", "/proc/self/fd/%d"};
    private static final byte[] LOCAL = {10, (byte) 244, 1, 7};
    private static final byte[][] PEERS = {{10, 96, 0, 15}, {10, 96, 0, 16}};
    private static final int[] PEER_PORTS = {5432, 6379};

    /**
     * Writes one batch into a direct buffer in native order: per 64 records 32 known reads, 6
     * /proc reads (pattern entries), 6 log appends, 8 accepts, 4 connects, 2 execs, 6 host events.
     */
    ByteBuffer batch() {
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.nativeOrder());
        EventWriter w = new EventWriter(buf);
        int write = Access.fromOpenFlags(01 | 02000 | 0100);
        for (int i = 0; i < RECORDS; i++) {
            int slot = i & 63;
            int pid = INIT + 1 + (i % WORKERS);
            long ktime = 1_000_000L + i;
            if (slot < 32) {
                w.header(SRC_BPF, ktime, cgroupId, cgroupV1Id, pid, INIT, 101, "nginx");
                w.open(READS[(i / 3) & 7], 0, ACC_READ, 5, 2049, 1000 + (i & 7));
            } else if (slot < 38) {
                w.header(SRC_BPF, ktime, cgroupId, cgroupV1Id, pid, INIT, 101, "nginx");
                w.open(String.format(PROC_READS[slot % 3], slot % 3 == 2 ? 3 + (i & 3) : pid), 0, ACC_READ, 5, 4, 0);
            } else if (slot < 44) {
                w.header(SRC_BPF, ktime, cgroupId, cgroupV1Id, pid, INIT, 101, "nginx");
                w.open("/var/log/nginx/access.log", 01 | 02000 | 0100, write, 5, 2049, 3000);
            } else if (slot < 52) {
                w.header(SRC_BPF, ktime, cgroupId, cgroupV1Id, pid, INIT, 101, "nginx");
                w.net(OP_ACCEPT, 2, PROTO_TCP, 7, LOCAL, 8080, new byte[] {10, (byte) 244, 0, (byte) (1 + (i & 31))},
                        30000 + (i & 1023));
            } else if (slot < 56) {
                w.header(SRC_BPF, ktime, cgroupId, cgroupV1Id, pid, INIT, 101, "nginx");
                w.net(OP_CONNECT, 2, PROTO_TCP, i % 2 == 0 ? 0 : -115, LOCAL, 40000 + (i & 1023), PEERS[slot & 1],
                        PEER_PORTS[slot & 1]);
            } else if (slot < 58) {
                w.header(SRC_BPF, ktime, cgroupId, cgroupV1Id, pid, INIT, 101, "sh");
                String exe = slot == 56 ? "/usr/bin/logrotate" : "/bin/gzip";
                w.exec(exe, List.of(exe.substring(exe.lastIndexOf('/') + 1), "-f", "/var/log/nginx/access.log.1"), 0);
            } else {
                w.header(SRC_BPF, ktime, hostV2, hostV1, 1, 0, 0, "systemd");
                w.open(READS[i & 7], 0, ACC_READ, 5, 2049, 1000 + (i & 7));
            }
        }
        return buf;
    }

    int length(ByteBuffer batch) {
        int off = 0;
        io.driftwatch.bridge.EventView v = new io.driftwatch.bridge.EventView();
        for (int i = 0; i < RECORDS; i++) {
            v.wrap(batch, off);
            off += v.size();
        }
        return off;
    }

    @Override
    public void close() {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            // best effort: a temp dir
        }
    }

}
