package io.driftwatch.bench;

import static io.driftwatch.bridge.EventLayout.*;

import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.EventWriter;
import io.driftwatch.pipeline.Dispatcher;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decode + dispatch of a batch of wire-format records (the pipeline's inner loop without
 * attribution): events per second, and with {@code -prof gc} bytes allocated per event.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class DecodeBenchmark {
    static final int RECORDS = 1024;
    private final ByteBuffer batch = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.nativeOrder());
    private final EventView view = new EventView();
    private final Dispatcher dispatcher = new Dispatcher();
    private int length;
    private Blackhole bh;

    @Setup
    public void setup(Blackhole bh) {
        this.bh = bh;
        EventWriter w = new EventWriter(batch);
        String[] paths = {"/etc/nginx/nginx.conf", "/usr/share/nginx/html/index.html", "/var/log/nginx/access.log",
            "/usr/lib/x86_64-linux-gnu/libssl.so.3"};
        for (int i = 0; i < RECORDS; i++) {
            w.header(SRC_BPF, i, 44, 0, 100 + (i & 7), 1, 0, "nginx");
            if (i % 16 == 0) w.net(OP_ACCEPT, 2, PROTO_TCP, 5, new byte[] {127, 0, 0, 1}, 8080, new byte[] {10, 0, 0, 2}, 40000 + i);
            else w.open(paths[i & 3], 0, ACC_READ, 5, 2049, 1000 + (i & 3));
        }
        length = w.position();
        dispatcher.register(OP_OPEN, (ev, c) -> this.bh.consume(ev.pathHash()));
        dispatcher.register(OP_ACCEPT, (ev, c) -> this.bh.consume(ev.lport()));
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public void decodeAndDispatch() {
        int off = 0;
        while (off < length) {
            view.wrap(batch, off);
            if (view.check(length) != null) throw new IllegalStateException();
            dispatcher.dispatch(view, null);
            off += view.size();
        }
    }

    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.Main.main(args);
    }

}
