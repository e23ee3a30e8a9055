package io.driftwatch.bridge;

import static io.driftwatch.bridge.BridgeLayout.*;

/**
 * One reading of the bridge's counters ({@code dw_stats}, indices from {@link BridgeLayout}).
 * Counters are totals since the bridge opened, so two readings give the deltas exported as
 * metrics. Loss accounting: {@link #ringFull()} is what the kernel failed to write;
 * {@link #seqGaps()} is what the bridge saw missing from the per-CPU sequences; the two agree
 * unless records vanished elsewhere, which {@link #unexplainedGaps()} shows.
 */
public final class BridgeStats {
    private final long[] v;

    public BridgeStats(long[] values) {
        if (values.length < STAT_COUNT) throw new IllegalArgumentException("need " + STAT_COUNT + " counters");
        this.v = values.clone();
    }

    public static BridgeStats zero() {
        return new BridgeStats(new long[STAT_COUNT]);
    }

    public long get(int index) { return v[index]; }
    public long bpfEmitted() { return v[STAT_BPF_EMITTED]; }
    public long ringFull() { return v[STAT_RING_FULL]; }
    public long pathUnreadable() { return v[STAT_PATH_UNREADABLE]; }
    public long suppressed() { return v[STAT_SUPPRESSED]; }
    public long noEnter() { return v[STAT_NO_ENTER]; }
    public long hostDropped() { return v[STAT_HOST_DROPPED]; }
    public long bpfDelivered() { return v[STAT_BPF_DELIVERED]; }
    public long seqGaps() { return v[STAT_SEQ_GAPS]; }
    public long badRecords() { return v[STAT_BAD_RECORDS]; }
    public long fanEvents() { return v[STAT_FAN_EVENTS]; }
    public long fanDenied() { return v[STAT_FAN_DENIED]; }
    public long fanOverflow() { return v[STAT_FAN_OVERFLOW]; }
    public long fanQueueFull() { return v[STAT_FAN_QUEUE_FULL]; }
    public long fanErrors() { return v[STAT_FAN_ERRORS]; }
    public long fanDelivered() { return v[STAT_FAN_DELIVERED]; }
    public long fanWatches() { return v[STAT_FAN_WATCHES]; }

    /** Sequence gaps the ring-full counter does not explain (records lost elsewhere). */
    public long unexplainedGaps() {
        return Math.max(0, seqGaps() - ringFull());
    }

    @Override
    public String toString() {
        return "BridgeStats{emitted=" + bpfEmitted() + ", delivered=" + bpfDelivered() + ", ringFull=" + ringFull()
                + ", seqGaps=" + seqGaps() + ", pathUnreadable=" + pathUnreadable() + ", suppressed=" + suppressed()
                + ", bad=" + badRecords() + ", fanEvents=" + fanEvents() + ", fanDenied=" + fanDenied()
                + ", fanOverflow=" + fanOverflow() + ", fanQueueFull=" + fanQueueFull() + ", fanDelivered="
                + fanDelivered() + ", fanWatches=" + fanWatches() + "}";
    }
}
