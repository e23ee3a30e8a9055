package io.driftwatch.profile;

import java.util.Arrays;

/**
 * One learned value of one dimension: an exact value or a pattern (see {@link PathPattern},
 * {@link NetPattern}) with its evidence. Mutable; owned by the pipeline thread. The fields are
 * the profile YAML fields of an entry (docs/profile-format.md).
 */
public final class Entry {
    static final String[] NONE = new String[0];

    final Dimension dimension;
    final String value;
    /** Compiled form of {@link #value}: a PathPattern or a NetPattern. */
    final Object compiled;

    /** Parent executables that launched this executable (EXEC only), sorted. */
    String[] parents = NONE;
    long count;
    long firstSeenMs;
    long lastSeenMs;
    /** Image digest of the container that produced the entry first, or null. */
    String image;
    /** Seen only in the start-up window of containers so far. */
    boolean startupOnly;
    /** Why the entry is suspect (first seen while a deviation of its container was open), or null. */
    String suspect;
    /** Operator who added the entry explicitly, or null when learned. */
    String addedBy;
    /** Operator who reviewed (approved) the entry, or null. */
    String reviewedBy;
    /** Names of the generalisation rules (and "fanout") that produced this pattern, sorted. */
    String[] generalisedBy = NONE;
    /** Distinct children a fanout collapse merged, 0 when none. */
    int fanout;
    /** Real values this pattern was generalised from (bounded), sorted. */
    String[] examples = NONE;
    /** Count as last written to / read from the file; -1 when the entry is not in the file yet. */
    long persistedCount = -1;

    Entry(Dimension dimension, String value, Object compiled) {
        this.dimension = dimension;
        this.value = value;
        this.compiled = compiled;
    }

    /** Parses and compiles {@code value} for {@code d}. @throws IllegalArgumentException when invalid */
    public static Entry of(Dimension d, String value) {
        return new Entry(d, value, compile(d, value));
    }

    static Object compile(Dimension d, String value) {
        switch (d) {
            case EXEC: case FILE_READ: case FILE_WRITE: return PathPattern.compile(value);
            case LISTEN: case ACCEPT: return NetPattern.parsePort(value);
            default: return NetPattern.parsePeer(value);
        }
    }

    public Dimension dimension() { return dimension; }
    public String value() { return value; }
    public long count() { return count; }
    public long firstSeenMs() { return firstSeenMs; }
    public long lastSeenMs() { return lastSeenMs; }
    public String image() { return image; }
    public boolean startupOnly() { return startupOnly; }
    public String suspect() { return suspect; }
    public String addedBy() { return addedBy; }
    public String[] examples() { return examples.clone(); }
    public String[] generalisedBy() { return generalisedBy.clone(); }
    public String[] parents() { return parents.clone(); }

    /** True when the value is a pattern (or range/wildcard), not one exact value. */
    /** The compiled form: a {@link PathPattern} for paths, a {@link NetPattern} for ports and peers. */
    public Object compiled() { return compiled; }

    public boolean isPattern() {
        return compiled instanceof PathPattern ? !((PathPattern) compiled).isLiteral() : !((NetPattern) compiled).isExact();
    }

    /** Does this entry's value match the real value {@code raw} (a path, or a net value text). */
    boolean matchesRaw(String raw) {
        return matchesRaw(compiled, raw);
    }

    static boolean matchesRaw(Object compiled, String raw) {
        if (compiled instanceof PathPattern) return ((PathPattern) compiled).matches(raw);
        NetPattern n = (NetPattern) compiled;
        try {
            if (!n.isPeer()) {
                NetPattern r = NetPattern.parsePort(raw);
                return r.port >= 0 && n.matchesPort(r.proto, r.port);
            }
            NetPattern r = NetPattern.parsePeer(raw);
            if (r.addr == null || r.port < 0) return false;
            return n.matches(r.proto, r.port, java.nio.ByteBuffer.wrap(r.addr), 0, r.addr.length == 4 ? 2 : 10);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Records one more observation at {@code now}; allocation-free. Pipeline thread only. */
    public void seen(long now, boolean startup) {
        count++;
        if (now > lastSeenMs) lastSeenMs = now;
        if (firstSeenMs == 0) firstSeenMs = now;
        if (!startup) startupOnly = false;
    }

    /** True when {@code parent} is already recorded (allocation-free). */
    public boolean hasParent(String parent) {
        for (String p : parents) if (p.equals(parent)) return true;
        return false;
    }

    public void addParent(String parent, int max) {
        if (hasParent(parent) || parents.length >= max) return;
        parents = insertSorted(parents, parent);
    }

    public void addExample(String example, int max) {
        if (examples.length >= max || Arrays.asList(examples).contains(example)) return;
        examples = insertSorted(examples, example);
    }

    void addRule(String rule) {
        if (!Arrays.asList(generalisedBy).contains(rule)) generalisedBy = insertSorted(generalisedBy, rule);
    }

    static String[] insertSorted(String[] a, String s) {
        String[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = s;
        Arrays.sort(b);
        return b;
    }

    /** Folds another entry's evidence into this one (fanout collapse). */
    void absorb(Entry o, int maxExamples) {
        count += o.count;
        if (o.firstSeenMs != 0 && (firstSeenMs == 0 || o.firstSeenMs < firstSeenMs)) {
            firstSeenMs = o.firstSeenMs;
            image = o.image;
        }
        if (image == null) image = o.image;
        if (o.lastSeenMs > lastSeenMs) lastSeenMs = o.lastSeenMs;
        startupOnly &= o.startupOnly;
        for (String p : o.parents) addParent(p, Integer.MAX_VALUE);
        for (String r : o.generalisedBy) addRule(r);
        if (o.examples.length == 0 && !o.isPattern()) {
            addExample(o.compiled instanceof PathPattern ? ((PathPattern) o.compiled).literalPath() : o.value, maxExamples);
        }
        for (String e : o.examples) addExample(e, maxExamples);
        if (addedBy == null) addedBy = o.addedBy;
    }

    Entry copy() {
        Entry e = new Entry(dimension, value, compiled);
        e.parents = parents;
        e.count = count;
        e.firstSeenMs = firstSeenMs;
        e.lastSeenMs = lastSeenMs;
        e.image = image;
        e.startupOnly = startupOnly;
        e.suspect = suspect;
        e.addedBy = addedBy;
        e.reviewedBy = reviewedBy;
        e.generalisedBy = generalisedBy;
        e.fanout = fanout;
        e.examples = examples;
        e.persistedCount = persistedCount;
        return e;
    }

    /** Approximate heap bytes of the entry, its strings and arrays. */
    long approxBytes() {
        long b = 72 + str(value) + 16; // object + value + compiled reference target share below
        b += compiled instanceof PathPattern ? 48 + 2L * value.length() : 56;
        b += arr(parents) + arr(generalisedBy) + arr(examples);
        return b;
    }

    static long str(String s) {
        return s == null ? 0 : 40 + s.length();
    }

    private static long arr(String[] a) {
        if (a.length == 0) return 0;
        long b = 16 + 4L * a.length;
        for (String s : a) b += str(s);
        return b;
    }

    @Override
    public String toString() {
        return dimension.tag() + ":" + value;
    }
}
