package io.driftwatch.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftwatch.testsupport.Privileged;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The library loads, passes the ABI check, and its context API behaves at the edges. */
@Privileged
final class BridgeTest {

    @BeforeAll
    static void build() {
        NativeBuild.ensureBridge();
    }

    @Test
    void loads_and_reports_disabled_sources() throws Exception {
        assertThat(Bridge.isAvailable()).isTrue();
        assertThat(Bridge.unavailabilityCause()).isNull();
        try (Bridge b = Bridge.open(BridgeConfig.defaults().withSources(false, false))) {
            assertThat(b.status(BridgeLayout.POLL_BPF).state()).isEqualTo(BridgeLayout.STATE_DISABLED);
            assertThat(b.status(BridgeLayout.POLL_BPF).detail()).contains("sources.bpf");
            assertThat(b.status(BridgeLayout.POLL_FANOTIFY).state()).isEqualTo(BridgeLayout.STATE_DISABLED);
            ByteBuffer buf = ByteBuffer.allocateDirect(64 << 10).order(ByteOrder.nativeOrder());
            long t0 = System.nanoTime();
            assertThat(b.poll(buf, 30, BridgeLayout.POLL_BPF | BridgeLayout.POLL_FANOTIFY)).isZero();
            assertThat(System.nanoTime() - t0).isLessThan(5_000_000_000L);
            assertThatThrownBy(() -> b.poll(ByteBuffer.allocateDirect(EventLayout.MAX_RECORD - 8)
                    .order(ByteOrder.nativeOrder()), 0, BridgeLayout.POLL_BPF)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> b.poll(ByteBuffer.allocate(1 << 16), 0, BridgeLayout.POLL_BPF))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> b.clearSuppression(0)).hasMessageContaining("ENODEV");
            assertThatThrownBy(() -> b.fanWatch(1, 1, 0, BridgeLayout.FAN_PERM)).hasMessageContaining("ENODEV");
        }
    }

    @Test
    void rejects_a_bad_ring_size() {
        assertThatThrownBy(() -> Bridge.open(BridgeConfig.defaults().withRing(12345, 0))).hasMessageContaining("EINVAL");
    }

    @Test
    void closed_bridge_fails_clearly() throws Exception {
        Bridge b = Bridge.open(BridgeConfig.defaults().withSources(false, false));
        b.close();
        b.close();
        assertThatThrownBy(() -> b.stats()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
}
