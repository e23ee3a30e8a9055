package io.driftwatch.sensor;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.BridgeConfig;
import io.driftwatch.bridge.BridgeStats;
import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.NativeBuild;
import io.driftwatch.log.Log;
import io.driftwatch.testsupport.Privileged;
import io.driftwatch.testsupport.Procs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 100k opens in a burst: with a consumer, all arrive (lost = 0); with a ring too small and no
 * consumer, the loss is counted exactly: the kernel's ring-full count equals the sequence gaps
 * the bridge saw, and every record the programs numbered was either delivered or counted lost.
 * The load is native/tests/openloop.c (open+close of one file, N times).
 */
@Privileged(tools = {"taskset"})
final class BpfSourceBurstTest {
    private static final int N = 100_000;

    @BeforeAll
    static void build() {
        NativeBuild.ensureBridge();
    }

    private static Path target() throws Exception {
        Path f = Files.createTempFile("dwb-burst-", ".txt");
        Files.writeString(f, "burst\n");
        return f;
    }

    @Test
    void burst_of_100k_opens_arrives_complete() throws Exception {
        Path file = target();
        byte[] want = file.toString().getBytes(StandardCharsets.UTF_8);
        KernelSources k = KernelSources.open(BridgeConfig.defaults().withSources(true, false).withSuppression(false),
                new SimpleMeterRegistry());
        try {
            BpfSource bpf = k.bpf();
            assertThat(bpf).as("%s", k.statuses()).isNotNull();
            AtomicLong matched = new AtomicLong(), records = new AtomicLong();
            AtomicBoolean run = new AtomicBoolean(true);
            Thread poller = new Thread(() -> {
                ByteBuffer batch = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.nativeOrder());
                EventView v = new EventView();
                try {
                    while (run.get()) {
                        int n = bpf.poll(batch, 10);
                        for (int off = 0; off < n; off += v.size()) {
                            v.wrap(batch, off);
                            records.incrementAndGet();
                            if (v.op() == OP_OPEN && v.comm().equals("openloop") && v.pathLen() == want.length
                                    && v.path().equals(file.toString())) {
                                matched.incrementAndGet();
                            }
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "burst-poller");
            poller.start();
            long t0 = System.nanoTime();
            Procs.Result r = Procs.run(120_000, List.of(NativeBuild.output().resolve("openloop").toString(), file.toString(),
                    String.valueOf(N)));
            long wall = System.nanoTime() - t0;
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            long end = System.currentTimeMillis() + 20_000;
            while (matched.get() < N && System.currentTimeMillis() < end) Thread.sleep(20);
            run.set(false);
            poller.join(5_000);
            BridgeStats s = bpf.refreshStats();
            long loopNs = Long.parseLong(r.stdout().trim().split(" ")[0]);
            Log.info("burst", "opens", N, "delivered", matched.get(), "lost", s.ringFull(), "loop_ms", loopNs / 1e6,
                    "ns_per_open_close", loopNs / N, "wall_ms", wall / 1e6, "records_total", records.get());
            System.out.printf("burst: %d opens, %d delivered, ring_full=%d seq_gaps=%d, loop %.1f ms (%d ns per open+close)%n",
                    N, matched.get(), s.ringFull(), s.seqGaps(), loopNs / 1e6, loopNs / N);
            assertThat(s.ringFull()).isZero();
            assertThat(s.seqGaps()).isZero();
            assertThat(matched.get()).isEqualTo(N);
        } finally {
            k.close();
            Files.deleteIfExists(file);
        }
    }

    @Test
    void overrun_ring_counts_exactly_what_was_lost() throws Exception {
        Path file = target();
        // 64 KiB ring, nobody polling during the burst: most records cannot be written
        KernelSources k = KernelSources.open(BridgeConfig.defaults().withSources(true, false).withSuppression(false)
                .withRing(64 << 10, 0), new SimpleMeterRegistry());
        try {
            BpfSource bpf = k.bpf();
            assertThat(bpf).as("%s", k.statuses()).isNotNull();
            Procs.Result r = Procs.run(120_000, List.of(NativeBuild.output().resolve("openloop").toString(), file.toString(),
                    String.valueOf(N)));
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            ByteBuffer batch = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.nativeOrder());
            EventView v = new EventView();
            long delivered = 0, loop = 0;
            // drain, then make one record on every CPU so each CPU's trailing gap is seen, drain again
            for (int round = 0; round < 2; round++) {
                for (int empty = 0; empty < 3; ) {
                    int n = bpf.poll(batch, 20);
                    if (n == 0) empty++;
                    for (int off = 0; off < n; off += v.size()) {
                        v.wrap(batch, off);
                        assertThat(v.check(n)).isNull();
                        delivered++;
                        if (v.op() == OP_OPEN && v.comm().equals("openloop")) loop++;
                    }
                }
                if (round == 0) {
                    int cpus = Runtime.getRuntime().availableProcessors();
                    for (int c = 0; c < cpus; c++) {
                        Procs.run(10_000, List.of("taskset", "-c", String.valueOf(c), "cat", file.toString())).orThrow();
                    }
                }
            }
            BridgeStats s = bpf.refreshStats();
            System.out.printf("overrun: %d opens, %d of them delivered, ring_full=%d seq_gaps=%d emitted=%d delivered=%d%n", N,
                    loop, s.ringFull(), s.seqGaps(), s.bpfEmitted(), s.bpfDelivered());
            assertThat(s.ringFull()).as("the small ring must overflow").isGreaterThan(0);
            assertThat(loop).isLessThan(N);
            assertThat(loop + s.ringFull()).as("every openloop record delivered or counted lost").isGreaterThanOrEqualTo(N);
            assertThat(s.seqGaps()).as("sequence gaps match the kernel's count").isEqualTo(s.ringFull());
            assertThat(s.bpfDelivered()).isEqualTo(s.bpfEmitted()).isEqualTo(delivered);
            assertThat(s.unexplainedGaps()).isZero();
        } finally {
            k.close();
            Files.deleteIfExists(file);
        }
    }
}
