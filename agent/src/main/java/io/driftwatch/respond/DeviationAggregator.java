package io.driftwatch.respond;

import io.driftwatch.detect.Deviation;
import io.micrometer.core.instrument.Counter;
import io.netty.util.collection.LongObjectHashMap;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * Aggregates repeats of the same deviation (same profile, container, kind and value) so a
 * noisy process cannot flood the sinks — while the first occurrence of every distinct value is
 * always emitted at once. Repeats only bump a counter (no allocation); {@link #flush} emits one
 * summary record per aggregate that gained repeats, with count and first/last time.
 * Pipeline thread only.
 */
public final class DeviationAggregator {
    static final class Agg {
        final Deviation first;
        final Counter counter;
        long count = 1;
        long reported = 1;
        long lastMillis;

        Agg(Deviation first, Counter counter, long now) {
            this.first = first;
            this.counter = counter;
            this.lastMillis = now;
        }
    }

    private final LongObjectHashMap<Agg> aggs = new LongObjectHashMap<>();
    private final int maxEntries;
    private final long idleMillis;
    private final Consumer<Deviation> out;
    private long untracked;

    /** @param out receives first occurrences and repeat summaries */
    public DeviationAggregator(int maxEntries, long idleMillis, Consumer<Deviation> out) {
        this.maxEntries = maxEntries;
        this.idleMillis = idleMillis;
        this.out = out;
    }

    /** Counts a repeat of {@code key}; false when the key is new (the caller then calls {@link #first}). */
    public boolean repeat(long key, long nowMillis) {
        Agg a = aggs.get(key);
        if (a == null) return false;
        a.count++;
        a.lastMillis = nowMillis;
        if (a.counter != null) a.counter.increment();
        return true;
    }

    /** Emits a first occurrence and starts aggregating its repeats. */
    public void first(long key, Deviation d, Counter counter, long nowMillis) {
        if (counter != null) counter.increment();
        out.accept(d);
        if (aggs.size() >= maxEntries) evictIdle(nowMillis, 0);
        if (aggs.size() >= maxEntries) {
            untracked++; // still emitted above; its repeats will be emitted as new firsts
            return;
        }
        aggs.put(key, new Agg(d, counter, nowMillis));
    }

    /** Emits a summary of every aggregate that gained repeats; forgets aggregates idle too long. */
    public void flush(long nowMillis) {
        List<Deviation> summaries = new ArrayList<>();
        for (Agg a : aggs.values()) {
            if (a.count > a.reported) {
                summaries.add(a.first.withCount(a.count, Instant.ofEpochMilli(a.lastMillis)));
                a.reported = a.count;
            }
        }
        summaries.forEach(out);
        evictIdle(nowMillis, idleMillis);
    }

    private void evictIdle(long now, long idle) {
        Iterator<Agg> it = aggs.values().iterator();
        while (it.hasNext()) {
            Agg a = it.next();
            if (now - a.lastMillis >= idle && a.count == a.reported) it.remove();
        }
    }

    /** Forgets the aggregates of a profile (after an approval, say). */
    public void forget(String profileKey) {
        aggs.values().removeIf(a -> profileKey.equals(a.first.profileKey()));
    }

    public int size() {
        return aggs.size();
    }

    public long untracked() {
        return untracked;
    }
}
