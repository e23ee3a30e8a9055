package io.driftwatch.sensor;

import io.driftwatch.bridge.Bridge;
import io.driftwatch.bridge.BridgeConfig;
import io.driftwatch.bridge.BridgeLayout;
import io.driftwatch.config.AgentConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Probes and starts the kernel sources (eBPF, fanotify) through one bridge context, and reports
 * for each whether it runs and why not: the library is missing, no privileges, no BTF, tracefs
 * not mounted, disabled by configuration... Never fails start-up for a missing capability unless
 * the configuration says {@code on} (then it throws {@link IllegalStateException} with the reason).
 * Without either source the agent runs on /proc alone, and the statuses say so.
 */
public final class KernelSources implements AutoCloseable {
    private final List<EventSource> sources = new ArrayList<>();
    private final List<SourceStatus> statuses = new ArrayList<>();
    private Bridge bridge;
    private BpfSource bpf;
    private FanotifySource fanotify;
    private KernelEnforcer enforcer;
    private String enforcerUnavailable = "not started";
    private int refs;

    private KernelSources() {}

    /**
     * From the agent's configuration: sources.bpf, sources.fanotify, sources.suppression,
     * sources.ring_size_mb, sources.bpf_compat.
     */
    public static KernelSources open(AgentConfig config, MeterRegistry registry) {
        String bpfMode = config.get(AgentConfig.SOURCES_BPF);
        String fanMode = config.get(AgentConfig.SOURCES_FANOTIFY);
        BridgeConfig bc = BridgeConfig.defaults().withSources(!bpfMode.equals("off"), !fanMode.equals("off"))
                .withSuppression(config.get(AgentConfig.SOURCES_SUPPRESSION))
                .withRing(BridgeConfig.ringBytesForMb(config.get(AgentConfig.SOURCES_RING_MB)), 0)
                .withCompatArgs(config.get(AgentConfig.SOURCES_BPF_COMPAT));
        KernelSources k = open(bc, registry);
        k.require("bpf", bpfMode);
        k.require("fanotify", fanMode);
        return k;
    }

    public static KernelSources open(BridgeConfig bc, MeterRegistry registry) {
        KernelSources k = new KernelSources();
        if (!Bridge.isAvailable()) {
            String why = "native bridge not loaded: " + Bridge.unavailabilityCause().getMessage();
            k.statuses.add(bc.bpf() ? SourceStatus.unavailable("bpf", why)
                    : SourceStatus.disabled("bpf", "disabled by configuration (sources.bpf: off)"));
            k.statuses.add(bc.fanotify() ? SourceStatus.unavailable("fanotify", why)
                    : SourceStatus.disabled("fanotify", "disabled by configuration (sources.fanotify: off)"));
            k.enforcerUnavailable = why;
            return k;
        }
        try {
            k.bridge = Bridge.open(bc);
        } catch (IOException | RuntimeException e) {
            String why = "bridge failed to open: " + e.getMessage();
            k.statuses.add(SourceStatus.unavailable("bpf", why));
            k.statuses.add(SourceStatus.unavailable("fanotify", why));
            k.enforcerUnavailable = why;
            return k;
        }
        Bridge.State b = k.bridge.status(BridgeLayout.POLL_BPF);
        Bridge.State f = k.bridge.status(BridgeLayout.POLL_FANOTIFY);
        SourceStatus bs = toStatus("bpf", b);
        SourceStatus fs = toStatus("fanotify", f);
        k.statuses.add(bs);
        k.statuses.add(fs);
        BridgeMetrics metrics = new BridgeMetrics(registry, b.usable(), f.usable());
        if (b.usable()) {
            k.bpf = new BpfSource(k, k.bridge, bs, metrics);
            k.sources.add(k.bpf);
            k.refs++;
        }
        if (f.usable()) {
            k.fanotify = new FanotifySource(k, k.bridge, fs, metrics, !b.usable());
            k.sources.add(k.fanotify);
            k.refs++;
        }
        // enforcement: eBPF guards and exec kill need the programs; the exec allow-list needs
        // fanotify with permission events (RUNNING; DEGRADED means notifications only)
        boolean fanPerm = f.state() == BridgeLayout.STATE_RUNNING;
        if (b.usable() || fanPerm) {
            k.enforcer = new KernelEnforcer(k, k.bridge, b.usable() ? null : "bpf source " + bs.state() + ": " + b.detail(),
                    fanPerm ? null : "fanotify source " + fs.state() + ": " + f.detail());
            k.enforcerUnavailable = null;
        } else {
            k.enforcerUnavailable = "neither the bpf nor the fanotify source runs (bpf: " + b.detail() + "; fanotify: "
                    + f.detail() + ")";
        }
        if (k.refs == 0) {
            k.bridge.close();
            k.bridge = null;
        }
        return k;
    }

    private static SourceStatus toStatus(String name, Bridge.State s) {
        SourceStatus.State st;
        switch (s.state()) {
            case BridgeLayout.STATE_RUNNING: st = SourceStatus.State.RUNNING; break;
            case BridgeLayout.STATE_DEGRADED: st = SourceStatus.State.DEGRADED; break;
            case BridgeLayout.STATE_DISABLED: st = SourceStatus.State.DISABLED; break;
            default: st = SourceStatus.State.UNAVAILABLE;
        }
        return new SourceStatus(name, st, s.detail());
    }

    private void require(String name, String mode) {
        if (!mode.equals("on")) return;
        for (SourceStatus s : statuses) {
            if (s.name().equals(name) && s.state() != SourceStatus.State.RUNNING && s.state() != SourceStatus.State.DEGRADED) {
                close();
                throw new IllegalStateException("config key 'sources." + name + "' is 'on' but the " + name
                        + " source is unavailable: " + s.detail());
            }
        }
    }

    /** The running sources, eBPF first. */
    public List<EventSource> sources() {
        return List.copyOf(sources);
    }

    /** One status per kernel source (bpf, fanotify), running or not. */
    public List<SourceStatus> statuses() {
        return List.copyOf(statuses);
    }

    /** The eBPF source, or null when it does not run. */
    public BpfSource bpf() {
        return bpf;
    }

    /** The fanotify source, or null when it does not run. */
    public FanotifySource fanotify() {
        return fanotify;
    }

    /**
     * The prevention primitives of enforce mode, or null when neither eBPF nor fanotify
     * permission events run here ({@link #enforcerUnavailableReason()} says why). Parts may still
     * be missing: see {@link KernelEnforcer#bpfEnforcementUnavailable()} and
     * {@link KernelEnforcer#execAllowListUnavailable()}. Valid until {@link #close()}.
     */
    public KernelEnforcer enforcer() {
        return enforcer;
    }

    /** Why {@link #enforcer()} is null, or null when it is not. */
    public String enforcerUnavailableReason() {
        return enforcerUnavailable;
    }

    synchronized void release() {
        if (--refs == 0 && bridge != null) {
            if (enforcer != null) enforcer.close();
            bridge.close();
            bridge = null;
        }
    }

    /** Closes whatever is still open (the sources normally close themselves). */
    @Override
    public synchronized void close() {
        if (enforcer != null) enforcer.close();
        if (bpf != null) bpf.close();
        if (fanotify != null) fanotify.close();
        if (bridge != null) {
            bridge.close();
            bridge = null;
        }
    }
}
