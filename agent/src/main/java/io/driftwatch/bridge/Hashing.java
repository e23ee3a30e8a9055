package io.driftwatch.bridge;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * 64-bit hashing of byte ranges in place (no copy), used as feature keys on the hot path. The
 * same function over a {@code String}'s UTF-8 bytes gives the same value, so a profile entry
 * written as text hashes to the key the kernel's bytes hash to.
 */
public final class Hashing {
    private static final long SEED = 0x9E3779B97F4A7C15L;
    private static final long M = 0xff51afd7ed558ccdL;

    private Hashing() {}

    public static long hash(ByteBuffer buf, int off, int len) {
        long h = SEED ^ len;
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            h = mix(h ^ buf.getLong(off + i));
        }
        long tail = 0;
        for (int s = 0; i < len; i++, s += 8) {
            tail |= (buf.get(off + i) & 0xffL) << s;
        }
        return fmix(mix(h ^ tail));
    }

    public static long hash(byte[] b) {
        return hash(ByteBuffer.wrap(b).order(java.nio.ByteOrder.nativeOrder()), 0, b.length);
    }

    public static long hash(String s) {
        return hash(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Combines a hash with a small tag (e.g. the dimension), for keys of one shared table. */
    public static long combine(long h, long tag) {
        return fmix(h ^ (tag * SEED));
    }

    private static long mix(long h) {
        h *= M;
        return Long.rotateLeft(h, 31) * 0xc4ceb9fe1a85ec53L;
    }

    private static long fmix(long h) {
        h ^= h >>> 33;
        h *= M;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
