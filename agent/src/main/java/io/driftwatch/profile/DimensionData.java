package io.driftwatch.profile;

import io.netty.util.collection.LongObjectHashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The learned set of one dimension of one profile: entries sorted by value, tombstones, the
 * learner's cache of raw-value hashes, and the dimension's convergence state. Pipeline thread only.
 */
public final class DimensionData {
    /** Cache marker: the raw value is refused (tombstoned, or not learnable). */
    static final Entry REFUSED = new Entry(Dimension.EXEC, "/", PathPattern.compile("/"));
    /** Bound of the raw-value cache; when full it is cleared (it is only a cache). */
    static final int RAW_CACHE_MAX = 1 << 16;

    final Dimension dimension;
    final TreeMap<String, Entry> entries = new TreeMap<>();
    final TreeMap<String, Tombstone> tombstones = new TreeMap<>();
    private final LongObjectHashMap<Entry> raw = new LongObjectHashMap<>();
    /** Entries whose value is a pattern, for matching new raw values (rebuilt when entries change). */
    private List<Entry> patterns;

    /** Wall-clock ms of the last new entry (or of the start of learning). */
    long lastNewMs;
    /** Relearning while the profile monitors/enforces: since when, and the profile's observation count then. */
    boolean relearning;
    long relearnStartedMs;
    long relearnObservationsBase;
    /** When this dimension hit learning.max_duration without converging (0: it did not). */
    long unconvergedMs;
    /** Last computed confidence 0..1 (read by the metrics thread). */
    volatile double confidence;

    DimensionData(Dimension dimension) {
        this.dimension = dimension;
    }

    public Dimension dimension() { return dimension; }
    public int size() { return entries.size(); }
    public double confidence() { return confidence; }
    public long lastNewMs() { return lastNewMs; }
    public boolean relearning() { return relearning; }
    public long relearnStartedMs() { return relearnStartedMs; }
    public long relearnObservationsBase() { return relearnObservationsBase; }
    public long unconvergedMs() { return unconvergedMs; }

    /** Sets the confidence the metric shows (the learner, every tick). */
    public void confidence(double c) {
        confidence = Math.max(0.0, Math.min(1.0, c));
    }
    public Entry entry(String value) { return entries.get(value); }
    public Tombstone tombstone(String value) { return tombstones.get(value); }
    public Iterable<Entry> entries() { return entries.values(); }
    public Iterable<Tombstone> tombstones() { return tombstones.values(); }

    // ---- learner cache --------------------------------------------------------------------------

    /** The entry a raw value (by hash) was folded into, {@link #REFUSED}, or null. Allocation-free. */
    public Entry cached(long rawHash) {
        return raw.get(rawHash);
    }

    public void cache(long rawHash, Entry e) {
        if (raw.size() >= RAW_CACHE_MAX) raw.clear();
        raw.put(rawHash, e);
    }

    public static boolean isRefused(Entry e) {
        return e == REFUSED;
    }

    public static Entry refused() {
        return REFUSED;
    }

    void invalidate() {
        raw.clear();
        patterns = null;
    }

    int cacheSize() {
        return raw.size();
    }

    // ---- lookups for new raw values ---------------------------------------------------------------

    /** An existing entry whose pattern matches the real value {@code raw}, or null. */
    public Entry matchingPattern(String raw) {
        if (patterns == null) {
            List<Entry> p = new ArrayList<>();
            for (Entry e : entries.values()) if (e.isPattern()) p.add(e);
            patterns = p;
        }
        for (Entry e : patterns) if (e.matchesRaw(raw)) return e;
        return null;
    }

    /** The tombstone covering {@code raw} or its generalisation, or null. */
    public Tombstone tombstoneFor(String raw, String generalised) {
        if (tombstones.isEmpty()) return null;
        for (Tombstone t : tombstones.values()) if (t.covers(raw, generalised)) return t;
        return null;
    }

    /** {@link #tombstoneVerdict}: no tombstone applies. */
    public static final int LEARN = 0;
    /** {@link #tombstoneVerdict}: a tombstone refuses the value. */
    public static final int REFUSE = 1;
    /** {@link #tombstoneVerdict}: a tombstone undid this generalisation: learn the exact value. */
    public static final int EXACT = 2;

    /**
     * What the tombstones say about learning real value {@code raw} as {@code generalised}:
     * {@link #REFUSE} when a refusing tombstone covers it, {@link #EXACT} when a learn_exact
     * tombstone does, else {@link #LEARN}.
     */
    public int tombstoneVerdict(String raw, String generalised) {
        int v = LEARN;
        for (Tombstone t : tombstones.values()) {
            if (!t.covers(raw, generalised)) continue;
            if (!t.learnExact) return REFUSE;
            v = EXACT;
        }
        return v;
    }

    /** A tombstone whose value is exactly {@code value}, refusing (not just undoing a generalisation). */
    Tombstone refusing(String value) {
        Tombstone t = tombstones.get(value);
        return t != null && !t.learnExact ? t : null;
    }

    // ---- mutation ------------------------------------------------------------------------------------

    /**
     * Learns one observation of the real value {@code example}, generalised to {@code value}
     * (by {@code rules}, empty when exact): merges into the existing entry, or creates it and
     * marks the dimension's last-new time. Pipeline thread only.
     *
     * @param suspect reason when a deviation of the container is open, else null
     */
    public Entry learn(String value, String example, String[] rules, long now, String image, boolean startup,
            String suspect, int maxExamples) {
        Entry e = entries.get(value);
        if (e == null) {
            e = Entry.of(dimension, value);
            e.firstSeenMs = now;
            e.image = image;
            e.startupOnly = startup;
            e.suspect = suspect;
            put(e);
            lastNewMs = now;
        }
        e.seen(now, startup);
        for (String r : rules) e.addRule(r);
        if (e.isPattern()) e.addExample(example, maxExamples);
        return e;
    }

    /** Something new (e.g. a new parent executable) appeared at {@code now}. */
    public void markNew(long now) {
        lastNewMs = now;
    }

    void put(Entry e) {
        entries.put(e.value, e);
        patterns = null;
    }

    Entry remove(String value) {
        Entry e = entries.remove(value);
        if (e != null) invalidate();
        return e;
    }

    /**
     * Collapses directories with more than {@code fanout} distinct children into {@code dir/*}
     * (path dimensions), looking at the ancestors of {@code value} from the deepest up to
     * {@code minDepth} segments. Returns the number of entries merged (0 when nothing collapsed).
     * Suspect entries stay apart (they await review). A directory whose collapse an operator
     * undid (a tombstone {@code dir/*...}) is never collapsed again.
     */
    public int collapseFanout(String value, int fanout, int minDepth, int maxExamples) {
        List<Integer> slashes = new ArrayList<>();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\') i++;
            else if (c == '/') slashes.add(i);
        }
        for (int level = slashes.size() - 1; level >= minDepth; level--) {
            String dir = value.substring(0, slashes.get(level)); // "/a/b" for depth 2
            String prefix = dir + "/";
            Map<String, Entry> under = entries.subMap(prefix, true, dir + "0", false); // '0' follows '/'
            java.util.Set<String> children = new java.util.HashSet<>();
            for (Entry e : under.values()) {
                if (e.suspect != null) continue;
                children.add(childSegment(e.value, prefix.length()));
            }
            if (children.size() <= fanout) {
                int n = collapseBuckets(dir, prefix, under, fanout, maxExamples);
                if (n > 0) return n;
                continue;
            }
            boolean undone = false;
            for (String t : tombstones.keySet()) if (t.startsWith(prefix + "*")) undone = true;
            if (undone) continue;
            List<Entry> merged = new ArrayList<>();
            for (Entry e : under.values()) if (e.suspect == null) merged.add(e);
            for (Entry e : merged) entries.remove(e.value);
            for (Entry e : merged) {
                String child = childSegment(e.value, prefix.length());
                String collapsed = prefix + "*" + e.value.substring(prefix.length() + child.length());
                Entry target = entries.get(collapsed);
                if (target == null) {
                    target = Entry.of(dimension, collapsed);
                    target.startupOnly = true;
                    target.suspect = null;
                    entries.put(collapsed, target);
                }
                target.absorb(e, maxExamples);
                target.addRule("fanout");
                target.fanout = Math.max(target.fanout, children.size());
            }
            invalidate();
            return merged.size();
        }
        return 0;
    }

    private static final java.util.regex.Pattern BUCKET = java.util.regex.Pattern.compile("[0-9a-fA-F]{1,4}");

    /**
     * Hash-bucket directories (nginx {@code levels=1:2} temp and cache trees, git objects): when
     * every entry under {@code dir} sits in two levels of short hex-digit directories and there
     * are more than {@code fanout} distinct bucket pairs, both levels become {@code *}
     * ({@code proxy_temp/*&#47;*&#47;[num]}). Each level alone may stay under the fan-out.
     */
    private int collapseBuckets(String dir, String prefix, Map<String, Entry> under, int fanout, int maxExamples) {
        java.util.Set<String> pairs = new java.util.HashSet<>();
        List<Entry> merged = new ArrayList<>();
        for (Entry e : under.values()) {
            if (e.suspect != null) continue;
            String a = childSegment(e.value, prefix.length());
            int b0 = prefix.length() + a.length() + 1;
            if (b0 >= e.value.length()) return 0;
            String b = childSegment(e.value, b0);
            if (!BUCKET.matcher(a).matches() || !BUCKET.matcher(b).matches() || b0 + b.length() >= e.value.length()) return 0;
            pairs.add(a + "/" + b);
            merged.add(e);
        }
        if (pairs.size() <= fanout) return 0;
        for (String t : tombstones.keySet()) if (t.startsWith(prefix + "*")) return 0;
        for (Entry e : merged) entries.remove(e.value);
        for (Entry e : merged) {
            String a = childSegment(e.value, prefix.length());
            int b0 = prefix.length() + a.length() + 1;
            String b = childSegment(e.value, b0);
            String collapsed = prefix + "*/*" + e.value.substring(b0 + b.length());
            Entry target = entries.get(collapsed);
            if (target == null) {
                target = Entry.of(dimension, collapsed);
                target.startupOnly = true;
                entries.put(collapsed, target);
            }
            target.absorb(e, maxExamples);
            target.addRule("fanout");
            target.fanout = Math.max(target.fanout, pairs.size());
        }
        invalidate();
        return merged.size();
    }

    private static String childSegment(String value, int from) {
        for (int i = from; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\') i++;
            else if (c == '/') return value.substring(from, i);
        }
        return value.substring(from);
    }

    /**
     * Outbound peers: more than {@code fanout} exact IPv4 addresses on one proto:port within one
     * /16 become the smallest CIDR range covering them (never wider than /16). Returns merged count.
     */
    public int collapsePeers(NetPattern added, int fanout, int maxExamples) {
        if (added.addr == null || added.addr.length != 4 || !added.isExact()) return 0;
        List<Entry> group = new ArrayList<>();
        for (Entry e : entries.values()) {
            NetPattern n = (NetPattern) e.compiled;
            if (e.suspect == null && n.isExact() && n.proto == added.proto && n.port == added.port
                    && n.addr.length == 4 && n.addr[0] == added.addr[0] && n.addr[1] == added.addr[1]) {
                group.add(e);
            }
        }
        if (group.size() <= fanout) return 0;
        int prefix = 32;
        for (Entry e : group) {
            byte[] a = ((NetPattern) e.compiled).addr;
            int common = 0;
            while (common < 32 && ((a[common >>> 3] ^ added.addr[common >>> 3]) & (0x80 >>> (common & 7))) == 0) common++;
            prefix = Math.min(prefix, common);
        }
        prefix = Math.max(prefix, 16);
        String text = NetPattern.peerRangeText(added.proto, added.addr, prefix, added.port);
        if (tombstones.containsKey(text)) return 0;
        Entry target = entries.get(text);
        if (target == null) {
            target = Entry.of(dimension, text);
            target.startupOnly = true;
            entries.put(text, target);
        }
        for (Entry e : group) {
            entries.remove(e.value);
            target.absorb(e, maxExamples);
        }
        target.addRule("fanout");
        target.fanout = Math.max(target.fanout, group.size());
        invalidate();
        return group.size();
    }

    long approxBytes() {
        long b = 96 + 40L * (entries.size() + tombstones.size());
        for (Entry e : entries.values()) b += e.approxBytes();
        for (Tombstone t : tombstones.values()) b += 64 + Entry.str(t.value) + Entry.str(t.reason) + 48 + 2L * t.value.length();
        b += 48 + 24L * raw.size() * 2; // LongObjectHashMap: long[] + Object[] at load factor 0.5
        return b;
    }
}
