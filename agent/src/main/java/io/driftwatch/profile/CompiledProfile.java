package io.driftwatch.profile;

import io.driftwatch.bridge.EventLayout;
import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.Hashing;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The detector's view of one profile, built by {@link ProfileCompiler} (stage 3 of loading) and
 * rebuilt whenever the profile's entries, tombstones or mode change. Answers "is this event's
 * behaviour known?" per {@link Dimension}:
 *
 * <ol>
 *   <li>exact values are 64-bit hashes ({@link Hashing} over the event's bytes in place, or
 *       {@link NetPattern#portKey}/{@link NetPattern#peerKey(EventView)}) in a {@link LongHashSet};</li>
 *   <li>values already matched by a pattern are remembered in a bounded per-dimension cache of hashes;</li>
 *   <li>otherwise the patterns are tried in place on the event's bytes (allocation-free too) and a
 *       hit is cached.</li>
 * </ol>
 *
 * Nothing here allocates on the known path (the cache only allocates when it grows). Hash keys
 * are 64-bit: a collision (probability ~n²/2⁶⁵ for n values) would make an unknown value look
 * known; we accept that for exact values as sketches do. Not thread-safe: call on the pipeline
 * thread (the caches mutate). The mode and per-dimension learning flags are frozen at compile time.
 */
public final class CompiledProfile {
    static final int CACHE_MAX = 1 << 16;
    private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(EventLayout.PATH_MAX).order(ByteOrder.nativeOrder()));

    private final String key;
    private final Mode mode;
    private final boolean[] learning;
    private final LongHashSet[] exact;
    private final LongHashSet[] matched;
    private final PathPattern[][] paths;
    private final NetPattern[][] nets;
    /** EXEC: combine(hash(path), hash(parent)) for exact executables. */
    private final LongHashSet execParents;
    /** EXEC pattern entries' parents, parallel to paths[EXEC]. */
    private final String[][] patternParents;
    private final int entries;

    CompiledProfile(String key, Mode mode, boolean[] learning, LongHashSet[] exact, PathPattern[][] paths,
            NetPattern[][] nets, LongHashSet execParents, String[][] patternParents, int entries) {
        this.key = key;
        this.mode = mode;
        this.learning = learning;
        this.exact = exact;
        this.paths = paths;
        this.nets = nets;
        this.execParents = execParents;
        this.patternParents = patternParents;
        this.entries = entries;
        this.matched = new LongHashSet[exact.length];
        for (int i = 0; i < matched.length; i++) matched[i] = new LongHashSet(64, CACHE_MAX);
    }

    /** The profile key. */
    public String key() { return key; }

    public Mode mode() { return mode; }

    /** True while dimension {@code d} is learning (profile in learning mode, or the dimension relearning). */
    public boolean learning(Dimension d) { return learning[d.ordinal()]; }

    /** True when an unknown value in {@code d} is a deviation to report: monitor or enforce, and not (re)learning. */
    public boolean alerts(Dimension d) { return mode != Mode.LEARNING && !learning[d.ordinal()]; }

    /** True when deviations in {@code d} should be acted on (enforce mode, not relearning). */
    public boolean enforces(Dimension d) { return mode == Mode.ENFORCE && !learning[d.ordinal()]; }

    /** Number of entries compiled. */
    public int size() { return entries; }

    /**
     * Is the behaviour of {@code ev} in dimension {@code d} known? {@code d} is normally
     * {@link Dimension#ofEvent}. For {@link Dimension#FILE_READ} a file the workload writes also
     * counts as known. Failed syscalls are not special here: the detector decides whether to check them.
     * Allocation-free on the known path.
     */
    public boolean matches(Dimension d, EventView ev) {
        ByteBuffer b = ev.buffer();
        switch (d) {
            case EXEC: {
                ByteBuffer fb = ev.filenameBuffer();
                int off = ev.filenameOffset(), len = ev.filenameLen();
                return path(Dimension.EXEC.ordinal(), Hashing.hash(fb, off, len), fb, off, len);
            }
            case FILE_READ: {
                int off = ev.pathOffset(), len = ev.pathLen();
                long h = Hashing.hash(b, off, len);
                return path(Dimension.FILE_READ.ordinal(), h, b, off, len)
                        || path(Dimension.FILE_WRITE.ordinal(), h, b, off, len);
            }
            case FILE_WRITE: {
                int off = ev.pathOffset(), len = ev.pathLen();
                return path(Dimension.FILE_WRITE.ordinal(), Hashing.hash(b, off, len), b, off, len);
            }
            case LISTEN: case ACCEPT:
                return port(d.ordinal(), ev.proto(), ev.lport());
            case CONNECT: {
                int i = Dimension.CONNECT.ordinal();
                long k = NetPattern.peerKey(ev);
                if (k == 0) return false;
                if (exact[i].contains(k) || matched[i].contains(k)) return true;
                int proto = ev.proto(), port = ev.rport(), fam = ev.family(), off = ev.raddrOffset();
                for (NetPattern n : nets[i]) {
                    if (n.matches(proto, port, b, off, fam)) {
                        matched[i].add(k);
                        return true;
                    }
                }
                return false;
            }
            default:
                return false;
        }
    }

    /**
     * EXEC with lineage: is the executable of {@code ev} known to be launched by {@code parentExe}?
     * False when the executable is unknown, or known only with other parents. Allocation-free for
     * ASCII parent paths.
     */
    public boolean matchesExecParent(EventView ev, String parentExe) {
        if (parentExe == null) return false;
        ByteBuffer b = ev.filenameBuffer();
        int off = ev.filenameOffset(), len = ev.filenameLen();
        long ph = hash(parentExe);
        if (execParents.contains(Hashing.combine(Hashing.hash(b, off, len), ph))) return true;
        PathPattern[] ps = paths[Dimension.EXEC.ordinal()];
        for (int j = 0; j < ps.length; j++) {
            if (ps[j].matches(b, off, len)) {
                for (String p : patternParents[j]) if (p.equals(parentExe)) return true;
            }
        }
        return false;
    }

    /** Slow path for tools and tests: is the real value (a path, {@code tcp:80}, {@code tcp:10.0.0.5:5432}) known? */
    public boolean matches(Dimension d, String value) {
        if (d.isPath()) {
            byte[] bytes = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
            long h = Hashing.hash(b, 0, bytes.length);
            boolean known = path(d.ordinal(), h, b, 0, bytes.length);
            return known || (d == Dimension.FILE_READ && path(Dimension.FILE_WRITE.ordinal(), h, b, 0, bytes.length));
        }
        try {
            if (d != Dimension.CONNECT) {
                NetPattern n = NetPattern.parsePort(value);
                return n.port >= 0 && port(d.ordinal(), n.proto, n.port);
            }
            NetPattern n = NetPattern.parsePeer(value);
            if (!n.isExact()) return false;
            if (exact[d.ordinal()].contains(n.key())) return true;
            for (NetPattern p : nets[d.ordinal()]) {
                if (p.matches(n.proto, n.port, ByteBuffer.wrap(n.addr), 0, n.addr.length == 4 ? 2 : 10)) return true;
            }
            return false;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private boolean path(int i, long h, ByteBuffer b, int off, int len) {
        if (exact[i].contains(h) || matched[i].contains(h)) return true;
        for (PathPattern p : paths[i]) {
            if (p.matches(b, off, len)) {
                matched[i].add(h);
                return true;
            }
        }
        return false;
    }

    private boolean port(int i, int proto, int port) {
        if (exact[i].contains(NetPattern.portKey(proto, port))) return true;
        for (NetPattern n : nets[i]) if (n.matchesPort(proto, port)) return true;
        return false;
    }

    /** {@link Hashing#hash(String)} without allocating for ASCII strings up to PATH_MAX. */
    static long hash(String s) {
        int n = s.length();
        if (n > EventLayout.PATH_MAX) return Hashing.hash(s);
        ByteBuffer b = SCRATCH.get();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) return Hashing.hash(s);
            b.put(i, (byte) c);
        }
        return Hashing.hash(b, 0, n);
    }

    long approxBytes() {
        long b = 64;
        for (LongHashSet s : exact) b += s.approxBytes();
        for (LongHashSet s : matched) b += s.approxBytes();
        b += execParents.approxBytes();
        for (PathPattern[] ps : paths) b += 16 + 4L * ps.length + 64L * ps.length;
        for (NetPattern[] ns : nets) b += 16 + 4L * ns.length + 64L * ns.length;
        return b;
    }

    static CompiledProfile of(String key, Mode mode, boolean[] learning, LongHashSet[] exact, List<List<PathPattern>> paths,
            List<List<NetPattern>> nets, LongHashSet execParents, List<String[]> patternParents, int entries) {
        PathPattern[][] pa = new PathPattern[paths.size()][];
        NetPattern[][] na = new NetPattern[nets.size()][];
        for (int i = 0; i < pa.length; i++) pa[i] = paths.get(i).toArray(new PathPattern[0]);
        for (int i = 0; i < na.length; i++) na[i] = nets.get(i).toArray(new NetPattern[0]);
        return new CompiledProfile(key, mode, learning, exact, pa, na, execParents,
                patternParents.toArray(new String[0][]), entries);
    }
}
