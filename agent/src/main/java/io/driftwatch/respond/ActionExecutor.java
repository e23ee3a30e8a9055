package io.driftwatch.respond;

import io.driftwatch.log.Log;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Carries out freeze, kill and unfreeze on its own thread, so the pipeline never blocks on a
 * cgroup write. Requests are queued in a bounded queue (overflow is dropped and counted),
 * deduplicated per container, limited per workload (max actions per minute), and suppressed in
 * dry-run (counted with result {@code dry_run}). Every action and its result is logged and
 * counted in {@code driftwatch_actions_total{action,result}}.
 */
public final class ActionExecutor implements AutoCloseable {
    public enum Action { FREEZE, KILL, UNFREEZE;
        public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    /** One request. {@code eventKtimeNs} is the triggering event's kernel time (0 for API requests). */
    public record Request(Action action, String containerId, String cgroupPath, String workloadKey, String reason,
            long eventKtimeNs, String caller) {}

    /** The outcome, for the API and tests. */
    public record Result(Request request, String result, String detail) {}

    private final CgroupControl cgroups;
    private final boolean dryRun;
    private final int maxPerMinute;
    private final LongSupplier clockMillis;
    private final ArrayBlockingQueue<Request> queue = new ArrayBlockingQueue<>(256);
    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    private final Map<String, ArrayDeque<Long>> recent = new HashMap<>();
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final MeterRegistry registry;
    private final Timer latency;
    private final Counter dropped;
    private final ArrayDeque<Result> history = new ArrayDeque<>();
    private final Thread thread;
    private volatile boolean running = true;

    public ActionExecutor(CgroupControl cgroups, boolean dryRun, int maxPerMinute, MeterRegistry registry,
            LongSupplier clockMillis) {
        this.cgroups = cgroups;
        this.dryRun = dryRun;
        this.maxPerMinute = maxPerMinute;
        this.registry = registry;
        this.clockMillis = clockMillis;
        this.latency = Timer.builder("driftwatch.action.latency")
                .description("Time from the triggering kernel event to the action's completion")
                .publishPercentiles(0.5, 0.99).register(registry);
        this.dropped = Counter.builder("driftwatch.actions.dropped")
                .description("Action requests dropped because the action queue was full").register(registry);
        for (Action a : Action.values()) {
            for (String r : new String[] {"ok", "failed", "dry_run", "rate_limited", "refused"}) counter(a, r);
        }
        thread = new Thread(this::loop, "dw-actions");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues a request; never blocks. False when it was a duplicate of a pending one or the queue was full. */
    public boolean submit(Request r) {
        String dedupe = r.action() + "/" + r.containerId();
        if (!pending.add(dedupe)) return false;
        if (!queue.offer(r)) {
            pending.remove(dedupe);
            dropped.increment();
            Log.warn("action dropped: queue full", "action", r.action().label(), "container_id", r.containerId());
            return false;
        }
        return true;
    }

    /** Runs a request synchronously (API unfreeze); same checks and accounting. */
    public Result execute(Request r) {
        synchronized (this) {
            return perform(r);
        }
    }

    public synchronized java.util.List<Result> history() {
        return java.util.List.copyOf(history);
    }

    private void loop() {
        while (running) {
            Request r;
            try {
                r = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (r == null) continue;
            try {
                synchronized (this) {
                    perform(r);
                }
            } finally {
                pending.remove(r.action() + "/" + r.containerId());
            }
        }
    }

    private Result perform(Request r) {
        String result;
        String detail = "";
        if (dryRun) {
            result = "dry_run";
            detail = "response.dry_run is on";
        } else if (r.action() != Action.UNFREEZE && !allow(r.workloadKey())) {
            result = "rate_limited";
            detail = "more than " + maxPerMinute + " actions in the last minute for " + r.workloadKey();
        } else {
            try {
                switch (r.action()) {
                    case FREEZE: cgroups.freeze(r.cgroupPath()); break;
                    case KILL:
                        int n = cgroups.kill(r.cgroupPath());
                        detail = n < 0 ? "cgroup.kill" : "SIGKILL to " + n + " processes";
                        break;
                    default: cgroups.thaw(r.cgroupPath());
                }
                result = "ok";
                if (r.eventKtimeNs() > 0) latency.record(System.nanoTime() - r.eventKtimeNs(), TimeUnit.NANOSECONDS);
            } catch (IOException | RuntimeException e) {
                result = e.getMessage() != null && e.getMessage().startsWith("refused") ? "refused" : "failed";
                detail = e.getMessage();
            }
        }
        counter(r.action(), result).increment();
        Log.log("ok".equals(result) || "dry_run".equals(result) ? Log.Level.INFO : Log.Level.WARN, "action",
                "action", r.action().label(), "result", result, "container_id", r.containerId(),
                "cgroup", r.cgroupPath(), "workload", r.workloadKey(), "reason", r.reason(), "caller", r.caller(),
                "detail", detail);
        Result res = new Result(r, result, detail);
        if (history.size() == 100) history.removeFirst();
        history.addLast(res);
        return res;
    }

    private boolean allow(String workload) {
        if (maxPerMinute <= 0) return false;
        long now = clockMillis.getAsLong();
        ArrayDeque<Long> q = recent.computeIfAbsent(workload, k -> new ArrayDeque<>());
        while (!q.isEmpty() && now - q.peekFirst() >= 60_000) q.removeFirst();
        if (q.size() >= maxPerMinute) return false;
        q.addLast(now);
        return true;
    }

    private Counter counter(Action a, String result) {
        return counters.computeIfAbsent(a.label() + "/" + result, k -> Counter.builder("driftwatch.actions")
                .description("Response actions, by action and result").tag("action", a.label()).tag("result", result)
                .register(registry));
    }

    /** Waits (bounded) until queued requests are done; for tests and shutdown. */
    public boolean drain(long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + timeoutMs * 1_000_000L;
        while ((!queue.isEmpty() || !pending.isEmpty()) && System.nanoTime() < end) Thread.sleep(5);
        return queue.isEmpty() && pending.isEmpty();
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
