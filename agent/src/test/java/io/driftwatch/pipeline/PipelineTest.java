package io.driftwatch.pipeline;

import static io.driftwatch.bridge.EventLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.EventWriter;
import io.driftwatch.sensor.EventSource;
import io.driftwatch.sensor.SourceStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

final class PipelineTest {

    /** A source that hands out prepared batches once. */
    static final class ScriptedSource implements EventSource {
        final List<ByteBuffer> batches = new ArrayList<>();

        @Override public String name() { return "test"; }

        @Override
        public synchronized int poll(ByteBuffer batch, int timeoutMs) {
            if (batches.isEmpty()) return 0;
            ByteBuffer b = batches.remove(0);
            batch.put(0, b, 0, b.limit());
            return b.limit();
        }

        @Override public SourceStatus status() { return SourceStatus.running("test", "scripted"); }
        @Override public void close() {}
    }

    private static final ContainerResolver NONE = new ContainerResolver() {
        @Override public ContainerState resolve(EventView event) { return null; }
        @Override public List<ContainerSnapshot> snapshot() { return List.of(); }
    };

    @Test
    void dispatchesByOp_andDropsMalformedTail() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());
        EventWriter w = new EventWriter(b);
        w.header(SRC_PROC, System.nanoTime(), 1, 0, 10, 1, 0, "sh").exec("/bin/sh", List.of("sh"), 0);
        w.open("/etc/passwd", 0, ACC_READ, 3, 0, 0);
        int good = w.position();
        b.putLong(good, 0xdeadbeefL); // garbage record header after two good ones
        b.putInt(good + HDR_RECORD_SIZE, 7);
        b.limit(good + HDR_SIZE);

        ScriptedSource src = new ScriptedSource();
        src.batches.add(b);
        Dispatcher d = new Dispatcher();
        List<String> seen = new ArrayList<>();
        CountDownLatch two = new CountDownLatch(2);
        d.register(OP_EXEC, (ev, c) -> { seen.add("exec " + ev.filename()); two.countDown(); });
        d.register(OP_OPEN, (ev, c) -> { seen.add("open " + ev.path()); two.countDown(); });
        SimpleMeterRegistry reg = new SimpleMeterRegistry();
        try (Pipeline p = new Pipeline(List.of(src), NONE, d, reg, false)) {
            p.start();
            assertThat(two.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(p.call(() -> seen.size(), 5000)).isEqualTo(2);
        }
        assertThat(seen).containsExactly("exec /bin/sh", "open /etc/passwd");
        assertThat(reg.get("driftwatch.events").tag("kind", "exec").counter().count()).isEqualTo(1.0);
        assertThat(reg.get("driftwatch.events.lost").tag("reason", "malformed").counter().count()).isEqualTo(1.0);
    }

    @Test
    void periodicAndSubmittedWork_runOnThePipelineThread() throws Exception {
        Dispatcher d = new Dispatcher();
        CountDownLatch ran = new CountDownLatch(2);
        List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Pipeline p = new Pipeline(List.of(), NONE, d, new SimpleMeterRegistry(), false)) {
            p.every(10, "t", () -> { threads.add(Thread.currentThread().getName()); ran.countDown(); });
            p.start();
            p.submit(() -> { threads.add(Thread.currentThread().getName()); ran.countDown(); });
            assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(threads).allMatch("dw-pipeline"::equals);
    }
}
