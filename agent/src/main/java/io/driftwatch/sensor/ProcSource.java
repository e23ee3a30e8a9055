package io.driftwatch.sensor;

import static io.driftwatch.bridge.EventLayout.HDR_RECORD_SIZE;
import static io.driftwatch.bridge.EventLayout.OP_ACCEPT;
import static io.driftwatch.bridge.EventLayout.OP_CONNECT;
import static io.driftwatch.bridge.EventLayout.OP_LISTEN;
import static io.driftwatch.bridge.EventLayout.PROTO_TCP;
import static io.driftwatch.bridge.EventLayout.PROTO_UDP;
import static io.driftwatch.bridge.EventLayout.SRC_PROC;

import io.driftwatch.bridge.EventWriter;
import io.driftwatch.log.Log;
import io.driftwatch.proc.CgroupFs;
import io.driftwatch.proc.CgroupParser.CgroupLine;
import io.driftwatch.proc.NetTableParser;
import io.driftwatch.proc.NetTableParser.Socket;
import io.driftwatch.proc.ProcFs;
import io.driftwatch.proc.StatParser.Stat;
import io.driftwatch.proc.StatusParser.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The /proc poller: the fallback event source when the kernel bridge is unavailable, and the
 * enrichment source always. Every {@code sources.proc.interval} a scanner thread reads the
 * process list and the TCP/UDP tables of every network namespace and emits, in the wire format
 * through {@link EventWriter}, what changed since the previous scan:
 *
 * <ul>
 *   <li>exec: a new process (new pid, or a pid with a new start time) or a process whose
 *       executable changed; filename = /proc/PID/exe, argv = cmdline, ppid/uid/comm from stat
 *       and status. The first scan emits every process: the start-up snapshot.</li>
 *   <li>exit: a process gone (exit code unknown: -1).</li>
 *   <li>listen: a new TCP listening socket, or an unconnected UDP socket bound outside the
 *       ephemeral port range (inside it, it is a client's socket).</li>
 *   <li>accept: a new established TCP socket whose local port is a listening port of its
 *       network namespace; connect: any other new established or connecting TCP socket, and a
 *       connected UDP socket.</li>
 * </ul>
 *
 * Sockets are read through {@code /proc/<pid>/net/*} of one process per network namespace
 * (namespaces deduplicated by the inode of {@code /proc/<pid>/ns/net}) and mapped to their
 * owning process through {@code /proc/<pid>/fd} links {@code socket:[inode]} — only in
 * namespaces that have new sockets. Records carry {@code cgroup_id} = inode of the process's v2
 * cgroup directory and {@code cgroup_v1_id} = inode of its v1 memory cgroup directory, and
 * {@code ktime} = {@link System#nanoTime()}.
 *
 * <p>Finished chunks of records go to the pipeline through a bounded queue; when it is full the
 * scanner waits (the next scan starts later) rather than dropping. {@link #poll} copies whole
 * records only and keeps the rest of a chunk for the next call, and waits at most
 * {@code timeoutMs}. Limits: a process that starts and exits between two scans is never seen,
 * nor is a connection opened and closed between scans.
 */
public final class ProcSource implements EventSource {
    public static final String NAME = "proc";
    static final int CHUNK_BYTES = 256 * 1024;
    static final int QUEUE_CHUNKS = 64;
    private static final String[] TABLES = {"tcp", "tcp6", "udp", "udp6"};

    private final ProcFs procFs;
    private final CgroupFs cgroupFs;
    private final long intervalMs;
    private final LongSupplier ktime;
    private final ArrayBlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
    private volatile boolean running;
    private Thread thread;

    // consumer side (pipeline thread)
    private Chunk current;
    private int currentOff;

    // scanner side (scanner thread, or the caller of scanOnce)
    private Map<Integer, Tracked> known = new HashMap<>();
    private Set<Long> knownSockets = new HashSet<>();
    private ByteBuffer chunk;
    private EventWriter writer;
    private int[] ephemeral;
    private volatile int lastProcesses;
    private volatile int lastSockets;
    private volatile long scans;

    private final Counter scanCount;
    private final Timer scanTimer;
    private final Counter unowned;
    private final Counter emitted;
    private final String hostFacts;

    public ProcSource(ProcFs procFs, CgroupFs cgroupFs, Duration interval, MeterRegistry registry) {
        this(procFs, cgroupFs, interval, registry, System::nanoTime);
    }

    public ProcSource(ProcFs procFs, CgroupFs cgroupFs, Duration interval, MeterRegistry registry, LongSupplier ktime) {
        this.procFs = procFs;
        this.cgroupFs = cgroupFs;
        this.intervalMs = Math.max(10, interval.toMillis());
        this.ktime = ktime;
        scanCount = Counter.builder("driftwatch.proc.scans").description("Scans of /proc by the proc source")
                .register(registry);
        scanTimer = Timer.builder("driftwatch.proc.scan.duration").description("Duration of one /proc scan")
                .register(registry);
        unowned = Counter.builder("driftwatch.proc.sockets.unowned")
                .description("New sockets whose owning process was not found (closed or kernel-owned)").register(registry);
        emitted = Counter.builder("driftwatch.proc.records").description("Records emitted by the proc source")
                .register(registry);
        for (String[] r : new String[][] {{"vanished", "v"}, {"denied", "d"}, {"malformed", "m"}, {"truncated", "t"}}) {
            FunctionCounter.builder("driftwatch.proc.reads.skipped", procFs, f -> skipped(f, r[1]))
                    .description("/proc reads skipped: process vanished mid-read, permission denied, malformed, truncated")
                    .tag("reason", r[0]).register(registry);
        }
        Gauge.builder("driftwatch.proc.processes", this, s -> s.lastProcesses)
                .description("Processes seen by the last /proc scan").register(registry);
        hostFacts = hostFacts();
    }

    private static double skipped(ProcFs f, String which) {
        switch (which) {
            case "v": return f.vanished.sum();
            case "d": return f.denied.sum();
            case "m": return f.malformed.sum();
            default: return f.truncated.sum();
        }
    }

    /** Host facts through oshi, for the start-up report. */
    private static String hostFacts() {
        try {
            oshi.software.os.OperatingSystem os = new oshi.SystemInfo().getOperatingSystem();
            return os.toString();
        } catch (Throwable t) {
            return System.getProperty("os.name") + " " + System.getProperty("os.version");
        }
    }

    /** Starts the scanner thread; the first scan (the start-up snapshot) runs at once. */
    public ProcSource start() {
        running = true;
        thread = new Thread(this::loop, "dw-proc");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    /**
     * With a kernel source reporting changes as they happen, the poller only takes the start-up
     * snapshot (what ran before the agent): later scans would report the same processes again
     * under their resolved binary names (/usr/bin/dash for /bin/sh) instead of the names executed.
     */
    public ProcSource snapshotOnly(boolean on) {
        snapshotOnly = on;
        return this;
    }

    private volatile boolean snapshotOnly;

    private void loop() {
        while (running && !(snapshotOnly && scans > 0)) {
            long t0 = System.nanoTime();
            try {
                scanOnce();
            } catch (RuntimeException e) {
                Log.warn("proc scan failed", "error", e.toString());
            }
            long sleep = intervalMs - (System.nanoTime() - t0) / 1_000_000L;
            if (sleep > 0) {
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    // ---- EventSource -----------------------------------------------------------------------------

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int poll(ByteBuffer batch, int timeoutMs) {
        if (current == null) {
            try {
                current = timeoutMs <= 0 ? queue.poll() : queue.poll(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            }
            if (current == null) return 0;
            currentOff = 0;
        }
        ByteBuffer src = current.buf;
        int start = currentOff;
        int cap = batch.capacity();
        while (currentOff < current.length) {
            int size = src.getInt(currentOff + HDR_RECORD_SIZE);
            if (currentOff - start + size > cap) break; // kept for the next call
            currentOff += size;
        }
        int n = currentOff - start;
        if (n > 0) batch.put(0, src, start, n);
        if (currentOff >= current.length) current = null;
        return n;
    }

    @Override
    public SourceStatus status() {
        if (snapshotOnly) {
            return SourceStatus.running(NAME, "start-up snapshot of " + procFs.root()
                    + " only (the eBPF source reports changes); lookups for enrichment; cgroups "
                    + cgroupFs.mode().name().toLowerCase(java.util.Locale.ROOT) + " at " + cgroupFs.root() + "; " + hostFacts);
        }
        return SourceStatus.running(NAME, "polling " + procFs.root() + " every " + intervalMs + " ms; cgroups "
                + cgroupFs.mode().name().toLowerCase(java.util.Locale.ROOT) + " at " + cgroupFs.root() + "; " + hostFacts);
    }

    @Override
    public void close() {
        running = false;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public long scans() {
        return scans;
    }

    public int lastProcesses() {
        return lastProcesses;
    }

    public int lastSockets() {
        return lastSockets;
    }

    // ---- scanning --------------------------------------------------------------------------------

    /** One scan: diff processes and sockets against the previous scan and queue the records. */
    public void scanOnce() {
        long t0 = System.nanoTime();
        if (ephemeral == null) ephemeral = procFs.localPortRange();
        Map<Integer, Tracked> cur = new HashMap<>(Math.max(16, known.size() * 2));
        List<Tracked> fresh = new ArrayList<>();
        for (int pid : procFs.pids()) {
            Stat st = procFs.stat(pid);
            if (st == null) continue; // vanished (counted by ProcFs)
            Tracked prev = known.get(pid);
            if (prev != null && prev.startTicks == st.startTicks()) {
                prev.ppid = st.ppid();
                cur.put(pid, prev);
                if (prev.kernel) continue;
                ProcFs.Exe exe = procFs.exe(pid);
                String path = exe == null ? null : exe.path();
                if (path != null && !Objects.equals(path, prev.exe) || !Objects.equals(st.comm(), prev.comm)) {
                    prev.exe = path == null ? prev.exe : path; // re-exec (same pid, new image)
                    prev.comm = st.comm();
                    List<String> argv = procFs.cmdline(pid);
                    if (argv != null) emitExec(prev, argv);
                }
                continue;
            }
            Tracked t = read(pid, st);
            if (t == null) continue;
            if (prev != null) emitExit(prev); // pid reused since the last scan
            cur.put(pid, t);
            if (!t.kernel) fresh.add(t);
        }
        fresh.sort(Comparator.comparingLong((Tracked t) -> t.startTicks).thenComparingInt(t -> t.pid));
        for (Tracked t : fresh) emitExec(t, t.argv);
        for (Tracked t : fresh) t.argv = null;
        for (Map.Entry<Integer, Tracked> e : known.entrySet()) {
            if (!cur.containsKey(e.getKey()) && !e.getValue().kernel) emitExit(e.getValue());
        }
        known = cur;
        scanSockets(cur);
        flush();
        lastProcesses = cur.size();
        scans++;
        scanCount.increment();
        scanTimer.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
    }

    private Tracked read(int pid, Stat st) {
        Tracked t = new Tracked();
        t.pid = pid;
        t.startTicks = st.startTicks();
        t.ppid = st.ppid();
        t.comm = st.comm();
        ProcFs.Exe exe = procFs.exe(pid);
        List<String> argv = procFs.cmdline(pid);
        if (argv == null) return null; // vanished
        t.kernel = st.kernelThread() || (exe == null && argv.isEmpty());
        if (t.kernel) return t;
        Status status = procFs.status(pid);
        List<CgroupLine> lines = procFs.cgroup(pid);
        if (status == null || lines == null) return null; // vanished mid-read
        t.uid = status.uid();
        t.exe = exe != null ? exe.path() : argv.isEmpty() ? null : argv.get(0);
        long[] ids = cgroupFs.ids(lines);
        t.cgroupId = ids[0];
        t.cgroupV1Id = ids[1];
        t.argv = argv;
        return t;
    }

    private void scanSockets(Map<Integer, Tracked> procs) {
        Map<Long, Integer> reader = new HashMap<>();
        Map<Long, List<Tracked>> members = new HashMap<>();
        for (Tracked t : procs.values()) {
            if (t.kernel) continue;
            long ns = procFs.netns(t.pid);
            if (ns == 0) continue;
            reader.putIfAbsent(ns, t.pid);
            members.computeIfAbsent(ns, k -> new ArrayList<>()).add(t);
        }
        Set<Long> seen = new HashSet<>();
        List<Socket> fresh = new ArrayList<>();
        Map<Long, Long> freshNs = new HashMap<>();
        Map<Long, Set<Long>> listenPorts = new HashMap<>();
        for (Map.Entry<Long, Integer> e : reader.entrySet()) {
            long ns = e.getKey();
            List<Socket> all = new ArrayList<>();
            for (String table : TABLES) {
                String text = procFs.readNetTable(e.getValue(), table);
                if (text == null) continue;
                int proto = table.startsWith("tcp") ? PROTO_TCP : PROTO_UDP;
                int family = table.endsWith("6") ? NetTableParser.AF_INET6 : NetTableParser.AF_INET;
                NetTableParser.Table parsed = NetTableParser.parse(text, proto, family);
                if (parsed.malformed() > 0) procFs.malformed.add(parsed.malformed());
                all.addAll(parsed.sockets());
            }
            Set<Long> listening = new HashSet<>();
            for (Socket s : all) if (s.proto() == PROTO_TCP && s.listening()) listening.add((long) s.lport());
            listenPorts.put(ns, listening);
            for (Socket s : all) {
                if (s.inode() == 0 || !seen.add(s.inode())) continue;
                if (!knownSockets.contains(s.inode())) {
                    fresh.add(s);
                    freshNs.put(s.inode(), ns);
                }
            }
        }
        if (!fresh.isEmpty()) {
            Map<Long, Tracked> owner = new HashMap<>();
            Set<Long> nsWithFresh = new HashSet<>(freshNs.values());
            for (long ns : nsWithFresh) {
                for (Tracked t : members.getOrDefault(ns, List.of())) {
                    for (long ino : procFs.socketInodes(t.pid)) {
                        if (freshNs.containsKey(ino)) owner.putIfAbsent(ino, t);
                    }
                }
            }
            for (Socket s : fresh) {
                Tracked t = owner.get(s.inode());
                if (t == null) {
                    unowned.increment();
                    continue;
                }
                int op = classify(s, listenPorts.getOrDefault(freshNs.get(s.inode()), Set.of()), ephemeral);
                if (op != 0) emitNet(t, op, s);
            }
        }
        knownSockets = seen;
        lastSockets = seen.size();
    }

    /** The event a newly seen socket stands for, or 0 (none). Pure. */
    static int classify(Socket s, Set<Long> listeningPorts, int[] ephemeral) {
        if (s.proto() == PROTO_TCP) {
            if (s.state() == NetTableParser.TCP_LISTEN) return OP_LISTEN;
            if (s.state() == NetTableParser.TCP_CLOSE || s.rport() == 0) return 0; // bound, not connected
            return listeningPorts.contains((long) s.lport()) ? OP_ACCEPT : OP_CONNECT;
        }
        if (!s.remoteUnspecified()) return OP_CONNECT; // connected UDP
        if (s.lport() == 0) return 0;
        boolean clientPort = s.lport() >= ephemeral[0] && s.lport() <= ephemeral[1];
        return clientPort ? 0 : OP_LISTEN;
    }

    // ---- emitting --------------------------------------------------------------------------------

    private void header(Tracked t) {
        ensureChunk();
        writer.header(SRC_PROC, ktime.getAsLong(), t.cgroupId, t.cgroupV1Id, t.pid, t.ppid, t.uid, t.comm);
    }

    private void emitExec(Tracked t, List<String> argv) {
        String filename = t.exe != null ? t.exe : t.comm;
        header(t);
        if (!writer.exec(filename, argv, 0)) {
            nextChunk();
            header(t);
            writer.exec(filename, argv, 0);
        }
        emitted.increment();
    }

    private void emitExit(Tracked t) {
        header(t);
        if (!writer.exit(-1)) {
            nextChunk();
            header(t);
            writer.exit(-1);
        }
        emitted.increment();
    }

    private void emitNet(Tracked t, int op, Socket s) {
        header(t);
        if (!writer.net(op, s.family(), s.proto(), 0, s.laddr(), s.lport(), s.raddr(), s.rport())) {
            nextChunk();
            header(t);
            writer.net(op, s.family(), s.proto(), 0, s.laddr(), s.lport(), s.raddr(), s.rport());
        }
        emitted.increment();
    }

    private void ensureChunk() {
        if (chunk == null) {
            chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.nativeOrder());
            writer = new EventWriter(chunk);
        }
    }

    private void nextChunk() {
        flush();
        ensureChunk();
    }

    /** Hands the current chunk to the pipeline; waits (bounded by close) while the queue is full. */
    private void flush() {
        if (chunk == null || writer.position() == 0) return;
        Chunk c = new Chunk(chunk, writer.position());
        chunk = null;
        writer = null;
        try {
            while (!queue.offer(c, 100, TimeUnit.MILLISECONDS)) {
                if (!running && thread != null) return; // shutting down
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Chunk(ByteBuffer buf, int length) {}

    /** What the scanner remembers of a process between scans. */
    private static final class Tracked {
        int pid;
        int ppid;
        int uid;
        long startTicks;
        String comm;
        String exe;
        boolean kernel;
        long cgroupId;
        long cgroupV1Id;
        List<String> argv;
    }
}
