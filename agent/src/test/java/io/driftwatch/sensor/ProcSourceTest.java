package io.driftwatch.sensor;

import static io.driftwatch.bridge.EventLayout.OP_ACCEPT;
import static io.driftwatch.bridge.EventLayout.OP_CONNECT;
import static io.driftwatch.bridge.EventLayout.OP_LISTEN;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.proc.CgroupFs;
import io.driftwatch.proc.NetTableParser.Socket;
import io.driftwatch.proc.ProcFs;
import io.driftwatch.testsupport.FixtureTree;
import io.driftwatch.testsupport.Records;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class ProcSourceTest {
    @TempDir
    Path tmp;
    Map<String, Path> world;
    ProcFs procFs;
    CgroupFs cgroupFs;
    ProcSource source;

    @BeforeEach
    void setUp() throws Exception {
        world = FixtureTree.world(tmp);
        procFs = new ProcFs(world.get("proc"));
        cgroupFs = new CgroupFs(world.get("cgroup"));
        source = new ProcSource(procFs, cgroupFs, Duration.ofSeconds(1), new SimpleMeterRegistry());
    }

    private List<Map<String, Object>> scan() throws Exception {
        source.scanOnce();
        return Records.drain(source, 1 << 20);
    }

    private static Map<Object, Map<String, Object>> byPid(List<Map<String, Object>> recs) {
        return recs.stream().collect(Collectors.toMap(r -> r.get("pid"), r -> r, (a, b) -> a));
    }

    @Test
    void scanOnce_firstScan_emitsEveryUserProcess() throws Exception {
        List<Map<String, Object>> recs = scan();
        Map<Object, Map<String, Object>> exec = byPid(Records.of(recs, "exec"));
        // 2 is a kernel thread, 303 vanished mid-read, 304 has a malformed stat
        assertThat(exec.keySet()).containsExactlyInAnyOrder(1, 100, 101, 150, 200, 300, 301, 302);
        assertThat(procFs.vanished.sum()).isPositive();
        assertThat(procFs.malformed.sum()).isPositive();
        assertThat(recs).allMatch(r -> "proc".equals(r.get("source")));
    }

    /** pid, comm, filename, argv, ppid, uid — hostile content included. */
    static Stream<Arguments> processes() {
        String deep = "/" + java.util.stream.IntStream.range(0, 20).mapToObj(i -> String.format("d%03d", i) + "x".repeat(195))
                .collect(Collectors.joining("/"));
        deep = deep.substring(0, 4000);
        return Stream.of(
                Arguments.of(1, "systemd", "/usr/lib/systemd/systemd", List.of("/sbin/init", "splash"), 0, 0),
                Arguments.of(100, "sleep", "/bin/busybox", List.of("sleep", "100000"), 90, 0),
                Arguments.of(101, "sh", "/bin/busybox", List.of("sh", "-c", "echo hi\nworld"), 100, 0),
                Arguments.of(300, "(sd-pam) x)", "/usr/lib/systemd/systemd", List.of("(sd-pam)"), 1, 1000),
                Arguments.of(301, "foo", "/usr/bin/foo", List.of("/usr/bin/foo", "--serve"), 1, 0),
                Arguments.of(302, "deep", deep, List.of(), 1, 0));
    }

    @ParameterizedTest
    @MethodSource("processes")
    void scanOnce_execRecords(int pid, String comm, String filename, List<String> argv, int ppid, int uid) throws Exception {
        Map<String, Object> r = byPid(Records.of(scan(), "exec")).get(pid);
        assertThat(r.get("comm")).isEqualTo(comm);
        assertThat(r.get("filename")).isEqualTo(filename);
        if (pid != 302) assertThat(r.get("argv")).isEqualTo(argv); // 302's 4000-byte argv exceeds the 1 KiB argv area
        assertThat(r.get("ppid")).isEqualTo(ppid);
        assertThat(r.get("uid")).isEqualTo(uid);
    }

    @Test
    void scanOnce_cgroupIdsAreDirectoryInodes() throws Exception {
        Map<String, Object> r = byPid(Records.of(scan(), "exec")).get(100);
        Path cg = world.get("cgroup");
        assertThat(r.get("cgroup_id")).isEqualTo(ino(cg.resolve("unified/dwp-fixture")));
        assertThat(r.get("cgroup_v1_id")).isEqualTo(ino(cg.resolve("memory/process_api/abc/dwp-fixture")));
        Map<String, Object> host = byPid(Records.of(scan(), "exec")).get(1);
        assertThat(host).isNull(); // second scan: nothing new
    }

    /** event, pid, proto, local, remote. */
    static Stream<Arguments> sockets() {
        return Stream.of(
                Arguments.of("listen", 1, "tcp", "0.0.0.0:22", "0.0.0.0:0"),
                Arguments.of("accept", 1, "tcp", "10.0.0.5:22", "10.0.0.9:51000"),
                Arguments.of("connect", 1, "tcp", "10.0.0.5:40000", "93.184.216.34:443"),
                Arguments.of("listen", 1, "tcp", ":::8080", ":::0"),
                Arguments.of("accept", 1, "tcp", "127.0.0.1:8080", "127.0.0.1:54321"),
                Arguments.of("listen", 1, "udp", "0.0.0.0:53", "0.0.0.0:0"),
                Arguments.of("listen", 100, "tcp", "0.0.0.0:8080", "0.0.0.0:0"));
    }

    @ParameterizedTest
    @MethodSource("sockets")
    void scanOnce_socketRecords(String event, int pid, String proto, String local, String remote) throws Exception {
        List<Map<String, Object>> recs = scan();
        assertThat(recs).anySatisfy(r -> {
            assertThat(r.get("event")).isEqualTo(event);
            assertThat(r.get("pid")).isEqualTo(pid);
            assertThat(r.get("proto")).isEqualTo(proto);
            assertThat(r.get("local")).isEqualTo(local);
            assertThat(r.get("remote")).isEqualTo(remote);
        });
    }

    @Test
    void scanOnce_ephemeralUdpAndTimeWait_noRecord() throws Exception {
        List<Map<String, Object>> recs = scan();
        assertThat(recs).noneMatch(r -> "0.0.0.0:45000".equals(r.get("local")));
        assertThat(recs).noneMatch(r -> "10.0.0.5:40001".equals(r.get("local")));
        long net = recs.stream().filter(r -> r.containsKey("local")).count();
        assertThat(net).isEqualTo(7);
    }

    @Test
    void scanOnce_changes_emitExitExecAndNewSockets() throws Exception {
        scan();
        Path proc = world.get("proc");
        deleteTree(proc.resolve("101"));
        // 400: a new process in the container, with a new connection
        FixtureTree.copy("proc/101", proc.resolve("400"), tmp);
        Files.writeString(proc.resolve("400/stat"), Files.readString(proc.resolve("400/stat")).replaceFirst("^101 ", "400 ")
                .replace(" 1100 ", " 4000 "));
        Files.writeString(proc.resolve("100/net/tcp"), Files.readString(proc.resolve("100/net/tcp"))
                + "   1: 0200000A:A000 0100000A:0050 01 00000000:00000000 00:00000000 00000000     0        0 2002 1 0 100 0 0 10 0\n");
        Files.createDirectories(proc.resolve("400/fd"));
        Files.createSymbolicLink(proc.resolve("400/fd/5"), Path.of("socket:[2002]"));
        // 150 re-executes itself
        Files.delete(proc.resolve("150/exe"));
        Files.createSymbolicLink(proc.resolve("150/exe"), Path.of("/usr/bin/runc-new"));

        List<Map<String, Object>> recs = scan();
        assertThat(recs).extracting(r -> r.get("event") + ":" + r.get("pid"))
                .containsExactlyInAnyOrder("exec:150", "exec:400", "exit:101", "connect:400");
        assertThat(byPid(Records.of(recs, "exec")).get(150).get("filename")).isEqualTo("/usr/bin/runc-new");
        assertThat(byPid(Records.of(recs, "connect")).get(400).get("remote")).isEqualTo("10.0.0.1:80");
        assertThat(scan()).isEmpty();
    }

    @Test
    void poll_smallBatch_returnsWholeRecordsAndLosesNone() throws Exception {
        source.scanOnce();
        List<Map<String, Object>> small = Records.drain(source, 5_216);
        ProcSource again = new ProcSource(new ProcFs(world.get("proc")), cgroupFs, Duration.ofSeconds(1),
                new SimpleMeterRegistry());
        again.scanOnce();
        List<Map<String, Object>> large = Records.drain(again, 1 << 20);
        assertThat(small).hasSize(large.size()).hasSizeGreaterThan(10);
        assertThat(small.stream().map(r -> r.get("event") + ":" + r.get("pid")).toList())
                .isEqualTo(large.stream().map(r -> r.get("event") + ":" + r.get("pid")).toList());
    }

    @Test
    void poll_recordLargerThanBatch_keptForNextCall() throws Exception {
        source.scanOnce();
        ByteBuffer tiny = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        assertThat(source.poll(tiny, 0)).isZero();
        assertThat(Records.drain(source, 1 << 20)).isNotEmpty();
    }

    @Test
    void poll_nothingQueued_returnsWithinTimeout() {
        ByteBuffer batch = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
        long t0 = System.nanoTime();
        assertThat(source.poll(batch, 50)).isZero();
        assertThat((System.nanoTime() - t0) / 1_000_000L).isLessThan(5_000);
    }

    /** socket, listening ports, expected op (0 = none). */
    static Stream<Arguments> classify() {
        byte[] any = new byte[4];
        byte[] peer = {10, 0, 0, 9};
        return Stream.of(
                Arguments.of(new Socket(6, 2, any, 22, any, 0, 10, 0, 1), Set.of(), OP_LISTEN),
                Arguments.of(new Socket(6, 2, any, 22, peer, 5000, 1, 0, 1), Set.of(22L), OP_ACCEPT),
                Arguments.of(new Socket(6, 2, any, 41000, peer, 443, 1, 0, 1), Set.of(22L), OP_CONNECT),
                Arguments.of(new Socket(6, 2, any, 41000, peer, 443, 2, 0, 1), Set.of(), OP_CONNECT),
                Arguments.of(new Socket(6, 2, any, 41000, any, 0, 7, 0, 1), Set.of(), 0),
                Arguments.of(new Socket(17, 2, any, 53, any, 0, 7, 0, 1), Set.of(), OP_LISTEN),
                Arguments.of(new Socket(17, 2, any, 40000, any, 0, 7, 0, 1), Set.of(), 0),
                Arguments.of(new Socket(17, 2, any, 40000, peer, 53, 1, 0, 1), Set.of(), OP_CONNECT));
    }

    @ParameterizedTest
    @MethodSource("classify")
    void classify_socket(Socket s, Set<Long> listening, int op) {
        assertThat(ProcSource.classify(s, listening, new int[] {32768, 60999})).isEqualTo(op);
    }

    /** Scans the real /proc of this machine; prints the cost (the numbers in docs/attribution.md). */
    @Test
    void scanOnce_realProc_seesThisJvm() throws Exception {
        ProcFs real = new ProcFs(Path.of("/proc"));
        ProcSource s = new ProcSource(real, new CgroupFs(Path.of("/sys/fs/cgroup")), Duration.ofSeconds(1),
                new SimpleMeterRegistry());
        long t0 = System.nanoTime();
        s.scanOnce();
        long first = System.nanoTime() - t0;
        List<Map<String, Object>> recs = Records.drain(s, 1 << 20);
        long t1 = System.nanoTime();
        s.scanOnce();
        long steady = System.nanoTime() - t1;
        int self = (int) ProcessHandle.current().pid();
        assertThat(recs).anyMatch(r -> "exec".equals(r.get("event")) && Integer.valueOf(self).equals(r.get("pid")));
        System.out.printf("proc scan: %d processes, %d sockets, first scan %.1f ms (%d records), steady scan %.1f ms%n",
                s.lastProcesses(), s.lastSockets(), first / 1e6, recs.size(), steady / 1e6);
        Records.drain(s, 1 << 20);
    }

    /** 2000 synthetic processes in one container: every one emitted once; prints the cost. */
    @Test
    void scanOnce_2000Processes_allEmitted() throws Exception {
        Path proc = world.get("proc");
        String stat = Files.readString(proc.resolve("101/stat"));
        for (int pid = 10_000; pid < 12_000; pid++) {
            Path d = Files.createDirectories(proc.resolve(Integer.toString(pid)));
            Files.writeString(d.resolve("stat"), stat.replaceFirst("^101 ", pid + " "));
            for (String f : new String[] {"status", "cmdline", "cgroup"}) Files.copy(proc.resolve("101").resolve(f), d.resolve(f));
            Files.createSymbolicLink(d.resolve("exe"), Path.of("/bin/busybox"));
            Files.createDirectories(d.resolve("ns"));
            Files.createSymbolicLink(d.resolve("ns/net"), Path.of("net:[4026532000]"));
        }
        long t0 = System.nanoTime();
        source.scanOnce();
        long first = System.nanoTime() - t0;
        assertThat(Records.of(Records.drain(source, 1 << 20), "exec")).hasSize(2008);
        long t1 = System.nanoTime();
        source.scanOnce();
        long steady = System.nanoTime() - t1;
        assertThat(Records.drain(source, 1 << 20)).isEmpty();
        System.out.printf("fixture scan: %d processes, first scan %.1f ms, steady scan %.1f ms%n", source.lastProcesses(),
                first / 1e6, steady / 1e6);
    }

    private static long ino(Path p) throws Exception {
        return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
    }

    static void deleteTree(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
