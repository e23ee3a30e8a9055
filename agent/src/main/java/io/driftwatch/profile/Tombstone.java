package io.driftwatch.profile;

/**
 * A value an operator removed from a profile: never relearned. Its value may be a pattern; every
 * real value it matches is then refused by the learner (and stays a deviation for the detector),
 * unless an explicit entry covers it. With {@code learnExact}, the tombstone only undoes a
 * generalisation: the values it matches may still be learned, but as exact entries, never as
 * this pattern again.
 */
public final class Tombstone {
    final Dimension dimension;
    final String value;
    final Object compiled;
    final long removedMs;
    final String removedBy;
    final String reason;
    final boolean learnExact;
    /** In the file as last written or read. */
    boolean persisted;

    Tombstone(Dimension dimension, String value, long removedMs, String removedBy, String reason, boolean learnExact) {
        this.dimension = dimension;
        this.value = value;
        this.compiled = Entry.compile(dimension, value);
        this.removedMs = removedMs;
        this.removedBy = removedBy;
        this.reason = reason;
        this.learnExact = learnExact;
    }

    public Dimension dimension() { return dimension; }
    public String value() { return value; }
    public long removedMs() { return removedMs; }
    public String removedBy() { return removedBy; }
    public String reason() { return reason; }
    public boolean learnExact() { return learnExact; }

    /** Does this tombstone cover the real value {@code raw}, or the (generalised) value text {@code value}. */
    boolean covers(String raw, String generalised) {
        if (value.equals(generalised) || value.equals(raw)) return true;
        return Entry.matchesRaw(compiled, raw);
    }
}
