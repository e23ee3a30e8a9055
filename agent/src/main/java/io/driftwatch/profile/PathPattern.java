package io.driftwatch.profile;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A path pattern as written in profiles (see docs/profile-format.md, "Path patterns"):
 *
 * <pre>
 *   /var/lib/redis/temp-[num].rdb      [num]   one or more decimal digits
 *   /var/lib/postgresql/15/main/pg_wal/[hex]   [hex]   one or more hex digits (either case)
 *   /proc/[pid]/stat                   [pid]   a process id: digits, "self" or "thread-self"
 *   /run/app/[uuid].sock               [uuid]  8-4-4-4-12 hex digits
 *   /var/log/app/[date].log            [date]  YYYY-MM-DD, optionally followed by a time
 *   /var/cache/nginx/proxy_temp/1/*&#47;[num]  *  any characters within one segment (not '/')
 *   /usr/share/zoneinfo/**             **      (a whole segment) zero or more segments
 *   /data/a\*b                         \c      the character c itself (escape for \ * [)
 * </pre>
 *
 * A pattern without wildcards is an exact path; {@link #escape(String)} turns any real path into
 * the pattern that matches exactly it. Matching works on UTF-8 bytes in place
 * ({@link #matches(ByteBuffer, int, int)}) and allocates nothing; backtracking is bounded by
 * the (small) number of wildcards per segment, which the compiler limits to {@value #MAX_WILDCARDS}.
 */
public final class PathPattern {
    static final int MAX_WILDCARDS = 8;
    public static final int MAX_LENGTH = 4096;

    private static final int LIT = 0, STAR = 1, NUM = 2, HEX = 3, PID = 4, UUID = 5, DATE = 6;
    private static final String[] CLASS_NAMES = {null, null, "num", "hex", "pid", "uuid", "date"};
    private static final byte[] SELF = "self".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] THREAD_SELF = "thread-self".getBytes(StandardCharsets.US_ASCII);

    private final String text;
    /** Per segment: null for "**", else the token kinds. */
    private final int[][] kinds;
    /** Per segment, per token: the literal bytes (LIT tokens only). */
    private final byte[][][] lits;
    private final boolean literal;

    private PathPattern(String text, int[][] kinds, byte[][][] lits, boolean literal) {
        this.text = text;
        this.kinds = kinds;
        this.lits = lits;
        this.literal = literal;
    }

    /** Pattern text as written. */
    public String text() { return text; }

    /** True when the pattern has no wildcard: it matches exactly {@link #literalPath()}. */
    public boolean isLiteral() { return literal; }

    /** The path an exact pattern matches (escapes removed). */
    public String literalPath() { return unescape(text); }

    @Override
    public String toString() { return text; }

    /** Escapes {@code \ * [} so that the result is the exact pattern of {@code path}. */
    public static String escape(String path) {
        StringBuilder sb = null;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '\\' || c == '*' || c == '[') {
                if (sb == null) sb = new StringBuilder(path.length() + 4).append(path, 0, i);
                sb.append('\\');
            }
            if (sb != null) sb.append(c);
        }
        return sb == null ? path : sb.toString();
    }

    static String unescape(String p) {
        if (p.indexOf('\\') < 0) return p;
        StringBuilder sb = new StringBuilder(p.length());
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\' && i + 1 < p.length()) c = p.charAt(++i);
            sb.append(c);
        }
        return sb.toString();
    }

    /** Compiles pattern text. @throws IllegalArgumentException naming the problem and column */
    public static PathPattern compile(String text) {
        if (text == null || text.isEmpty()) throw new IllegalArgumentException("empty path pattern");
        if (text.length() > MAX_LENGTH) throw new IllegalArgumentException("path pattern longer than " + MAX_LENGTH);
        if (text.charAt(0) != '/') throw new IllegalArgumentException("path pattern must start with '/': " + text);
        if (text.indexOf('\0') >= 0) throw new IllegalArgumentException("path pattern contains a NUL character");
        List<int[]> kinds = new ArrayList<>();
        List<byte[][]> lits = new ArrayList<>();
        boolean literal = true;
        int i = 1;
        while (true) {
            int end = segmentEnd(text, i);
            String seg = text.substring(i, end);
            if (seg.equals("**")) {
                kinds.add(null);
                lits.add(null);
                literal = false;
            } else {
                List<Integer> k = new ArrayList<>();
                List<byte[]> l = new ArrayList<>();
                StringBuilder lit = new StringBuilder();
                int wild = 0;
                for (int j = 0; j < seg.length(); j++) {
                    char c = seg.charAt(j);
                    if (c == '\\') {
                        if (j + 1 >= seg.length()) throw error(text, i + j, "dangling escape '\\'");
                        lit.append(seg.charAt(++j));
                    } else if (c == '*') {
                        if (j + 1 < seg.length() && seg.charAt(j + 1) == '*') {
                            throw error(text, i + j, "'**' must be a whole path segment");
                        }
                        flush(lit, k, l);
                        k.add(STAR);
                        l.add(null);
                        wild++;
                    } else if (c == '[') {
                        int close = seg.indexOf(']', j);
                        if (close < 0) throw error(text, i + j, "'[' without ']' (write \\[ for a literal '[')");
                        String name = seg.substring(j + 1, close);
                        int kind = classKind(name);
                        if (kind < 0) {
                            throw error(text, i + j, "unknown class [" + name + "] (known: [num] [hex] [pid] [uuid] [date])");
                        }
                        flush(lit, k, l);
                        k.add(kind);
                        l.add(null);
                        wild++;
                        j = close;
                    } else {
                        lit.append(c);
                    }
                }
                flush(lit, k, l);
                if (wild > MAX_WILDCARDS) throw error(text, i, "more than " + MAX_WILDCARDS + " wildcards in one segment");
                if (wild > 0) literal = false;
                int[] ka = new int[k.size()];
                for (int j = 0; j < ka.length; j++) ka[j] = k.get(j);
                kinds.add(ka);
                lits.add(l.toArray(new byte[0][]));
            }
            if (end >= text.length()) break;
            i = end + 1;
        }
        return new PathPattern(text, kinds.toArray(new int[0][]), lits.toArray(new byte[0][][]), literal);
    }

    private static int segmentEnd(String text, int from) {
        for (int j = from; j < text.length(); j++) {
            char c = text.charAt(j);
            if (c == '\\') j++;
            else if (c == '/') return j;
        }
        return text.length();
    }

    private static void flush(StringBuilder lit, List<Integer> k, List<byte[]> l) {
        if (lit.length() == 0) return;
        k.add(LIT);
        l.add(lit.toString().getBytes(StandardCharsets.UTF_8));
        lit.setLength(0);
    }

    private static int classKind(String name) {
        for (int k = NUM; k < CLASS_NAMES.length; k++) if (CLASS_NAMES[k].equals(name)) return k;
        return -1;
    }

    private static IllegalArgumentException error(String text, int col, String msg) {
        return new IllegalArgumentException(msg + " at column " + (col + 1) + " of pattern " + text);
    }

    // ---- matching (allocation-free) --------------------------------------------------------------

    /** Matches the UTF-8 path in {@code buf[off, off+len)} (absolute indexes). */
    public boolean matches(ByteBuffer buf, int off, int len) {
        if (len <= 0 || buf.get(off) != '/') return false;
        return matchFrom(buf, 0, off + 1, off + len);
    }

    public boolean matches(String path) {
        byte[] b = path.getBytes(StandardCharsets.UTF_8);
        return matches(ByteBuffer.wrap(b), 0, b.length);
    }

    /** @param p start of the next path segment, or end+1 when every segment is consumed */
    private boolean matchFrom(ByteBuffer buf, int si, int p, int end) {
        final int done = end + 1;
        while (true) {
            if (si == kinds.length) return p == done;
            int[] k = kinds[si];
            if (k == null) { // "**": zero or more whole segments
                if (si + 1 == kinds.length) return true;
                if (matchFrom(buf, si + 1, p, end)) return true;
                if (p == done) return false;
                int q = segEnd(buf, p, end);
                p = q < end ? q + 1 : done;
                continue;
            }
            if (p == done) return false;
            int q = segEnd(buf, p, end);
            if (!matchSeg(buf, k, lits[si], 0, p, q)) return false;
            p = q < end ? q + 1 : done;
            si++;
        }
    }

    private static int segEnd(ByteBuffer buf, int p, int end) {
        while (p < end && buf.get(p) != '/') p++;
        return p;
    }

    private static boolean matchSeg(ByteBuffer buf, int[] k, byte[][] lit, int ti, int p, int q) {
        if (ti == k.length) return p == q;
        switch (k[ti]) {
            case LIT: {
                byte[] l = lit[ti];
                if (q - p < l.length) return false;
                for (int j = 0; j < l.length; j++) if (buf.get(p + j) != l[j]) return false;
                return matchSeg(buf, k, lit, ti + 1, p + l.length, q);
            }
            case STAR:
                if (ti + 1 == k.length) return true;
                for (int e = q; e >= p; e--) if (matchSeg(buf, k, lit, ti + 1, e, q)) return true;
                return false;
            case NUM:
            case HEX: {
                int r = 0;
                boolean hex = k[ti] == HEX;
                while (p + r < q && (hex ? isHex(buf.get(p + r)) : isDigit(buf.get(p + r)))) r++;
                for (int n = r; n >= 1; n--) if (matchSeg(buf, k, lit, ti + 1, p + n, q)) return true;
                return false;
            }
            case PID: {
                int r = 0;
                while (p + r < q && isDigit(buf.get(p + r))) r++;
                for (int n = r; n >= 1; n--) if (matchSeg(buf, k, lit, ti + 1, p + n, q)) return true;
                if (r == 0) {
                    if (startsWith(buf, p, q, THREAD_SELF) && matchSeg(buf, k, lit, ti + 1, p + THREAD_SELF.length, q)) {
                        return true;
                    }
                    return startsWith(buf, p, q, SELF) && matchSeg(buf, k, lit, ti + 1, p + SELF.length, q);
                }
                return false;
            }
            case UUID:
                return q - p >= 36 && isUuid(buf, p) && matchSeg(buf, k, lit, ti + 1, p + 36, q);
            case DATE: {
                int n = dateLen(buf, p, q);
                if (n == 0) return false;
                if (matchSeg(buf, k, lit, ti + 1, p + n, q)) return true;
                return n > 10 && matchSeg(buf, k, lit, ti + 1, p + 10, q);
            }
            default:
                return false;
        }
    }

    private static boolean startsWith(ByteBuffer buf, int p, int q, byte[] s) {
        if (q - p < s.length) return false;
        for (int j = 0; j < s.length; j++) if (buf.get(p + j) != s[j]) return false;
        return true;
    }

    static boolean isDigit(byte b) { return b >= '0' && b <= '9'; }

    static boolean isHex(byte b) { return isDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F'); }

    private static boolean isUuid(ByteBuffer buf, int p) {
        for (int j = 0; j < 36; j++) {
            byte b = buf.get(p + j);
            if (j == 8 || j == 13 || j == 18 || j == 23) {
                if (b != '-') return false;
            } else if (!isHex(b)) {
                return false;
            }
        }
        return true;
    }

    private static boolean digits(ByteBuffer buf, int p, int q, int n) {
        if (q - p < n) return false;
        for (int j = 0; j < n; j++) if (!isDigit(buf.get(p + j))) return false;
        return true;
    }

    /**
     * Length of the longest date at p: YYYY-MM-DD, then optionally a separator (T _ - or space)
     * and HH[:.-]MM, then optionally [:.-]SS; 0 when there is no date.
     */
    private static int dateLen(ByteBuffer buf, int p, int q) {
        if (!(digits(buf, p, q, 4) && q - p >= 10 && buf.get(p + 4) == '-' && digits(buf, p + 5, q, 2)
                && buf.get(p + 7) == '-' && digits(buf, p + 8, q, 2))) {
            return 0;
        }
        int n = 10;
        if (q - p > n + 2) {
            byte s = buf.get(p + n);
            if ((s == 'T' || s == '_' || s == '-' || s == ' ') && digits(buf, p + n + 1, q, 2)) {
                int m = n + 3;
                if (m < q - p && isTimeSep(buf.get(p + m))) m++;
                if (digits(buf, p + m, q, 2)) {
                    n = m + 2;
                    int s2 = n;
                    if (s2 < q - p && isTimeSep(buf.get(p + s2))) s2++;
                    if (digits(buf, p + s2, q, 2)) n = s2 + 2;
                }
            }
        }
        return n;
    }

    private static boolean isTimeSep(byte b) { return b == ':' || b == '.' || b == '-'; }

    @Override
    public boolean equals(Object o) {
        return o instanceof PathPattern && ((PathPattern) o).text.equals(text);
    }

    @Override
    public int hashCode() { return text.hashCode(); }
}
