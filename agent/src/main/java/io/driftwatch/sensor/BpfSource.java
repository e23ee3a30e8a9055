package io.driftwatch.sensor;

import io.driftwatch.bridge.Bridge;
import io.driftwatch.bridge.BridgeLayout;
import io.driftwatch.bridge.BridgeStats;
import io.driftwatch.bridge.EventView;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The eBPF source: exec, exit, fork, open, connect, bind, listen and accept records from the
 * kernel bridge's ring buffer. {@link #poll} copies whole records into the pipeline's batch
 * buffer (nothing is lost when it is full: the rest stays in the ring) and, at most once a
 * second, exports the bridge's loss counters. The detection side uses {@link #suppress} and
 * {@link #clearSuppression} to keep known traffic in the kernel.
 */
public final class BpfSource implements EventSource {
    private static final long STATS_INTERVAL_NS = 1_000_000_000L;

    private final KernelSources owner;
    private final Bridge bridge;
    private final SourceStatus status;
    private final BridgeMetrics metrics;
    private long lastStatsNs = System.nanoTime();
    private boolean closed;

    BpfSource(KernelSources owner, Bridge bridge, SourceStatus status, BridgeMetrics metrics) {
        this.owner = owner;
        this.bridge = bridge;
        this.status = status;
        this.metrics = metrics;
    }

    @Override
    public String name() {
        return "bpf";
    }

    @Override
    public int poll(ByteBuffer batch, int timeoutMs) throws IOException {
        int n = bridge.poll(batch, timeoutMs, BridgeLayout.POLL_BPF);
        long now = System.nanoTime();
        if (now - lastStatsNs >= STATS_INTERVAL_NS) {
            lastStatsNs = now;
            refreshStats();
        }
        return n;
    }

    /** Reads the bridge's counters and exports what changed; returns the reading. */
    public BridgeStats refreshStats() {
        BridgeStats s = bridge.stats();
        metrics.update(s);
        return s;
    }

    /** See {@link Bridge#suppress(EventView)}: false when the record has no suppression key. */
    public boolean suppress(EventView ev) throws IOException {
        return bridge.suppress(ev);
    }

    /** Forgets the suppression keys of one cgroup (0: all); returns how many were removed. */
    public int clearSuppression(long cgroupId) throws IOException {
        return bridge.clearSuppression(cgroupId);
    }

    /** See {@link Bridge#addHostCgroup}: the kernel drops this host cgroup's file and network records. */
    public void addHostCgroup(long key) throws IOException {
        bridge.addHostCgroup(key);
    }

    /** See {@link Bridge#removeHostCgroup}; false when the key was not in the filter. */
    public boolean removeHostCgroup(long key) throws IOException {
        return bridge.removeHostCgroup(key);
    }

    @Override
    public SourceStatus status() {
        return status;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        refreshStats();
        owner.release();
    }
}
