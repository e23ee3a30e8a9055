package io.driftwatch.bridge;

import io.driftwatch.sensor.EventSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * Test helper: polls an {@link EventSource} on a background thread and keeps a copy of every
 * record that matches a filter, as a {@link Rec}. Bounded: stops when closed.
 */
public final class Collector implements AutoCloseable {
    /** One record, copied out of the batch buffer. */
    public record Rec(int op, int source, int flags, long cgroupId, long cgroupV1Id, int pid, int tgid, int ppid, int cpu,
            int seq, String comm, String filename, List<String> argv, int ret, String path, int access, long dev,
            long ino, int family, int proto, String laddr, int lport, String raddr, int rport, int exitCode,
            byte[] laddrBytes, byte[] raddrBytes) {
        public boolean has(int flag) { return (flags & flag) != 0; }
    }

    private final EventSource source;
    private final Predicate<EventView> filter;
    private final List<Rec> recs = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long records;
    private volatile Throwable failure;

    public Collector(EventSource source, Predicate<EventView> filter) {
        this.source = source;
        this.filter = filter;
        this.thread = new Thread(this::run, "test-collector-" + source.name());
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        ByteBuffer batch = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.nativeOrder());
        EventView v = new EventView();
        try {
            while (running) {
                int n = source.poll(batch, 20);
                for (int off = 0; off < n; ) {
                    v.wrap(batch, off);
                    String bad = v.check(n);
                    if (bad != null) throw new IllegalStateException("malformed record at " + off + ": " + bad);
                    records++;
                    if (filter.test(v)) recs.add(copy(v));
                    off += v.size();
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    static Rec copy(EventView v) {
        int op = v.op();
        String filename = null, path = null, laddr = null, raddr = null;
        List<String> argv = null;
        int ret = 0, access = 0, family = 0, proto = 0, lport = 0, rport = 0, exit = 0;
        long dev = 0, ino = 0;
        byte[] laddrBytes = null, raddrBytes = null;
        switch (op) {
            case EventLayout.OP_EXEC: filename = v.filename(); argv = v.argv(); ret = v.execRet(); break;
            case EventLayout.OP_OPEN: path = v.path(); ret = v.fileRet(); access = v.access(); dev = v.dev(); ino = v.ino(); break;
            case EventLayout.OP_EXIT: exit = v.exitCode(); break;
            case EventLayout.OP_FORK: ret = v.childTgid(); break;
            default:
                family = v.family(); proto = v.proto(); ret = v.netRet(); laddr = v.laddr(); raddr = v.raddr();
                lport = v.lport(); rport = v.rport();
                laddrBytes = new byte[EventLayout.ADDR_LEN];
                raddrBytes = new byte[EventLayout.ADDR_LEN];
                v.buffer().get(v.laddrOffset(), laddrBytes);
                v.buffer().get(v.raddrOffset(), raddrBytes);
        }
        return new Rec(op, v.source(), v.flags(), v.cgroupId(), v.cgroupV1Id(), v.pid(), v.tgid(), v.ppid(), v.cpu(), v.seq(),
                v.comm(), filename, argv, ret, path, access, dev, ino, family, proto, laddr, lport, raddr, rport, exit,
                laddrBytes, raddrBytes);
    }

    public List<Rec> records() {
        if (failure != null) throw new AssertionError("collector failed", failure);
        return new ArrayList<>(recs);
    }

    /** Records seen by the poller in total (matching or not). */
    public long seen() {
        return records;
    }

    /** Waits (bounded) until some kept record matches; returns it or null. */
    public Rec await(Predicate<Rec> p, long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() < end) {
            for (Rec r : records()) if (p.test(r)) return r;
            Thread.sleep(20);
        }
        for (Rec r : records()) if (p.test(r)) return r;
        return null;
    }

    /** Waits (bounded) until at least {@code n} kept records match; returns how many. */
    public long awaitCount(Predicate<Rec> p, long n, long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + timeoutMs * 1_000_000L;
        long c = 0;
        while (System.nanoTime() < end) {
            c = records().stream().filter(p).count();
            if (c >= n) return c;
            Thread.sleep(50);
        }
        return records().stream().filter(p).count();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5_000);
    }
}
