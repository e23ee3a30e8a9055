package io.driftwatch.profile;

import java.util.Arrays;

/**
 * A set of {@code long}s with open addressing and linear probing: no boxing, no per-element
 * objects, {@link #contains} allocates nothing. Zero is stored out of band (it is the empty-slot
 * marker). Not thread-safe; used by the pipeline thread only.
 *
 * <p>An optional {@code maxSize} turns the set into a bounded cache: adding beyond it clears the
 * set first (callers only use such sets as caches of values that can be recomputed).
 */
public final class LongHashSet {
    private long[] table;
    private int mask;
    private int size;
    private boolean hasZero;
    private final int maxSize;

    public LongHashSet() {
        this(16, Integer.MAX_VALUE);
    }

    public LongHashSet(int expected, int maxSize) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        table = new long[cap];
        mask = cap - 1;
        this.maxSize = maxSize;
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    public boolean contains(long key) {
        if (key == 0) return hasZero;
        long[] t = table;
        int m = mask;
        for (int i = slot(key, m); ; i = (i + 1) & m) {
            long v = t[i];
            if (v == key) return true;
            if (v == 0) return false;
        }
    }

    /** Adds {@code key}; returns true when it was not present. */
    public boolean add(long key) {
        if (contains(key)) return false;
        if (size >= maxSize) clear();
        if (key == 0) {
            hasZero = true;
            size++;
            return true;
        }
        if ((size + 1) * 2 > table.length) grow();
        insert(table, mask, key);
        size++;
        return true;
    }

    private static void insert(long[] t, int m, long key) {
        int i = slot(key, m);
        while (t[i] != 0) i = (i + 1) & m;
        t[i] = key;
    }

    private void grow() {
        long[] old = table;
        long[] t = new long[old.length * 2];
        int m = t.length - 1;
        for (long v : old) if (v != 0) insert(t, m, v);
        table = t;
        mask = m;
    }

    public void clear() {
        Arrays.fill(table, 0L);
        hasZero = false;
        size = 0;
    }

    public int size() {
        return size;
    }

    /** Approximate heap bytes (the table dominates). */
    public long approxBytes() {
        return 16 + 16 + 8L * table.length;
    }
}
