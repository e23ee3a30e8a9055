package io.driftwatch.pipeline;

import io.driftwatch.bridge.EventLayout;
import io.driftwatch.bridge.EventView;
import io.driftwatch.log.Log;
import io.driftwatch.sensor.EventSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The single event thread: polls every source into one reusable batch buffer, checks each
 * record, attributes it to a container and dispatches it by op. It is the only writer of
 * learner and detector state; other threads hand it work through {@link #submit} (a bounded
 * queue) and read snapshots. Periodic work (convergence checks, flushes) also runs here.
 */
public final class Pipeline implements AutoCloseable {
    /** Batch buffer size: large enough for many records and always for the largest one. */
    public static final int BATCH_BYTES = 1 << 20;
    private static final int IDLE_POLL_MS = 20;

    private final List<EventSource> sources;
    private final ContainerResolver resolver;
    private final Dispatcher dispatcher;
    private final ByteBuffer batch = ByteBuffer.allocateDirect(BATCH_BYTES).order(ByteOrder.nativeOrder());
    private final EventView view = new EventView();
    private final ArrayBlockingQueue<Runnable> commands = new ArrayBlockingQueue<>(4096);
    private final List<Periodic> periodic = new ArrayList<>();
    private final boolean logEvents;

    private final Counter[][] received; // [source index][op]
    private final Counter[] malformed;
    private final Counter commandsDropped;
    private volatile long lagNs;
    private volatile long lastEventNanos;
    private volatile long batches;

    private volatile boolean running;
    private Thread thread;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    public Pipeline(List<EventSource> sources, ContainerResolver resolver, Dispatcher dispatcher, MeterRegistry registry,
            boolean logEvents) {
        this.sources = List.copyOf(sources);
        this.resolver = resolver;
        this.dispatcher = dispatcher;
        this.logEvents = logEvents;
        this.received = new Counter[this.sources.size()][EventLayout.OP_MAX + 1];
        this.malformed = new Counter[this.sources.size()];
        for (int s = 0; s < this.sources.size(); s++) {
            String src = this.sources.get(s).name();
            for (int op = 1; op <= EventLayout.OP_MAX; op++) {
                received[s][op] = Counter.builder("driftwatch.events").description("Events received, by source and kind")
                        .tag("source", src).tag("kind", EventView.opName(op)).register(registry);
            }
            malformed[s] = Counter.builder("driftwatch.events.lost")
                    .description("Events lost or dropped, by source and reason").tag("source", src)
                    .tag("reason", "malformed").register(registry);
        }
        commandsDropped = Counter.builder("driftwatch.pipeline.commands.dropped")
                .description("Work items refused because the pipeline queue was full").register(registry);
        Gauge.builder("driftwatch.pipeline.lag.seconds", this, p -> p.lagNs / 1e9)
                .description("Delay between the kernel timestamp of the last event and its processing")
                .register(registry);
        Gauge.builder("driftwatch.pipeline.queue.depth", commands, ArrayBlockingQueue::size)
                .description("Work items waiting for the pipeline thread").register(registry);
    }

    /** Runs {@code task} on the pipeline thread every {@code intervalMs} (first run after one interval). */
    public void every(long intervalMs, String name, Runnable task) {
        synchronized (periodic) {
            periodic.add(new Periodic(name, intervalMs, task));
        }
    }

    public void start() {
        running = true;
        thread = new Thread(this::loop, "dw-pipeline");
        thread.setDaemon(false);
        thread.start();
    }

    /** Queues work for the pipeline thread; false (counted) when the queue is full. */
    public boolean submit(Runnable work) {
        if (commands.offer(work)) return true;
        commandsDropped.increment();
        return false;
    }

    /** Runs {@code work} on the pipeline thread and waits for its result (for the API). */
    public <T> T call(Supplier<T> work, long timeoutMs) throws Exception {
        if (Thread.currentThread() == thread || thread == null) return work.get();
        CompletableFuture<T> f = new CompletableFuture<>();
        if (!submit(() -> {
            try {
                f.complete(work.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        })) {
            throw new IllegalStateException("pipeline busy: work queue full");
        }
        try {
            return f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception) throw (Exception) e.getCause();
            throw e;
        }
    }

    public boolean isRunning() {
        return running && thread != null && thread.isAlive();
    }

    /** Nanos (System.nanoTime) of the last loop iteration, for readiness. */
    public long lastLoopNanos() {
        return lastEventNanos;
    }

    public long batches() {
        return batches;
    }

    private void loop() {
        Log.info("pipeline started", "sources", sources.stream().map(EventSource::name).toList());
        try {
            while (running) {
                lastEventNanos = System.nanoTime();
                int total = 0;
                for (int s = 0; s < sources.size(); s++) {
                    total += drain(s, 0);
                }
                runCommands();
                runPeriodic();
                if (total == 0 && running) {
                    if (sources.isEmpty()) {
                        Thread.sleep(IDLE_POLL_MS);
                    } else {
                        drain(0, IDLE_POLL_MS);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            Log.error("pipeline thread failed", "error", t.toString());
        } finally {
            runCommands();
            stopped.complete(null);
            Log.info("pipeline stopped");
        }
    }

    private int drain(int s, int timeoutMs) {
        EventSource src = sources.get(s);
        int n;
        try {
            n = src.poll(batch, timeoutMs);
        } catch (Exception e) {
            Log.warn("source poll failed", "source", src.name(), "error", e.toString());
            return 0;
        }
        if (n <= 0) return 0;
        batches++;
        process(s, n);
        return n;
    }

    /** Decodes and dispatches {@code length} bytes of records from the batch buffer. */
    void process(int s, int length) {
        int off = 0;
        long lastKtime = System.nanoTime();
        Counter[] counters = received[s];
        while (off < length) {
            view.wrap(batch, off);
            String bad = view.check(length);
            if (bad != null) {
                malformed[s].increment();
                Log.warn("malformed record dropped; rest of batch skipped", "source", sources.get(s).name(),
                        "offset", off, "reason", bad);
                return;
            }
            int op = view.op();
            counters[op].increment();
            ContainerState c = resolver.resolve(view);
            if (c != null) c.events++;
            if (logEvents) logEvent(c);
            dispatcher.dispatch(view, c);
            lastKtime = view.ktimeNs();
            off += view.size();
        }
        lagNs = System.nanoTime() - lastKtime; // once per batch: the lag of its last record
    }

    private void logEvent(ContainerState c) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("time", java.time.Instant.now().toString());
        m.put("level", "debug");
        m.put("msg", "event");
        m.putAll(view.describe());
        if (c != null) {
            m.put("container_id", c.info.id());
            m.put("container", c.info.container());
        }
        Log.emit(m);
    }

    private void runCommands() {
        Runnable r;
        while ((r = commands.poll()) != null) {
            try {
                r.run();
            } catch (Throwable t) {
                Log.warn("pipeline work item failed", "error", t.toString());
            }
        }
    }

    private void runPeriodic() {
        long now = System.nanoTime();
        synchronized (periodic) {
            for (Periodic p : periodic) {
                if (now - p.last >= p.intervalNs) {
                    p.last = now;
                    try {
                        p.task.run();
                    } catch (Throwable t) {
                        Log.warn("periodic task failed", "task", p.name, "error", t.toString());
                    }
                }
            }
        }
    }

    /** Stops the loop and waits for it (bounded); sources are closed by their owner. */
    @Override
    public void close() {
        running = false;
        if (thread != null) {
            try {
                stopped.get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                thread.interrupt();
            }
        }
    }

    private static final class Periodic {
        final String name;
        final long intervalNs;
        final Runnable task;
        long last = System.nanoTime();

        Periodic(String name, long intervalMs, Runnable task) {
            this.name = name;
            this.intervalNs = intervalMs * 1_000_000L;
            this.task = task;
        }
    }
}
