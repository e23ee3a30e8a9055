package io.driftwatch.proc;

import static io.driftwatch.bridge.EventLayout.F_THREAD;
import static io.driftwatch.bridge.EventLayout.OP_EXEC;
import static io.driftwatch.bridge.EventLayout.OP_EXIT;
import static io.driftwatch.bridge.EventLayout.OP_FORK;

import io.driftwatch.bridge.EventView;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.Dispatcher;
import io.driftwatch.pipeline.ProcessLineage;
import io.driftwatch.proc.CgroupParser.CgroupLine;
import io.driftwatch.proc.StatParser.Stat;
import io.driftwatch.proc.StatusParser.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import io.netty.util.collection.LongObjectHashMap;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The process table: tgid → (parent, executable, cgroup key, lineage), fed by exec/fork/exit
 * records of every source and by /proc for processes it has not seen. Pipeline thread only.
 *
 * <p><b>Lineage.</b> A process descends from its container's init when its parent chain reaches
 * {@link ContainerState#initPid} without leaving the container's cgroup. {@code runc exec} and
 * {@code kubectl exec} sessions are started by a process outside the container (runc, the
 * shim), so their chain leaves the container and they are not init descendants; nor are their
 * children. The answer is decided once per process and remembered, because an orphaned
 * exec-session process is later re-parented to the container's init (the pid namespace's
 * reaper) and its current ppid would then lie. A process first met through /proc (agent start,
 * or missed events) is judged by its ppid at that time. Unknown parents count as "not init".
 * When the init pid is not known the in-container process whose parent is outside and whose
 * innermost NSpid is 1 is taken as init.
 *
 * <p><b>Memory.</b> At most {@code maxProcesses} entries (exited ones are dropped first, then
 * new ones are refused and counted); exited processes stay {@code graceNanos} so late events
 * still resolve their exe and parent. Entry objects are pooled and executable paths interned
 * by the hash of their bytes, so exec/fork/exit of known binaries allocate nothing.
 */
public final class ProcessTable implements ProcessLineage {
    public static final int DEFAULT_MAX_PROCESSES = 65_536;
    public static final long DEFAULT_GRACE_NANOS = 5_000_000_000L;
    private static final int MAX_DEPTH = 64;
    private static final int MAX_EXES = 8192;
    private static final int POOL = 1024;
    static final byte UNKNOWN = 0, YES = 1, NO = 2;

    /** One process. */
    static final class Proc {
        int tgid;
        int ppid;
        String exe;
        long key;
        byte lineage;
        long lineageKey;
        long exitedAt;

        void reset(int tgid) {
            this.tgid = tgid;
            ppid = 0;
            exe = null;
            key = 0;
            lineage = UNKNOWN;
            lineageKey = 0;
            exitedAt = 0;
        }
    }

    private final ProcFs procFs;
    private final CgroupFs cgroupFs;
    private final int maxProcesses;
    private final long graceNanos;
    private final LongSupplier nanoClock;
    private final IntObjectHashMap<Proc> procs = new IntObjectHashMap<>(1024);
    private final LongObjectHashMap<String> exes = new LongObjectHashMap<>(512);
    private final ArrayDeque<Proc> pool = new ArrayDeque<>();
    private final Proc[] chain = new Proc[MAX_DEPTH];
    private int[] expired = new int[256];
    private final Counter refused;
    private final Counter procLookups;

    public ProcessTable(ProcFs procFs, CgroupFs cgroupFs, MeterRegistry registry) {
        this(procFs, cgroupFs, registry, DEFAULT_MAX_PROCESSES, DEFAULT_GRACE_NANOS, System::nanoTime);
    }

    public ProcessTable(ProcFs procFs, CgroupFs cgroupFs, MeterRegistry registry, int maxProcesses, long graceNanos,
            LongSupplier nanoClock) {
        this.procFs = procFs;
        this.cgroupFs = cgroupFs;
        this.maxProcesses = maxProcesses;
        this.graceNanos = graceNanos;
        this.nanoClock = nanoClock;
        Gauge.builder("driftwatch.process.table.size", procs, IntObjectHashMap::size)
                .description("Processes in the process table").strongReference(true).register(registry);
        refused = Counter.builder("driftwatch.process.table.refused")
                .description("Processes not tracked because the process table was full").register(registry);
        procLookups = Counter.builder("driftwatch.process.table.proc.lookups")
                .description("Processes looked up in /proc because no event introduced them").register(registry);
    }

    /** Registers the exec, fork and exit handlers. */
    public void register(Dispatcher dispatcher) {
        dispatcher.register(OP_EXEC, this::onExec);
        dispatcher.register(OP_FORK, this::onFork);
        dispatcher.register(OP_EXIT, this::onExit);
    }

    // ---- event handlers --------------------------------------------------------------------------

    public void onExec(EventView e, ContainerState container) {
        if (e.execRet() != 0) return; // failed exec: the process still runs the old image
        int tgid = e.tgid();
        Proc p = procs.get(tgid);
        if (p == null || p.exitedAt != 0) {
            p = add(tgid);
            if (p == null) return;
        }
        if (e.ppid() > 0) p.ppid = e.ppid();
        p.exe = intern(e);
        long key = cgroupFs.key(e.cgroupId(), e.cgroupV1Id());
        if (key != p.key) { // joined another cgroup before exec (runc exec, container init)
            p.key = key;
            p.lineage = UNKNOWN;
        }
    }

    public void onFork(EventView e, ContainerState container) {
        int child = e.childTgid();
        int parentTgid = e.tgid();
        if (child <= 0 || child == parentTgid) return; // a thread
        Proc parent = procs.get(parentTgid);
        Proc c = procs.get(child);
        if (c == null || c.exitedAt != 0) {
            c = add(child);
            if (c == null) return;
        }
        c.ppid = parentTgid;
        c.key = cgroupFs.key(e.cgroupId(), e.cgroupV1Id());
        c.exe = parent != null ? parent.exe : c.exe;
        if (parent != null && parent.key == c.key) {
            c.lineage = parent.lineage;
            c.lineageKey = parent.lineageKey;
        }
    }

    public void onExit(EventView e, ContainerState container) {
        if (e.hasFlag(F_THREAD) || (e.pid() != 0 && e.pid() != e.tgid())) return;
        Proc p = procs.get(e.tgid());
        if (p != null && p.exitedAt == 0) p.exitedAt = Math.max(1, nanoClock.getAsLong());
    }

    /** Drops processes that exited more than the grace period ago. */
    public void expire() {
        expire(nanoClock.getAsLong());
    }

    void expire(long now) {
        int n = 0;
        for (IntObjectMap.PrimitiveEntry<Proc> en : procs.entries()) {
            Proc p = en.value();
            if (p.exitedAt != 0 && now - p.exitedAt >= graceNanos) {
                if (n == expired.length) expired = java.util.Arrays.copyOf(expired, n * 2);
                expired[n++] = en.key();
            }
        }
        for (int i = 0; i < n; i++) release(procs.remove(expired[i]));
    }

    public int size() {
        return procs.size();
    }

    // ---- ProcessLineage ----------------------------------------------------------------------------

    @Override
    public boolean isInitDescendant(ContainerState container, int tgid, int ppid) {
        if (container == null) return false;
        Proc p = find(tgid);
        if (p != null) return decide(container, p);
        Proc parent = find(ppid);
        if (parent == null) return false;
        if (container.initPid != 0 && parent.tgid == container.initPid) return true;
        return parent.key == container.key && decide(container, parent);
    }

    @Override
    public String exe(int tgid) {
        Proc p = find(tgid);
        return p == null ? null : p.exe;
    }

    @Override
    public String parentExe(int tgid) {
        Proc p = find(tgid);
        if (p == null || p.ppid <= 0) return null;
        Proc parent = find(p.ppid);
        return parent == null ? null : parent.exe;
    }

    /** Parent pid as known to the table (or /proc), or -1. */
    public int ppid(int tgid) {
        Proc p = find(tgid);
        return p == null ? -1 : p.ppid;
    }

    private boolean decide(ContainerState c, Proc start) {
        int n = 0;
        byte result = UNKNOWN;
        Proc cur = start;
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            if (cur.lineage != UNKNOWN && cur.lineageKey == c.key) {
                result = cur.lineage;
                break;
            }
            if (c.initPid != 0 && cur.tgid == c.initPid) {
                chain[n++] = cur;
                result = YES;
                break;
            }
            if (cur.key != c.key) { // left the container: the process below it was entered from outside
                if (c.initPid == 0 && n > 0 && isNamespaceInit(chain[n - 1].tgid)) {
                    c.initPid = chain[n - 1].tgid;
                    result = YES;
                } else {
                    result = NO;
                }
                break;
            }
            chain[n++] = cur;
            Proc parent = cur.ppid > 0 && cur.ppid != cur.tgid ? find(cur.ppid) : null;
            if (parent == null) {
                result = c.initPid == 0 && isNamespaceInit(cur.tgid) ? YES : NO;
                if (result == YES) c.initPid = cur.tgid;
                break;
            }
            cur = parent;
        }
        if (result == UNKNOWN) result = NO;
        for (int i = 0; i < n; i++) {
            chain[i].lineage = result;
            chain[i].lineageKey = c.key;
            chain[i] = null;
        }
        return result == YES;
    }

    private boolean isNamespaceInit(int tgid) {
        Status s = procFs.status(tgid);
        return s != null && s.innermostPid() == 1 && s.nspid().length > 1;
    }

    // ---- storage ---------------------------------------------------------------------------------

    /** The process from the table, else from /proc (then remembered); null when gone. */
    Proc find(int tgid) {
        if (tgid <= 0) return null;
        Proc p = procs.get(tgid);
        if (p != null) return p;
        Stat st = procFs.stat(tgid);
        if (st == null) return null;
        procLookups.increment();
        List<CgroupLine> lines = procFs.cgroup(tgid);
        ProcFs.Exe exe = procFs.exe(tgid);
        p = add(tgid);
        if (p == null) p = new Proc(); // table full: answer this question, remember nothing
        p.tgid = tgid;
        p.ppid = st.ppid();
        p.exe = exe == null ? null : exe.path();
        if (lines != null) {
            long[] ids = cgroupFs.ids(lines);
            p.key = cgroupFs.key(ids[0], ids[1]);
        }
        return p;
    }

    private Proc add(int tgid) {
        if (procs.size() >= maxProcesses) {
            expire(nanoClock.getAsLong());
            if (procs.size() >= maxProcesses) {
                refused.increment();
                return null;
            }
        }
        Proc p = pool.poll();
        if (p == null) p = new Proc();
        p.reset(tgid);
        Proc old = procs.put(tgid, p);
        if (old != null && old != p) release(old);
        return p;
    }

    private void release(Proc p) {
        if (p != null && pool.size() < POOL) {
            p.exe = null;
            pool.push(p);
        }
    }

    private String intern(EventView e) {
        long h = e.filenameHash();
        String s = exes.get(h);
        if (s == null) {
            s = e.filename();
            if (exes.size() >= MAX_EXES) exes.clear();
            exes.put(h, s);
        }
        return s;
    }

    /** Test access: the entry of a tgid without touching /proc. */
    Proc peek(int tgid) {
        return procs.get(tgid);
    }
}
