package io.driftwatch.bridge;

import static io.driftwatch.bridge.BridgeLayout.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class BridgeStatsTest {

    @Test
    void decodes_each_counter_from_its_generated_index() {
        long[] v = new long[STAT_COUNT];
        for (int i = 0; i < v.length; i++) v[i] = 100 + i;
        BridgeStats s = new BridgeStats(v);
        assertThat(s.bpfEmitted()).isEqualTo(100 + STAT_BPF_EMITTED);
        assertThat(s.ringFull()).isEqualTo(100 + STAT_RING_FULL);
        assertThat(s.pathUnreadable()).isEqualTo(100 + STAT_PATH_UNREADABLE);
        assertThat(s.suppressed()).isEqualTo(100 + STAT_SUPPRESSED);
        assertThat(s.noEnter()).isEqualTo(100 + STAT_NO_ENTER);
        assertThat(s.bpfDelivered()).isEqualTo(100 + STAT_BPF_DELIVERED);
        assertThat(s.seqGaps()).isEqualTo(100 + STAT_SEQ_GAPS);
        assertThat(s.badRecords()).isEqualTo(100 + STAT_BAD_RECORDS);
        assertThat(s.fanEvents()).isEqualTo(100 + STAT_FAN_EVENTS);
        assertThat(s.fanDenied()).isEqualTo(100 + STAT_FAN_DENIED);
        assertThat(s.fanOverflow()).isEqualTo(100 + STAT_FAN_OVERFLOW);
        assertThat(s.fanQueueFull()).isEqualTo(100 + STAT_FAN_QUEUE_FULL);
        assertThat(s.fanErrors()).isEqualTo(100 + STAT_FAN_ERRORS);
        assertThat(s.fanDelivered()).isEqualTo(100 + STAT_FAN_DELIVERED);
        assertThat(s.fanWatches()).isEqualTo(100 + STAT_FAN_WATCHES);
    }

    @Test
    void copies_its_input_and_rejects_short_arrays() {
        long[] v = new long[STAT_COUNT];
        BridgeStats s = new BridgeStats(v);
        v[STAT_RING_FULL] = 5;
        assertThat(s.ringFull()).isZero();
        assertThatThrownBy(() -> new BridgeStats(new long[3])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unexplainedGaps_are_gaps_beyond_ring_full() {
        long[] v = new long[STAT_COUNT];
        v[STAT_RING_FULL] = 10;
        v[STAT_SEQ_GAPS] = 10;
        assertThat(new BridgeStats(v).unexplainedGaps()).isZero();
        v[STAT_SEQ_GAPS] = 13;
        assertThat(new BridgeStats(v).unexplainedGaps()).isEqualTo(3);
        v[STAT_SEQ_GAPS] = 4; // trailing drops not yet seen as gaps
        assertThat(new BridgeStats(v).unexplainedGaps()).isZero();
    }

    @Test
    void kernelDev_converts_glibc_encoding() {
        // 254:0 (dm-0 / vda) in glibc's encoding is 0xfe00; the kernel's is 254 << 20
        assertThat(Bridge.kernelDev(0xfe00L)).isEqualTo(254L << 20);
        // major 8, minor 300: minor's high bits live at bit 12 and up in the user encoding
        long user = (8L << 8) | (300L & 0xff) | ((300L & ~0xffL) << 12);
        assertThat(Bridge.kernelDev(user)).isEqualTo((8L << 20) | 300);
        assertThat(Bridge.kernelDev(0)).isZero();
    }

    @Test
    void ringBytesForMb_rounds_up_to_a_power_of_two() {
        assertThat(BridgeConfig.ringBytesForMb(16)).isEqualTo(16 << 20);
        assertThat(BridgeConfig.ringBytesForMb(3)).isEqualTo(4 << 20);
        assertThat(BridgeConfig.ringBytesForMb(1)).isEqualTo(1 << 20);
        assertThat(BridgeConfig.ringBytesForMb(1024)).isEqualTo(1 << 30);
    }
}
