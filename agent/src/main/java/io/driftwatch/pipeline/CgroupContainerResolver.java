package io.driftwatch.pipeline;

import io.driftwatch.bridge.EventView;
import io.driftwatch.container.CgroupPaths;
import io.driftwatch.container.CgroupPaths.Match;
import io.driftwatch.container.ContainerInfo;
import io.driftwatch.container.ContainerMetadata;
import io.driftwatch.container.RuntimeStateReader;
import io.driftwatch.container.RuntimeStateReader.RuntimeState;
import io.driftwatch.log.Log;
import io.driftwatch.proc.CgroupFs;
import io.driftwatch.proc.CgroupParser;
import io.driftwatch.proc.CgroupParser.CgroupLine;
import io.driftwatch.proc.ProcFs;
import io.driftwatch.proc.StatParser.Stat;
import io.driftwatch.proc.StatusParser.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.collection.LongObjectMap;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;

/**
 * Attributes events to containers by cgroup. The event's {@code (cgroup_id, cgroup_v1_id)} give
 * a key ({@link ContainerState#key}) looked up in a {@link LongObjectHashMap}: a known container
 * or a known host cgroup costs one primitive-keyed lookup and allocates nothing.
 *
 * <p>On a miss the cgroup path comes from {@code /proc/<tgid>/cgroup} of the event's process
 * (checked against the event's ids), or, when the process already exited, from a bounded walk of
 * the cgroup hierarchy for the directory with that inode. The path gives the container id
 * ({@link CgroupPaths}); the runtime's OCI state gives the metadata ({@link RuntimeStateReader},
 * {@link ContainerMetadata}). Host cgroups are cached as a sentinel (negative cache). A cgroup
 * that looks like a container but has no state yet (the runtime writes state.json after it made
 * the cgroup) is retried with back-off: a runtime-specific layout becomes a container with
 * unknown metadata after {@value #CONFIRMED_WAIT_MS} ms, a bare candidate ({@code /<id>}) a host
 * cgroup after {@value #CANDIDATE_WAIT_MS} ms. The agent's own cgroup is always a host cgroup.
 *
 * <p>{@link #tick} (pipeline thread, ~1/s) counts each container's processes from
 * {@code cgroup.procs}; a gone or empty cgroup stops the container: listeners are told, its
 * metrics removed, and it stays resolvable for {@value #STOPPED_GRACE_MS} ms for late events.
 * HTTP threads read an immutable {@link #snapshot()} published through a volatile field.
 */
public final class CgroupContainerResolver implements ContainerResolver {
    static final long CONFIRMED_WAIT_MS = 5_000;
    static final long CANDIDATE_WAIT_MS = 30_000;
    static final long STOPPED_GRACE_MS = 5_000;
    private static final long FIRST_RETRY_MS = 250;
    /** How long after a candidate cgroup's first event every event looks for its runtime state again. */
    private static final long EAGER_MS = 1000;
    private static final int MAX_HOST_ENTRIES = 16_384;
    private static final ContainerInfo HOST_INFO = new ContainerInfo("host", ContainerInfo.UNKNOWN, "/",
            ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN,
            ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN, ContainerInfo.UNKNOWN, null);

    private final ProcFs procFs;
    private final CgroupFs cgroupFs;
    private final RuntimeStateReader runtimes;
    private final MeterRegistry registry;
    private final LongSupplier nanoClock;
    private final long v2RootId;
    private final long hz;
    private final long bootMillis;
    /** Sentinel for host cgroups in {@link #byKey}. */
    private final ContainerState host = new ContainerState(0, HOST_INFO, 0, 0);
    private final LongObjectHashMap<ContainerState> byKey = new LongObjectHashMap<>();
    private final LongObjectHashMap<Pending> pending = new LongObjectHashMap<>();
    private final List<Tracked> live = new ArrayList<>();
    private final List<Tracked> stopped = new ArrayList<>();
    private final Map<List<String>, ProcessGauge> processGauges = new HashMap<>();
    private final List<ContainerListener> listeners = new CopyOnWriteArrayList<>();
    private volatile java.util.function.LongConsumer hostListener;
    private final long selfKey;
    private int hostEntries;
    private volatile List<ContainerSnapshot> snapshot = List.of();
    private volatile int aliveCount;
    private final Counter misses;
    private final Counter pidLookups;

    public CgroupContainerResolver(ProcFs procFs, CgroupFs cgroupFs, RuntimeStateReader runtimes, MeterRegistry registry) {
        this(procFs, cgroupFs, runtimes, registry, System::nanoTime);
    }

    public CgroupContainerResolver(ProcFs procFs, CgroupFs cgroupFs, RuntimeStateReader runtimes, MeterRegistry registry,
            LongSupplier nanoClock) {
        this.procFs = procFs;
        this.cgroupFs = cgroupFs;
        this.runtimes = runtimes;
        this.registry = registry;
        this.nanoClock = nanoClock;
        this.v2RootId = cgroupFs.v2RootId();
        this.hz = ticksPerSecond();
        long boot = procFs.bootTimeSeconds();
        this.bootMillis = boot > 0 ? boot * 1000 : 0;
        this.selfKey = ownKey();
        if (selfKey != 0) markHost(selfKey);
        Gauge.builder("driftwatch.containers", this, r -> r.aliveCount).description("Containers running on this node")
                .strongReference(true).register(registry);
        misses = Counter.builder("driftwatch.resolver.misses")
                .description("Events whose cgroup was not known yet (cgroup and runtime state read)").register(registry);
        pidLookups = Counter.builder("driftwatch.resolver.pid.lookups")
                .description("Events without cgroup ids, attributed through /proc/<pid>/cgroup").register(registry);
    }

    private static long ticksPerSecond() {
        try {
            long v = oshi.software.os.linux.LinuxOperatingSystem.getHz();
            return v > 0 ? v : 100;
        } catch (Throwable t) { // oshi unavailable on this platform
            return 100;
        }
    }

    private long ownKey() {
        int self = procFs.selfPid();
        if (self <= 0) return 0;
        List<CgroupLine> lines = procFs.cgroup(self);
        if (lines == null) return 0;
        long[] ids = cgroupFs.ids(lines);
        return cgroupFs.key(ids[0], ids[1]);
    }

    // ---- hot path ------------------------------------------------------------------------------

    @Override
    public ContainerState resolve(EventView e) {
        long key = ContainerState.key(e.cgroupId(), e.cgroupV1Id(), v2RootId);
        if (key == 0) return resolveByPid(e.tgid());
        ContainerState c = byKey.get(key);
        if (c != null) return c == host ? null : c;
        return miss(key, e.tgid());
    }

    /** The container of cgroup ids (e.g. from the process table), same rules as events. */
    public ContainerState resolve(long cgroupId, long cgroupV1Id, int tgid) {
        long key = ContainerState.key(cgroupId, cgroupV1Id, v2RootId);
        if (key == 0) return resolveByPid(tgid);
        ContainerState c = byKey.get(key);
        if (c != null) return c == host ? null : c;
        return miss(key, tgid);
    }

    private ContainerState resolveByPid(int tgid) {
        if (tgid <= 0) return null;
        pidLookups.increment();
        List<CgroupLine> lines = procFs.cgroup(tgid);
        if (lines == null) return null;
        long[] ids = cgroupFs.ids(lines);
        long key = cgroupFs.key(ids[0], ids[1]);
        if (key == 0) return null;
        ContainerState c = byKey.get(key);
        if (c != null) return c == host ? null : c;
        return miss(key, tgid);
    }

    // ---- miss path (allocates, does I/O) ---------------------------------------------------------

    private ContainerState miss(long key, int tgid) {
        long now = nanoClock.getAsLong();
        Pending p = pending.get(key);
        if (p != null && now < p.retryAt) return null;
        misses.increment();
        if (key == selfKey) {
            markHost(key);
            return null;
        }
        CgroupRef ref = p != null ? p.ref : locate(key, tgid);
        if (ref == null) {
            markHost(key); // the cgroup is gone: nothing to attribute
            return null;
        }
        Match m = CgroupPaths.best(ref.paths);
        if (m == null) {
            markHost(key);
            return null;
        }
        RuntimeState st = runtimes.lookup(m.id());
        if (st == null) {
            long first = p == null ? now : p.firstSeen;
            long waitMs = m.confirmed() ? CONFIRMED_WAIT_MS : CANDIDATE_WAIT_MS;
            if (now - first < waitMs * 1_000_000L) {
                // while a container starts, its runtime writes its state moments before the entrypoint's
                // exec: look again at every event for the first second (a few stat calls), so the
                // container's first own events are attributed; back off after that
                long backoff = now - first < EAGER_MS * 1_000_000L ? 0
                        : p == null || p.backoff == 0 ? FIRST_RETRY_MS * 1_000_000L : Math.min(p.backoff * 2, 8_000_000_000L);
                pending.put(key, new Pending(ref, first, now + backoff, backoff));
                return null;
            }
            pending.remove(key);
            if (!m.confirmed()) {
                markHost(key);
                return null;
            }
        }
        pending.remove(key);
        return create(key, ref, m, st);
    }

    /** Finds the cgroup of a key: the event's process, else a walk of the hierarchy by inode. */
    private CgroupRef locate(long key, int tgid) {
        if (tgid > 0) {
            List<CgroupLine> lines = procFs.cgroup(tgid);
            if (lines != null) {
                long[] ids = cgroupFs.ids(lines);
                if (cgroupFs.key(ids[0], ids[1]) == key) {
                    return new CgroupRef(CgroupParser.unifiedPath(lines), CgroupParser.v1Path(lines, "memory"),
                            CgroupParser.attributionPaths(lines), ids[0], ids[1]);
                }
            }
        }
        boolean v1 = key < 0;
        long ino = key & Long.MAX_VALUE;
        String path = cgroupFs.findPath(ino, v1);
        if (path == null) return null;
        return v1 ? new CgroupRef(null, path, List.of(path), 0, ino) : new CgroupRef(path, null, List.of(path), ino, 0);
    }

    private ContainerState create(long key, CgroupRef ref, Match m, RuntimeState st) {
        ContainerInfo info = ContainerMetadata.info(m, st);
        long v2 = ref.v2Id == v2RootId ? 0 : ref.v2Id;
        ContainerState c = new ContainerState(key, info, v2, ref.v1Id);
        Path dir = key >= 0 ? cgroupFs.v2Dir(ref.v2Path) : cgroupFs.memoryDir(ref.v1Path);
        c.firstSeenKtimeNs = nanoClock.getAsLong();
        c.initPid = st != null && st.initPid() > 0 && procFs.stat(st.initPid()) != null ? st.initPid() : findInit(dir);
        c.startedMillis = st != null && st.createdMillis() > 0 ? st.createdMillis() : startMillis(c.initPid);
        c.processes = Math.max(0, CgroupFs.processCount(dir));
        Tracked t = new Tracked(c, dir);
        byKey.put(key, c);
        live.add(t);
        addGauge(t);
        aliveCount = live.size();
        Log.info("container started", "container_id", info.shortId(), "runtime", info.runtime(), "namespace",
                info.namespace(), "pod", info.pod(), "container", info.container(), "workload", info.workload(),
                "init_pid", c.initPid, "cgroup", info.cgroupPath());
        for (ContainerListener l : listeners) {
            try {
                l.started(c);
            } catch (RuntimeException ex) {
                Log.warn("container listener failed", "error", ex.toString());
            }
        }
        publish();
        return c;
    }

    /** The container's init: the process of the cgroup that is pid 1 in its pid namespace. */
    private int findInit(Path dir) {
        int[] pids = CgroupFs.pids(dir);
        for (int i = 0; i < pids.length && i < 256; i++) {
            Status s = procFs.status(pids[i]);
            if (s != null && s.innermostPid() == 1) return pids[i];
        }
        return 0;
    }

    private long startMillis(int pid) {
        if (pid > 0 && bootMillis > 0) {
            Stat s = procFs.stat(pid);
            if (s != null) return bootMillis + s.startTicks() * 1000 / hz;
        }
        return System.currentTimeMillis();
    }

    private void markHost(long key) {
        if (hostEntries >= MAX_HOST_ENTRIES) {
            List<Long> drop = new ArrayList<>();
            for (LongObjectMap.PrimitiveEntry<ContainerState> e : byKey.entries()) if (e.value() == host) drop.add(e.key());
            for (long k : drop) byKey.remove(k);
            hostEntries = 0;
        }
        pending.remove(key);
        if (byKey.put(key, host) == null) {
            hostEntries++;
            java.util.function.LongConsumer l = hostListener;
            if (l != null) l.accept(key);
        }
    }

    /**
     * Called (on the pipeline thread) with the key of each cgroup found to be outside any
     * container, once per key while it is remembered; the agent passes it to the kernel's host
     * filter. The agent's own cgroup, found at construction, is passed at once.
     */
    public void onHost(java.util.function.LongConsumer listener) {
        hostListener = listener;
        if (listener != null && selfKey != 0) listener.accept(selfKey);
    }

    // ---- housekeeping -----------------------------------------------------------------------------

    @Override
    public void tick(long nowMillis) {
        long now = nanoClock.getAsLong();
        for (Iterator<Tracked> it = live.iterator(); it.hasNext(); ) {
            Tracked t = it.next();
            int n = CgroupFs.processCount(t.dir);
            if (n <= 0) {
                it.remove();
                stop(t, now);
                continue;
            }
            t.state.processes = n;
            if (t.state.initPid == 0 || procFs.stat(t.state.initPid) == null) t.state.initPid = findInit(t.dir);
        }
        for (Iterator<Tracked> it = stopped.iterator(); it.hasNext(); ) {
            Tracked t = it.next();
            if (now - t.stoppedAt >= STOPPED_GRACE_MS * 1_000_000L) {
                it.remove();
                if (byKey.get(t.state.key) == t.state) byKey.remove(t.state.key);
                cgroupFs.forget(t.dir);
            }
        }
        if (!pending.isEmpty()) {
            List<Long> due = new ArrayList<>();
            for (LongObjectMap.PrimitiveEntry<Pending> e : pending.entries()) if (now >= e.value().retryAt) due.add(e.key());
            for (long k : due) miss(k, 0); // the state may have appeared meanwhile
        }
        for (ProcessGauge g : processGauges.values()) g.update();
        aliveCount = live.size();
        publish();
    }

    private void stop(Tracked t, long now) {
        ContainerState c = t.state;
        c.alive = false;
        c.processes = 0;
        t.stoppedAt = now;
        stopped.add(t);
        removeGauge(t);
        aliveCount = live.size();
        Log.info("container stopped", "container_id", c.info.shortId(), "namespace", c.info.namespace(), "pod",
                c.info.pod(), "container", c.info.container(), "events", c.events);
        for (ContainerListener l : listeners) {
            try {
                l.stopped(c);
            } catch (RuntimeException ex) {
                Log.warn("container listener failed", "error", ex.toString());
            }
        }
    }

    private void publish() {
        List<ContainerSnapshot> out = new ArrayList<>(live.size());
        for (Tracked t : live) {
            ContainerState c = t.state;
            out.add(new ContainerSnapshot(c.info, c.cgroupId != 0 ? c.cgroupId : c.cgroupV1Id, c.initPid, c.processes,
                    c.events, c.startedMillis, c.profileSlot instanceof io.driftwatch.profile.ProfileBinding
                            ? ((io.driftwatch.profile.ProfileBinding) c.profileSlot).profile().key().key() : null));
        }
        snapshot = List.copyOf(out);
    }

    @Override
    public List<ContainerSnapshot> snapshot() {
        return snapshot;
    }

    @Override
    public void addListener(ContainerListener listener) {
        listeners.add(listener);
    }

    /** Containers currently running (pipeline thread only). */
    public List<ContainerState> running() {
        List<ContainerState> out = new ArrayList<>();
        for (Tracked t : live) out.add(t.state);
        return out;
    }

    /** The key the agent's own process has (0 when unknown); never attributed to a container. */
    public long selfKey() {
        return selfKey;
    }

    // ---- per-container process gauges ------------------------------------------------------------

    private void addGauge(Tracked t) {
        ContainerInfo i = t.state.info;
        List<String> tags = List.of(i.namespace(), i.pod(), i.container());
        ProcessGauge g = processGauges.get(tags);
        if (g == null) {
            g = new ProcessGauge();
            g.meter = Gauge.builder("driftwatch.container.processes", g, x -> x.value)
                    .description("Processes in the container's cgroup").tag("namespace", i.namespace())
                    .tag("pod", i.pod()).tag("container", i.container()).strongReference(true).register(registry);
            processGauges.put(tags, g);
        }
        g.members.add(t);
        t.gauge = g;
        t.gaugeTags = tags;
        g.update();
    }

    private void removeGauge(Tracked t) {
        ProcessGauge g = t.gauge;
        if (g == null) return;
        g.members.remove(t);
        if (g.members.isEmpty()) {
            registry.remove(g.meter);
            processGauges.remove(t.gaugeTags);
        } else {
            g.update();
        }
        t.gauge = null;
    }

    /** One gauge per (namespace, pod, container); containers sharing the tags are summed. */
    private static final class ProcessGauge {
        final List<Tracked> members = new ArrayList<>(1);
        Gauge meter;
        volatile double value;

        void update() {
            double v = 0;
            for (Tracked t : members) v += t.state.processes;
            value = v;
        }
    }

    private static final class Tracked {
        final ContainerState state;
        final Path dir;
        ProcessGauge gauge;
        List<String> gaugeTags;
        long stoppedAt;

        Tracked(ContainerState state, Path dir) {
            this.state = state;
            this.dir = dir;
        }
    }

    private record CgroupRef(String v2Path, String v1Path, List<String> paths, long v2Id, long v1Id) {}

    private record Pending(CgroupRef ref, long firstSeen, long retryAt, long backoff) {}
}
