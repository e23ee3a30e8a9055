package io.driftwatch.bridge;

import java.nio.ByteBuffer;

/** Formats the address bytes of a dw_net record (network byte order) as text. */
public final class Addresses {
    private Addresses() {}

    public static String format(ByteBuffer buf, int off, int family) {
        if (family == 10) {
            byte[] b = new byte[16];
            buf.get(off, b, 0, 16);
            boolean v4mapped = true;
            for (int i = 0; i < 10; i++) v4mapped &= b[i] == 0;
            v4mapped &= (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
            if (v4mapped) return (b[12] & 0xff) + "." + (b[13] & 0xff) + "." + (b[14] & 0xff) + "." + (b[15] & 0xff);
            try {
                String s = java.net.InetAddress.getByAddress(b).getHostAddress();
                int pct = s.indexOf('%');
                return compress(pct >= 0 ? s.substring(0, pct) : s);
            } catch (java.net.UnknownHostException e) {
                return "?";
            }
        }
        return (buf.get(off) & 0xff) + "." + (buf.get(off + 1) & 0xff) + "." + (buf.get(off + 2) & 0xff) + "."
                + (buf.get(off + 3) & 0xff);
    }

    /** Shortens Java's full IPv6 form (0:0:0:0:0:0:0:1) to the RFC 5952 form (::1). */
    static String compress(String full) {
        String[] parts = full.split(":");
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < parts.length; ) {
            if (parts[i].equals("0")) {
                int j = i;
                while (j < parts.length && parts[j].equals("0")) j++;
                if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
                i = j;
            } else {
                i++;
            }
        }
        if (bestStart < 0) return full;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < bestStart; i++) sb.append(i > 0 ? ":" : "").append(parts[i]);
        sb.append("::");
        for (int i = bestStart + bestLen; i < parts.length; i++) sb.append(i > bestStart + bestLen ? ":" : "").append(parts[i]);
        return sb.toString();
    }
}
