package io.driftwatch.respond;

import io.driftwatch.detect.Deviation;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** The latest deviations for {@code GET /api/v1/deviations}: a bounded ring, newest first. */
public final class RecentDeviations implements DeviationSink {
    private final int capacity;
    private final ArrayDeque<Deviation> ring;

    public RecentDeviations(int capacity) {
        this.capacity = capacity;
        this.ring = new ArrayDeque<>(capacity);
    }

    @Override
    public synchronized void emit(Deviation d) {
        if (ring.size() == capacity) ring.removeLast();
        ring.addFirst(d);
    }

    /** Newest first, at most {@code limit}, optionally filtered by profile key and kind. */
    public synchronized List<Deviation> latest(int limit, String profileKey, String kind) {
        List<Deviation> out = new ArrayList<>();
        for (Deviation d : ring) {
            if (out.size() >= limit) break;
            if (profileKey != null && !profileKey.equals(d.profileKey())) continue;
            if (kind != null && !kind.equals(d.kind())) continue;
            out.add(d);
        }
        return out;
    }
}
