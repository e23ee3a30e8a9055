package io.driftwatch.bench;

import io.driftwatch.bridge.EventLayout;
import io.driftwatch.bridge.EventView;
import io.driftwatch.detect.DetectionListener;
import io.driftwatch.detect.Detector;
import io.driftwatch.learn.BaselineLearner;
import io.driftwatch.learn.GeneralisationRules;
import io.driftwatch.learn.LearningHandler;
import io.driftwatch.learn.LearningSettings;
import io.driftwatch.pipeline.CgroupContainerResolver;
import io.driftwatch.pipeline.ContainerState;
import io.driftwatch.pipeline.Dispatcher;
import io.driftwatch.pipeline.ExecNormalizer;
import io.driftwatch.pipeline.PathNormalizer;
import io.driftwatch.proc.ProcessTable;
import io.driftwatch.profile.Clock;
import io.driftwatch.profile.CompiledProfile;
import io.driftwatch.profile.Dimension;
import io.driftwatch.profile.Mode;
import io.driftwatch.profile.ProfileStore;
import io.driftwatch.respond.Responder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pipeline's per-event work on known behaviour, single-threaded (the pipeline is one thread,
 * so ops/s here is events per second per core): decode ({@link EventView#wrap}, {@link EventView#check}),
 * count, attribute (the real {@link CgroupContainerResolver} over a fixture procfs/cgroupfs/runc
 * state tree, {@link BenchWorld}), and the profile check: {@link LearningHandler} →
 * {@link BaselineLearner} and {@link Detector}, in the order the agent registers them.
 *
 * <ul>
 *   <li>{@code monitorKnown}: the profile was learned from the same stream and promoted to
 *       monitor; the learner returns early, the detector matches every event (exact hashes,
 *       pattern cache) and reports {@code known} to a no-op listener. The steady state.</li>
 *   <li>{@code monitorKnownAgentHandlers}: as above with every handler the agent registers
 *       (exec normaliser, process table, and the real {@link Responder} without kernel
 *       suppression in place of the no-op listener).</li>
 *   <li>{@code learningKnown}: the profile is still learning and every value is already in it:
 *       the learner's cache hit (counts and times updated), the detector returns early.</li>
 *   <li>{@code compiledMatch}: {@link CompiledProfile#matches(Dimension, EventView)} alone over
 *       the container's records (views pre-positioned; no decode, no attribution).</li>
 * </ul>
 *
 * Run: {@code java -jar bench/target/driftwatch-bench.jar PipelineBenchmark -prof gc} (ops/s =
 * events/s; {@code gc.alloc.rate.norm} = bytes allocated per event).
 */
@BenchmarkMode(org.openjdk.jmh.annotations.Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PipelineBenchmark {
    static final int RECORDS = BenchWorld.RECORDS;
    /** Records of the container in a batch: 58 of every 64 (the rest are host events). */
    static final int CONTAINER_RECORDS = 928;

    /** One agent-like pipeline over the fixture world. */
    @State(Scope.Thread)
    public static class Pipe {
        /** monitor: learned and promoted; learning: still learning (values known). */
        String mode;
        /** brief: learner + detector (no-op listener); agent: every handler the agent registers. */
        String handlers;

        public Pipe() {
            this("monitor", "brief");
        }

        Pipe(String mode, String handlers) {
            this.mode = mode;
            this.handlers = handlers;
        }

        BenchWorld world;
        ByteBuffer batch;
        int length;
        final EventView view = new EventView();
        final Dispatcher dispatcher = new Dispatcher();
        CgroupContainerResolver resolver;
        Counter[] received;
        volatile long lagNs;
        ProfileStore store;
        Path profiles;
        long known;

        @Setup(Level.Trial)
        public void setup() throws Exception {
            world = new BenchWorld();
            batch = world.batch();
            length = world.length(batch);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            resolver = world.resolver(registry);
            ProcessTable table = new ProcessTable(world.procFs(), world.cgroupFs(), registry);
            profiles = Files.createTempDirectory("dw-bench-profiles-");
            store = new ProfileStore(profiles, "workload", registry, Clock.SYSTEM);
            store.load();
            // every key learning.* at its default, as the agent has it without a config file
            LearningSettings settings = new LearningSettings(600_000, 300_000, 86_400_000, 20, 30_000, true, false, 16);
            BaselineLearner learner = new BaselineLearner(store, GeneralisationRules.defaults(), settings, table,
                    Clock.SYSTEM, registry);
            DetectionListener listener;
            if ("agent".equals(handlers)) {
                new PathNormalizer().register(dispatcher);
                new ExecNormalizer(world.proc).register(dispatcher);
                table.register(dispatcher);
                listener = new Responder("bench", store, table, List.of(), null, "alert", null, registry,
                        System::currentTimeMillis);
            } else {
                listener = new DetectionListener() {
                    @Override
                    public void known(EventView e, ContainerState c, Dimension d, CompiledProfile p) {
                        known++;
                    }

                    @Override
                    public void deviation(EventView e, ContainerState c, Dimension d, CompiledProfile p, int reason) {
                        throw new IllegalStateException("deviation on the known path: " + e.describe());
                    }
                };
            }
            new LearningHandler(learner).register(dispatcher);
            new Detector(store, listener, true).register(dispatcher);
            received = new Counter[EventLayout.OP_MAX + 1];
            for (int op = 1; op <= EventLayout.OP_MAX; op++) {
                received[op] = Counter.builder("driftwatch.events").tag("source", "bpf")
                        .tag("kind", EventView.opName(op)).register(registry);
            }
            // learn: the first pass resolves the container (miss path) and creates every entry
            for (int i = 0; i < 3; i++) process();
            ContainerState c = resolver.running().get(0);
            if (store.profile(BenchWorld.KEY) == null) throw new IllegalStateException("no profile " + BenchWorld.KEY);
            if ("monitor".equals(mode)) {
                store.setMode(BenchWorld.KEY, Mode.MONITOR, "bench");
                known = 0;
                process();
                int expected = CONTAINER_RECORDS; // host events are not checked
                if (known != expected && !"agent".equals(handlers)) {
                    throw new IllegalStateException("expected " + expected + " known events, got " + known);
                }
            } else if (!"learning".equals(mode)) {
                throw new IllegalArgumentException("mode " + mode);
            }
            if (c.events == 0) throw new IllegalStateException("nothing attributed");
        }

        /** Mirrors {@code Pipeline.process}: check, count, resolve, dispatch, lag. */
        int process() {
            int off = 0, n = 0;
            while (off < length) {
                view.wrap(batch, off);
                if (view.check(length) != null) throw new IllegalStateException("malformed bench record at " + off);
                received[view.op()].increment();
                ContainerState c = resolver.resolve(view);
                if (c != null) c.events++;
                dispatcher.dispatch(view, c);
                lagNs = System.nanoTime() - view.ktimeNs();
                off += view.size();
                n++;
            }
            return n;
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            world.close();
            try (var s = Files.walk(profiles)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /** The container's records pre-positioned for {@link CompiledProfile#matches(Dimension, EventView)}. */
    @State(Scope.Thread)
    public static class Match {
        EventView[] views;
        Dimension[] dims;
        CompiledProfile profile;
        Pipe pipe;

        @Setup(Level.Trial)
        public void setup() throws Exception {
            pipe = new Pipe();
            pipe.setup();
            ContainerState c = pipe.resolver.running().get(0);
            profile = pipe.store.compiledFor(c);
            java.util.List<EventView> vs = new java.util.ArrayList<>();
            java.util.List<Dimension> ds = new java.util.ArrayList<>();
            int off = 0;
            while (off < pipe.length) {
                EventView v = new EventView().wrap(pipe.batch, off);
                off += v.size();
                if (v.cgroupId() != pipe.world.cgroupId) continue;
                Dimension d = v.op() == EventLayout.OP_EXEC ? Dimension.EXEC
                        : Dimension.ofEvent(v.op(), v.op() == EventLayout.OP_OPEN ? v.access() : 0, v.proto());
                if (!profile.matches(d, v)) throw new IllegalStateException("not known: " + v.describe());
                vs.add(v);
                ds.add(d);
            }
            views = vs.toArray(new EventView[0]);
            dims = ds.toArray(new Dimension[0]);
            if (views.length != CONTAINER_RECORDS) throw new IllegalStateException("expected " + CONTAINER_RECORDS + " container records: " + views.length);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            pipe.tearDown();
        }
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public int monitorKnown(Pipe p) {
        return p.process();
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public int monitorKnownAgentHandlers(AgentPipe p) {
        return p.process();
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public int learningKnown(LearningPipe p) {
        return p.process();
    }

    /** The container's records of a batch (its 96 host records are not checked). */
    @Benchmark
    @OperationsPerInvocation(CONTAINER_RECORDS)
    public int compiledMatch(Match m) {
        int n = 0;
        EventView[] vs = m.views;
        Dimension[] ds = m.dims;
        CompiledProfile p = m.profile;
        for (int i = 0; i < vs.length; i++) if (p.matches(ds[i], vs[i])) n++;
        return n;
    }

    /** The agent's full handler set in monitor mode. */
    @State(Scope.Thread)
    public static class AgentPipe extends Pipe {
        public AgentPipe() {
            super("monitor", "agent");
        }
    }

    /** Still learning, every value already learned. */
    @State(Scope.Thread)
    public static class LearningPipe extends Pipe {
        public LearningPipe() {
            super("learning", "brief");
        }
    }

    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.Main.main(args);
    }
}
