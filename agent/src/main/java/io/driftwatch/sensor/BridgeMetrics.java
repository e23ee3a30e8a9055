package io.driftwatch.sensor;

import io.driftwatch.bridge.BridgeStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Exports the bridge's counters ({@link BridgeStats}, totals since open) as Micrometer counters
 * by adding the difference between two readings. Meters are created once, here; an update
 * allocates nothing but the reading.
 *
 * <ul>
 *   <li>{@code driftwatch.events.lost{source=bpf, reason=ring_full|path_unreadable|seq_gap|bad_record}}</li>
 *   <li>{@code driftwatch.events.lost{source=fanotify, reason=fanotify_overflow|queue_full}}</li>
 *   <li>{@code driftwatch.events.suppressed{source=bpf}}</li>
 *   <li>{@code driftwatch.events.host.filtered{source=bpf}}</li>
 *   <li>{@code driftwatch.fanotify.denied}, gauge {@code driftwatch.fanotify.watches}</li>
 * </ul>
 * {@code seq_gap} counts only gaps that {@code ring_full} does not explain, so the lost total
 * is not counted twice. {@code path_unreadable} records are delivered, without their path.
 */
final class BridgeMetrics {
    private final Counter ringFull, pathUnreadable, seqGap, badRecord, suppressed, hostFiltered;
    private final Counter fanOverflow, fanQueueFull, fanDenied;
    private BridgeStats last = BridgeStats.zero();
    private long reportedGaps;
    private volatile long watches;

    BridgeMetrics(MeterRegistry registry, boolean bpf, boolean fanotify) {
        ringFull = bpf ? lost(registry, "bpf", "ring_full") : null;
        pathUnreadable = bpf ? lost(registry, "bpf", "path_unreadable") : null;
        seqGap = bpf ? lost(registry, "bpf", "seq_gap") : null;
        badRecord = bpf ? lost(registry, "bpf", "bad_record") : null;
        suppressed = bpf ? Counter.builder("driftwatch.events.suppressed")
                .description("Events dropped in the kernel because the agent already knows them").tag("source", "bpf")
                .register(registry) : null;
        hostFiltered = bpf ? Counter.builder("driftwatch.events.host.filtered")
                .description("File and network events of host processes dropped in the kernel (sources.host_filter)")
                .tag("source", "bpf").register(registry) : null;
        fanOverflow = fanotify ? lost(registry, "fanotify", "fanotify_overflow") : null;
        fanQueueFull = fanotify ? lost(registry, "fanotify", "queue_full") : null;
        fanDenied = fanotify ? Counter.builder("driftwatch.fanotify.denied")
                .description("Opens and execs denied by fanotify permission decisions").register(registry) : null;
        if (fanotify) {
            Gauge.builder("driftwatch.fanotify.watches", this, m -> m.watches)
                    .description("Containers watched with fanotify").register(registry);
        }
    }

    private static Counter lost(MeterRegistry registry, String source, String reason) {
        return Counter.builder("driftwatch.events.lost").description("Events lost or dropped, by source and reason")
                .tag("source", source).tag("reason", reason).register(registry);
    }

    /** Adds what changed since the previous reading. Called by one thread. */
    synchronized void update(BridgeStats now) {
        BridgeStats prev = last;
        add(ringFull, now.ringFull() - prev.ringFull());
        add(pathUnreadable, now.pathUnreadable() - prev.pathUnreadable());
        long gaps = now.unexplainedGaps(); // may shrink when a late record arrives: report the high-water mark
        if (gaps > reportedGaps) {
            add(seqGap, gaps - reportedGaps);
            reportedGaps = gaps;
        }
        add(badRecord, now.badRecords() - prev.badRecords());
        add(suppressed, now.suppressed() - prev.suppressed());
        add(hostFiltered, now.hostDropped() - prev.hostDropped());
        add(fanOverflow, now.fanOverflow() - prev.fanOverflow());
        add(fanQueueFull, now.fanQueueFull() - prev.fanQueueFull());
        add(fanDenied, now.fanDenied() - prev.fanDenied());
        watches = now.fanWatches();
        last = now;
    }

    private static void add(Counter c, long delta) {
        if (c != null && delta > 0) c.increment(delta);
    }
}
