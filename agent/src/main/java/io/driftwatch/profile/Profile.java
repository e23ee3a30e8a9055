package io.driftwatch.profile;

import java.util.TreeMap;

/**
 * The mutable behavioural baseline of one workload: identity, mode, learning state, one
 * {@link DimensionData} per {@link Dimension}, and the image digests that contributed. Owned and
 * mutated by the pipeline thread only; other threads see {@link ProfileSnapshot}s and the
 * detector sees {@link CompiledProfile}s.
 */
public final class Profile {
    final ProfileKey key;
    Mode mode = Mode.LEARNING;
    long modeChangedMs;
    String modeChangedBy;
    long startedMs;
    long observations;
    /** Observations before the current learning period began (setMode learning resets the period). */
    long observationsBase;
    /** Observations as last written to / read from the file (hot reload merges the difference). */
    long persistedObservations;
    long convergedMs;
    long unconvergedMs;
    /**
     * When a container of this workload was first seen through its whole start-up (started while
     * the agent ran); 0 = never: every container pre-dated the agent, so start-up behaviour is
     * still unknown and is learned, not alerted, at the next container start.
     */
    long startupObservedMs;
    final DimensionData[] dims = new DimensionData[Dimension.count()];
    final TreeMap<String, ImageRecord> images = new TreeMap<>();

    // ---- runtime (not persisted) --------------------------------------------------------------
    /** Bumped on every change (counts included): flush and publish compare it. */
    long changes;
    /** Bumped when entries, tombstones or mode change: the compiled form is rebuilt. */
    long structure;
    boolean deleted;
    /** Deviation-derived proposals awaiting review, by "dimension value" (runtime; see ProfileStore#propose). */
    final java.util.TreeMap<String, Proposal> proposals = new java.util.TreeMap<>();
    private CompiledProfile compiled;
    private long compiledStructure = -1;

    Profile(ProfileKey key) {
        this.key = key;
        for (int i = 0; i < dims.length; i++) dims[i] = new DimensionData(Dimension.of(i));
    }

    /** A new, empty profile in learning mode started at {@code now}. */
    public static Profile create(ProfileKey key, long now) {
        Profile p = new Profile(key);
        p.startedMs = now;
        for (DimensionData d : p.dims) d.lastNewMs = now;
        return p;
    }

    public ProfileKey key() { return key; }
    public Mode mode() { return mode; }
    public long startedMs() { return startedMs; }
    public long observations() { return observations; }
    public long observationsBase() { return observationsBase; }
    public long convergedMs() { return convergedMs; }
    public long unconvergedMs() { return unconvergedMs; }
    public long startupObservedMs() { return startupObservedMs; }

    /** Records that a container's start-up was seen from its beginning to its end. */
    public void startupObserved(long now) {
        if (startupObservedMs != 0) return;
        startupObservedMs = now;
        changed();
    }
    public DimensionData dim(Dimension d) { return dims[d.ordinal()]; }
    public boolean deleted() { return deleted; }

    /**
     * The state reported in {@code driftwatch_profiles{state}}: {@code monitor}, {@code enforce},
     * or while in learning mode {@code learning}, {@code converged} (converged but not promoted)
     * or {@code unconverged} (hit learning.max_duration without converging: learning stopped).
     */
    public String state() {
        if (mode != Mode.LEARNING) return mode.text();
        if (unconvergedMs != 0) return "unconverged";
        if (convergedMs != 0) return "converged";
        return "learning";
    }

    /** The states {@link #state()} can return, in metric order. */
    public static final String[] STATES = {"learning", "converged", "unconverged", "monitor", "enforce"};

    /** True while dimension {@code d} learns (profile learning and not stopped, or relearning). */
    public boolean learning(Dimension d) {
        return dims[d.ordinal()].relearning || (mode == Mode.LEARNING && unconvergedMs == 0);
    }

    /** Records one learned observation (allocation-free). */
    public void observed() {
        observations++;
        changes++;
    }

    /** Marks a change of counters only (no recompile). */
    public void touched() {
        changes++;
    }

    /** Marks a change of entries, tombstones or mode (recompile, flush, publish). */
    public void changed() {
        changes++;
        structure++;
    }

    public long changes() { return changes; }

    /** The learner: the profile converged at {@code now} (0: it is no longer converged). */
    public void converged(long now) {
        if (convergedMs == now) return;
        convergedMs = now;
        changed();
    }

    /**
     * The learner: learning.max_duration passed without convergence at {@code now}. Learning
     * stops; the dimensions that were not stable are marked unconverged too.
     */
    public void unconverged(long now) {
        unconvergedMs = now;
        for (DimensionData d : dims) if (d.confidence < 1.0) d.unconvergedMs = now;
        changed();
    }

    /** The learner: a relearned dimension converged (unconvergedAt 0) or gave up at unconvergedAt. */
    public void stopRelearning(Dimension d, long unconvergedAt) {
        DimensionData dd = dims[d.ordinal()];
        dd.relearning = false;
        dd.unconvergedMs = unconvergedAt;
        changed();
    }

    /** The compiled form for the detector, rebuilt lazily when the structure changed. */
    public CompiledProfile compiled() {
        if (compiledStructure != structure || compiled == null) {
            compiled = ProfileCompiler.compile(this);
            compiledStructure = structure;
        }
        return compiled;
    }

    /** Replaces this profile's content with {@code other}'s (hot reload keeps the object bindings point at). */
    void replaceWith(Profile other) {
        mode = other.mode;
        modeChangedMs = other.modeChangedMs;
        modeChangedBy = other.modeChangedBy;
        startedMs = other.startedMs;
        observations = other.observations;
        observationsBase = other.observationsBase;
        persistedObservations = other.persistedObservations;
        convergedMs = other.convergedMs;
        unconvergedMs = other.unconvergedMs;
        for (int i = 0; i < dims.length; i++) {
            DimensionData d = dims[i], o = other.dims[i];
            d.entries.clear();
            d.entries.putAll(o.entries);
            d.tombstones.clear();
            d.tombstones.putAll(o.tombstones);
            d.lastNewMs = o.lastNewMs;
            d.relearning = o.relearning;
            d.relearnStartedMs = o.relearnStartedMs;
            d.relearnObservationsBase = o.relearnObservationsBase;
            d.unconvergedMs = o.unconvergedMs;
            d.invalidate();
        }
        for (java.util.Map.Entry<String, ImageRecord> e : other.images.entrySet()) {
            ImageRecord mine = images.get(e.getKey());
            if (mine == null) {
                images.put(e.getKey(), e.getValue());
            } else { // keep the record objects bindings hold
                mine.firstSeenMs = e.getValue().firstSeenMs;
                mine.lastSeenMs = Math.max(mine.lastSeenMs, e.getValue().lastSeenMs);
            }
        }
        images.keySet().retainAll(other.images.keySet());
        changed();
    }

    /** The image record of {@code digest}, created at {@code now} when new. */
    public ImageRecord image(String digest, long now) {
        ImageRecord r = images.get(digest);
        if (r == null) {
            r = new ImageRecord(digest, now, now);
            images.put(digest, r);
            changed();
        }
        return r;
    }

    /** Approximate heap bytes of the profile: entries, strings, caches, compiled form. */
    public long approxBytes() {
        long b = 200 + Entry.str(key.key()) + 64L * images.size();
        for (DimensionData d : dims) b += d.approxBytes();
        if (compiled != null) b += compiled.approxBytes();
        return b;
    }

    @Override
    public String toString() {
        return "Profile[" + key.key() + ", " + state() + "]";
    }

    /** An image digest that contributed to the profile. */
    public static final class ImageRecord {
        final String digest;
        long firstSeenMs;
        long lastSeenMs;

        ImageRecord(String digest, long firstSeenMs, long lastSeenMs) {
            this.digest = digest;
            this.firstSeenMs = firstSeenMs;
            this.lastSeenMs = lastSeenMs;
        }

        public String digest() { return digest; }

        /** Allocation-free. */
        public void seen(long now) {
            if (now > lastSeenMs) lastSeenMs = now;
        }
    }

    /** A deviation the operator may turn into an entry (approve) or a tombstone (reject). */
    static final class Proposal {
        final Dimension dimension;
        final String value;
        long count;
        final long firstMs;
        long lastMs;
        final java.util.Map<String, Object> evidence;

        Proposal(Dimension dimension, String value, long now, java.util.Map<String, Object> evidence) {
            this.dimension = dimension;
            this.value = value;
            this.firstMs = now;
            this.lastMs = now;
            this.evidence = evidence;
        }
    }
}
