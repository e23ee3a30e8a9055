package io.driftwatch.sensor;

import static io.driftwatch.bridge.BridgeLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.BridgeStats;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

final class BridgeMetricsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private double lost(String source, String reason) {
        return registry.get("driftwatch.events.lost").tag("source", source).tag("reason", reason).counter().count();
    }

    private static BridgeStats stats(int... kv) {
        long[] v = new long[STAT_COUNT];
        for (int i = 0; i < kv.length; i += 2) v[kv[i]] = kv[i + 1];
        return new BridgeStats(v);
    }

    @Test
    void exports_deltas_of_the_bridge_totals() {
        BridgeMetrics m = new BridgeMetrics(registry, true, true);
        m.update(stats(STAT_RING_FULL, 5, STAT_SEQ_GAPS, 5, STAT_PATH_UNREADABLE, 2, STAT_SUPPRESSED, 7, STAT_FAN_DENIED, 1,
                STAT_FAN_OVERFLOW, 1, STAT_FAN_QUEUE_FULL, 3, STAT_FAN_WATCHES, 2));
        m.update(stats(STAT_RING_FULL, 8, STAT_SEQ_GAPS, 8, STAT_PATH_UNREADABLE, 2, STAT_SUPPRESSED, 10, STAT_FAN_DENIED, 4,
                STAT_FAN_OVERFLOW, 1, STAT_FAN_QUEUE_FULL, 3, STAT_FAN_WATCHES, 1));
        assertThat(lost("bpf", "ring_full")).isEqualTo(8);
        assertThat(lost("bpf", "seq_gap")).isZero(); // explained by ring_full: not counted twice
        assertThat(lost("bpf", "path_unreadable")).isEqualTo(2);
        assertThat(lost("fanotify", "fanotify_overflow")).isEqualTo(1);
        assertThat(lost("fanotify", "queue_full")).isEqualTo(3);
        assertThat(registry.get("driftwatch.events.suppressed").tag("source", "bpf").counter().count()).isEqualTo(10);
        assertThat(registry.get("driftwatch.fanotify.denied").counter().count()).isEqualTo(4);
        assertThat(registry.get("driftwatch.fanotify.watches").gauge().value()).isEqualTo(1);
    }

    @Test
    void unexplained_gaps_are_counted_once_even_when_late_records_shrink_them() {
        BridgeMetrics m = new BridgeMetrics(registry, true, false);
        m.update(stats(STAT_SEQ_GAPS, 4));
        m.update(stats(STAT_SEQ_GAPS, 3)); // a late record arrived
        m.update(stats(STAT_SEQ_GAPS, 6));
        assertThat(lost("bpf", "seq_gap")).isEqualTo(6);
    }
}
