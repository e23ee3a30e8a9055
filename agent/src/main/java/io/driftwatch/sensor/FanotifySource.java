package io.driftwatch.sensor;

import io.driftwatch.bridge.Bridge;
import io.driftwatch.bridge.BridgeLayout;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The fanotify source and the blocking enforcement path: per-container watches on the
 * container's root mount, permission events answered by the bridge's C thread (allow, unless a
 * deny decision matches), and dw_file records ({@code source=fanotify}, flags PERM/DENIED,
 * access EXEC for exec opens) in the same stream as the eBPF records.
 *
 * <p>Nothing is watched until someone calls {@link #watch}: the component that discovers
 * containers does, with the container's init pid and cgroup ids (with {@code notify} when eBPF
 * is unavailable and fanotify is the event source, with {@code enforce} for a profile in
 * enforce mode).
 */
public final class FanotifySource implements EventSource {
    private final KernelSources owner;
    private final Bridge bridge;
    private final SourceStatus status;
    private final BridgeMetrics metrics;
    private final boolean onlySource;
    private boolean closed;

    FanotifySource(KernelSources owner, Bridge bridge, SourceStatus status, BridgeMetrics metrics, boolean onlySource) {
        this.owner = owner;
        this.bridge = bridge;
        this.status = status;
        this.metrics = metrics;
        this.onlySource = onlySource;
    }

    @Override
    public String name() {
        return "fanotify";
    }

    @Override
    public int poll(ByteBuffer batch, int timeoutMs) throws IOException {
        int n = bridge.poll(batch, timeoutMs, BridgeLayout.POLL_FANOTIFY);
        if (onlySource || n > 0) metrics.update(bridge.stats());
        return n;
    }

    /**
     * Watches the root mount of the container whose host pid is {@code pid}.
     *
     * @param enforce permission events, so {@link #deny} can block opens and execs
     * @param notify  a record for every open and exec (when eBPF is not the source)
     * @return the watch id for {@link #deny}, {@link #allowAll} and {@link #unwatch}
     */
    public int watch(int pid, long cgroupId, long cgroupV1Id, boolean enforce, boolean notify) throws IOException {
        int flags = (enforce ? BridgeLayout.FAN_PERM : 0) | (notify ? BridgeLayout.FAN_NOTIFY : 0);
        return bridge.fanWatch(pid, cgroupId, cgroupV1Id, flags);
    }

    /** Denies executing ({@code execOnly}) or any open of the file (dev in kernel encoding, as in records). */
    public void deny(int watch, long dev, long ino, boolean execOnly) throws IOException {
        bridge.fanDeny(watch, dev, ino, execOnly ? BridgeLayout.FAN_DENY_EXEC : BridgeLayout.FAN_DENY_OPEN);
    }

    public boolean allow(int watch, long dev, long ino) throws IOException {
        return bridge.fanAllow(watch, dev, ino);
    }

    public void allowAll(int watch) throws IOException {
        bridge.fanAllowAll(watch);
    }

    public void unwatch(int watch) throws IOException {
        bridge.fanUnwatch(watch);
    }

    @Override
    public SourceStatus status() {
        return status;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        owner.release();
    }
}
