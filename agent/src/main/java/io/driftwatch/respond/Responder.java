package io.driftwatch.respond;

import static io.driftwatch.bridge.EventLayout.*;

import io.driftwatch.bridge.Access;
import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.Hashing;
import io.driftwatch.container.ContainerInfo;
import io.driftwatch.detect.DetectionListener;
import io.driftwatch.detect.Detector;
import io.driftwatch.detect.Deviation;
import io.driftwatch.log.Log;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.ProcessLineage;
import io.driftwatch.profile.CompiledProfile;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.Mode;
import io.driftwatch.profile.NetPattern;
import io.driftwatch.profile.PathPattern;
import io.driftwatch.profile.ProfileStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.util.collection.LongObjectHashMap;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Turns the detector's verdicts into effects (pipeline thread): deviation records (aggregated,
 * to every sink), {@code driftwatch_deviations_total}, a proposal per distinct deviation, the
 * container's deviation window (so the learner marks what it learns meanwhile as suspect), and
 * in enforce mode the profile's action (freeze/kill through the {@link ActionExecutor}). For
 * known behaviour it only asks the kernel to suppress what is already known.
 */
public final class Responder implements DetectionListener {
    /** A container's deviation window closes after this long without a new deviation. */
    static final long WINDOW_MS = 5 * 60_000L;

    /** Hook for kernel-side suppression of known events (null: none). */
    public interface Suppressor {
        /** Asks the kernel to drop further events like {@code ev} of its cgroup; false if it has no key for it. */
        boolean suppress(EventView ev);

        /** Forgets everything suppressed for the cgroup (its profile changed). */
        void clear(long cgroupId);
    }

    private final String node;
    private final ProfileStore store;
    private final ProcessLineage lineage;
    private final List<DeviationSink> sinks;
    private final ActionExecutor actions;
    private final String defaultAction;
    private final Suppressor suppressor;
    private final LongSupplier clock;
    private final MeterRegistry registry;
    private final DeviationAggregator aggregator;
    private final Map<String, Counter> counters = new HashMap<>();
    private final Timer latency;
    private final LongObjectHashMap<CompiledProfile> suppressedFor = new LongObjectHashMap<>();
    private final LongObjectHashMap<Window> windows = new LongObjectHashMap<>();

    /** An open deviation window of one container. */
    private static final class Window {
        final ContainerState container;
        long lastMs;

        Window(ContainerState container, long lastMs) {
            this.container = container;
            this.lastMs = lastMs;
        }
    }

    public Responder(String node, ProfileStore store, ProcessLineage lineage, List<DeviationSink> sinks,
            ActionExecutor actions, String defaultAction, Suppressor suppressor, MeterRegistry registry,
            LongSupplier clockMillis) {
        this.node = node;
        this.store = store;
        this.lineage = lineage;
        this.sinks = List.copyOf(sinks);
        this.actions = actions;
        this.defaultAction = defaultAction;
        this.suppressor = suppressor;
        this.clock = clockMillis;
        this.registry = registry;
        this.aggregator = new DeviationAggregator(10_000, 10 * 60_000L, this::emit);
        this.latency = Timer.builder("driftwatch.detection.latency")
                .description("Time from the kernel event to its deviation record").publishPercentiles(0.5, 0.99)
                .register(registry);
    }

    @Override
    public void known(EventView ev, ContainerState c, Dimension d, CompiledProfile p) {
        if (suppressor == null || ev.source() != SRC_BPF || d == Dimension.EXEC || c.cgroupId == 0) return;
        CompiledProfile last = suppressedFor.get(c.key);
        if (last != p) {
            if (last != null) suppressor.clear(c.cgroupId); // the profile changed: what was known may not be
            suppressedFor.put(c.key, p);
        }
        suppressor.suppress(ev);
    }

    @Override
    public void deviation(EventView ev, ContainerState c, Dimension d, CompiledProfile p, int reason) {
        long now = clock.getAsLong();
        long valueHash = valueHash(ev, d);
        // one aggregate per (container, dimension, value): a connect the kernel refused is reported
        // by the guard (denied, prevented) and again by the syscall's exit (-EPERM): one record
        long key = Hashing.combine(Hashing.combine(valueHash, d.ordinal()), c.key);
        Window w = windows.get(c.key);
        if (w == null) {
            windows.put(c.key, new Window(c, now));
            store.openDeviation(c, d.kind() + " deviation");
        } else {
            w.lastMs = now;
        }
        if (aggregator.repeat(key, now)) return;

        // first occurrence of this value in this container: build the record (allocates)
        String value = value(ev, d);
        String action = action(ev, p, d, reason);
        ContainerInfo info = c.info;
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("dimension", d.tag());
        detail.put("reason", Detector.reasonText(reason));
        detail.put("source", EventView.sourceName(ev.source()));
        if (ev.op() == OP_OPEN) detail.put("access", Access.describe(ev.access()));
        if (ev.op() == OP_EXEC && ev.argvLen() > 0) detail.put("argv", bounded(ev.argv()));
        if (ev.op() == OP_CONNECT) detail.put("result", ev.netRet());
        if (reason == Detector.DENIED) detail.put("prevented", true);
        String exe = ev.op() == OP_EXEC ? ev.filename() : lineage.exe(ev.tgid());
        Deviation dev = new Deviation(Instant.ofEpochMilli(now), node, info.id(), info.namespace(), info.pod(),
                info.container(), info.workload(), info.image(), d.kind(), value, ev.tgid(), ev.comm(), exe,
                lineage.parentExe(ev.tgid()), p.mode().text(), action, p.key(), detail, 1, Instant.ofEpochMilli(now));
        aggregator.first(key, dev, counter(info, d.kind(), action), now);
        latency.record(System.nanoTime() - ev.ktimeNs(), TimeUnit.NANOSECONDS);
        if (reason != Detector.DENIED) {
            Map<String, Object> evidence = new LinkedHashMap<>();
            evidence.put("container_id", info.id());
            evidence.put("pid", ev.tgid());
            evidence.put("comm", dev.comm());
            if (exe != null) evidence.put("exe", exe);
            store.propose(p.key(), d, d.isPath() ? PathPattern.escape(value) : value, evidence);
        }
        if (("freeze".equals(action) || "kill".equals(action)) && actions != null) {
            actions.submit(new ActionExecutor.Request("kill".equals(action) ? ActionExecutor.Action.KILL
                    : ActionExecutor.Action.FREEZE, info.id(), info.cgroupPath(), p.key(),
                    d.kind() + " " + value, ev.ktimeNs(), "detector"));
        }
    }

    /** Periodic (pipeline thread): repeat summaries, closing quiet deviation windows. */
    public void tick() {
        long now = clock.getAsLong();
        aggregator.flush(now);
        List<Window> closed = new ArrayList<>();
        for (Window w : windows.values()) {
            if (now - w.lastMs >= WINDOW_MS) closed.add(w);
        }
        for (Window w : closed) {
            windows.remove(w.container.key);
            store.closeDeviation(w.container);
        }
    }

    /** Forgets per-container state of a stopped container. */
    public void stopped(ContainerState c) {
        windows.remove(c.key);
        suppressedFor.remove(c.key);
    }

    private void emit(Deviation d) {
        for (DeviationSink s : sinks) {
            try {
                s.emit(d);
            } catch (RuntimeException e) {
                Log.warn("deviation sink failed", "sink", s.getClass().getSimpleName(), "error", e.toString());
            }
        }
    }

    private String action(EventView ev, CompiledProfile p, Dimension d, int reason) {
        if (p.mode() != Mode.ENFORCE || !p.enforces(d)) return reason == Detector.DENIED ? "deny" : "alert";
        // enforce: a denied access was already prevented; freeze/kill still apply to the container
        if (reason == Detector.DENIED && "alert".equals(defaultAction)) return "deny";
        return defaultAction;
    }

    private Counter counter(ContainerInfo info, String kind, String action) {
        String k = info.namespace() + '\0' + info.workload() + '\0' + kind + '\0' + action;
        return counters.computeIfAbsent(k, x -> Counter.builder("driftwatch.deviations")
                .description("Deviations from learned profiles, by namespace, workload, kind and action")
                .tag("namespace", info.namespace()).tag("workload", info.workload()).tag("kind", kind)
                .tag("action", action).register(registry));
    }

    static long valueHash(EventView ev, Dimension d) {
        switch (d) {
            case EXEC: return ev.op() == OP_EXEC ? ev.filenameHash() : ev.pathHash();
            case FILE_READ: case FILE_WRITE: return ev.pathHash();
            case CONNECT: return NetPattern.peerKey(ev);
            default: return NetPattern.portKey(ev.proto(), ev.lport());
        }
    }

    static String value(EventView ev, Dimension d) {
        switch (d) {
            case EXEC: return ev.op() == OP_EXEC ? ev.filename() : ev.path();
            case FILE_READ: case FILE_WRITE: return ev.path();
            case CONNECT: return NetPattern.peerText(ev);
            default: return NetPattern.portText(ev.proto(), ev.lport());
        }
    }

    private static List<String> bounded(List<String> argv) {
        List<String> out = new ArrayList<>();
        int total = 0;
        for (String a : argv) {
            if (out.size() >= 16 || total + a.length() > 512) {
                out.add("...");
                break;
            }
            out.add(a);
            total += a.length();
        }
        return out;
    }
}
