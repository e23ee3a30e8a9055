package io.driftwatch.profile;

import io.driftwatch.bridge.Addresses;
import io.driftwatch.bridge.EventLayout;
import io.driftwatch.bridge.EventView;
import io.driftwatch.bridge.Hashing;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * A network value of a profile, parsed from its text form:
 *
 * <pre>
 *   ports (listening_ports, inbound_accepts):   tcp:8080    udp:53    tcp:*
 *   peers (outbound_peers):                     tcp:10.0.0.5:5432          exact IPv4 peer
 *                                               tcp:10.0.0.0/16:5432       IPv4 range (CIDR)
 *                                               tcp:[fd00::5]:443          IPv6 (in brackets)
 *                                               tcp:[fd00::]/64:443        IPv6 range
 *                                               udp:*:53    tcp:10.0.0.5:*  any address / any port
 * </pre>
 *
 * IPv4-mapped IPv6 peers (::ffff:a.b.c.d) are IPv4 peers. Exact values have a 64-bit key
 * ({@link #key()}) that {@link #portKey}/{@link #peerKey(EventView)} compute from an event in
 * place; ranges and wildcards are matched by {@link #matches(int, int, ByteBuffer, int, int)}.
 */
public final class NetPattern {
    private final String text;
    final int proto;
    /** -1: any port. */
    final int port;
    /** 0: any address (or a port value), 4 or 6. */
    final int family;
    /** Network-order address bytes (4 or 16), null for any. */
    final byte[] addr;
    final int prefix;
    private final boolean peer;

    private NetPattern(String text, boolean peer, int proto, int port, int family, byte[] addr, int prefix) {
        this.text = text;
        this.peer = peer;
        this.proto = proto;
        this.port = port;
        this.family = family;
        this.addr = addr;
        this.prefix = prefix;
    }

    public String text() { return text; }

    /** Protocol number (6 tcp, 17 udp). */
    public int proto() { return proto; }

    /** Port, or -1 for any port. */
    public int port() { return port; }

    /** 4, 6, or 0 for any address. */
    public int family() { return family; }

    /** Network-order address bytes (a copy), or null for any address. */
    public byte[] addr() { return addr == null ? null : addr.clone(); }

    /** Prefix length of the address range (32 / 128 for one address). */
    public int prefix() { return prefix; }

    /** True for peer values (outbound_peers), false for port values. */
    public boolean isPeer() { return peer; }

    @Override
    public String toString() { return text; }

    /** True when the value names one proto/port (and one address for peers): it has a {@link #key()}. */
    public boolean isExact() {
        return port >= 0 && (!peer || (addr != null && prefix == addr.length * 8));
    }

    /** Key of an exact value (equal to what the event side computes). */
    public long key() {
        if (!peer) return portKey(proto, port);
        return peerKey(proto, port, addrKey(addr));
    }

    // ---- keys ------------------------------------------------------------------------------------

    public static long portKey(int proto, int port) {
        return (1L << 40) | ((long) proto << 16) | (port & 0xffff);
    }

    static long addrKey(byte[] a) {
        if (a.length == 4) return 0x1_0000_0000L | (((a[0] & 0xffL) << 24) | ((a[1] & 0xff) << 16) | ((a[2] & 0xff) << 8) | (a[3] & 0xff));
        return Hashing.hash(a);
    }

    static long peerKey(int proto, int port, long addrKey) {
        return Hashing.combine(addrKey, ((long) proto << 16) | (port & 0xffff));
    }

    /** True when the 16 bytes at off are an IPv4-mapped IPv6 address. */
    static boolean isV4Mapped(ByteBuffer buf, int off) {
        for (int i = 0; i < 10; i++) if (buf.get(off + i) != 0) return false;
        return buf.get(off + 10) == (byte) 0xff && buf.get(off + 11) == (byte) 0xff;
    }

    /** Key of the remote peer of a net event (proto, raddr, rport), allocation-free. 0 for non-IP families. */
    public static long peerKey(EventView ev) {
        int fam = ev.family();
        int off = ev.raddrOffset();
        ByteBuffer b = ev.buffer();
        long ak;
        if (fam == 2) {
            ak = v4Key(b, off);
        } else if (fam == 10) {
            ak = isV4Mapped(b, off) ? v4Key(b, off + 12) : Hashing.hash(b, off, 16);
        } else {
            return 0;
        }
        return peerKey(ev.proto(), ev.rport(), ak);
    }

    private static long v4Key(ByteBuffer b, int off) {
        return 0x1_0000_0000L | ((b.get(off) & 0xffL) << 24) | ((b.get(off + 1) & 0xff) << 16)
                | ((b.get(off + 2) & 0xff) << 8) | (b.get(off + 3) & 0xff);
    }

    /** Text of the remote peer of a net event ("tcp:10.0.0.5:5432"), allocates. Null for non-IP families. */
    public static String peerText(EventView ev) {
        int fam = ev.family();
        if (fam != 2 && fam != 10) return null;
        String a = Addresses.format(ev.buffer(), ev.raddrOffset(), fam);
        return protoName(ev.proto()) + ":" + (a.indexOf(':') >= 0 ? "[" + a + "]" : a) + ":" + ev.rport();
    }

    public static String portText(int proto, int port) {
        return protoName(proto) + ":" + port;
    }

    static String protoName(int proto) {
        return proto == EventLayout.PROTO_UDP ? "udp" : proto == EventLayout.PROTO_TCP ? "tcp" : "ip" + proto;
    }

    // ---- matching ----------------------------------------------------------------------------------

    /** Port values: does {@code proto:port} match. */
    public boolean matchesPort(int proto, int port) {
        return proto == this.proto && (this.port < 0 || this.port == port);
    }

    /**
     * Peer values: does the peer (proto, port, address bytes at {@code off} of family 2 or 10) match.
     * Allocation-free.
     */
    public boolean matches(int proto, int port, ByteBuffer buf, int off, int fam) {
        if (proto != this.proto || (this.port >= 0 && this.port != port)) return false;
        if (addr == null) return true;
        int len;
        if (fam == 2) {
            len = 4;
        } else if (fam == 10) {
            if (isV4Mapped(buf, off)) {
                off += 12;
                len = 4;
            } else {
                len = 16;
            }
        } else {
            return false;
        }
        if (len != addr.length) return false;
        int full = prefix >>> 3, rem = prefix & 7;
        for (int i = 0; i < full; i++) if (buf.get(off + i) != addr[i]) return false;
        if (rem != 0) {
            int mask = (0xff << (8 - rem)) & 0xff;
            if ((buf.get(off + full) & mask) != (addr[full] & mask)) return false;
        }
        return true;
    }

    // ---- parsing -------------------------------------------------------------------------------------

    /** Parses a port value ({@code tcp:8080}, {@code udp:*}). @throws IllegalArgumentException */
    public static NetPattern parsePort(String text) {
        int c = text.indexOf(':');
        if (c < 0) throw new IllegalArgumentException("expected proto:port (tcp:8080), got '" + text + "'");
        int proto = parseProto(text.substring(0, c), text);
        int port = parsePortNumber(text.substring(c + 1), text);
        return new NetPattern(text, false, proto, port, 0, null, 0);
    }

    /** Parses a peer value ({@code tcp:10.0.0.0/16:5432}, {@code tcp:[fd00::1]:443}). @throws IllegalArgumentException */
    public static NetPattern parsePeer(String text) {
        int c = text.indexOf(':');
        if (c < 0) throw new IllegalArgumentException("expected proto:address:port (tcp:10.0.0.5:5432), got '" + text + "'");
        int proto = parseProto(text.substring(0, c), text);
        int pc = text.lastIndexOf(':');
        if (pc <= c) throw new IllegalArgumentException("missing port in '" + text + "' (expected proto:address:port)");
        int port = parsePortNumber(text.substring(pc + 1), text);
        String a = text.substring(c + 1, pc);
        if (a.equals("*")) return new NetPattern(text, true, proto, port, 0, null, 0);
        int prefix = -1;
        String host = a;
        boolean bracket = a.startsWith("[");
        if (bracket) {
            int close = a.indexOf(']');
            if (close < 0) throw new IllegalArgumentException("IPv6 address without ']' in '" + text + "'");
            host = a.substring(1, close);
            String rest = a.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith("/")) throw new IllegalArgumentException("unexpected '" + rest + "' after address in '" + text + "'");
                prefix = parsePrefix(rest.substring(1), 128, text);
            }
        } else {
            int slash = a.indexOf('/');
            if (slash >= 0) {
                host = a.substring(0, slash);
                prefix = parsePrefix(a.substring(slash + 1), 32, text);
            }
        }
        byte[] bytes;
        if (bracket) {
            if (host.indexOf(':') < 0) throw new IllegalArgumentException("bracketed address must be IPv6 in '" + text + "'");
            try {
                bytes = InetAddress.getByName(host).getAddress(); // an IPv6 literal: never a DNS lookup
            } catch (UnknownHostException | SecurityException e) {
                throw new IllegalArgumentException("bad IPv6 address '" + host + "' in '" + text + "'");
            }
        } else {
            bytes = parseV4(host);
            if (bytes == null) {
                throw new IllegalArgumentException("bad IPv4 address '" + host + "' in '" + text
                        + "' (IPv6 addresses go in brackets: tcp:[fd00::1]:443)");
            }
        }
        int full = bytes.length * 8;
        if (prefix < 0) prefix = full;
        if (prefix > full) throw new IllegalArgumentException("prefix /" + prefix + " too long for address in '" + text + "'");
        for (int bit = prefix; bit < full; bit++) {
            if ((bytes[bit >>> 3] & (0x80 >>> (bit & 7))) != 0) {
                throw new IllegalArgumentException("address has bits set beyond its /" + prefix + " prefix in '" + text + "'");
            }
        }
        return new NetPattern(text, true, proto, port, bytes.length == 4 ? 4 : 6, bytes, prefix);
    }

    /** Canonical text of a peer range: proto, network address (host bits cleared), prefix, port. */
    static String peerRangeText(int proto, byte[] addr, int prefix, int port) {
        byte[] net = addr.clone();
        for (int bit = prefix; bit < net.length * 8; bit++) net[bit >>> 3] &= (byte) ~(0x80 >>> (bit & 7));
        String a = Addresses.format(ByteBuffer.wrap(net), 0, net.length == 4 ? 2 : 10);
        if (net.length == 16) a = "[" + a + "]";
        return protoName(proto) + ":" + a + (prefix == net.length * 8 ? "" : "/" + prefix) + ":" + (port < 0 ? "*" : port);
    }

    static byte[] parseV4(String s) {
        String[] p = s.split("\\.", -1);
        if (p.length != 4) return null;
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            if (p[i].isEmpty() || p[i].length() > 3) return null;
            int v = 0;
            for (int j = 0; j < p[i].length(); j++) {
                char ch = p[i].charAt(j);
                if (ch < '0' || ch > '9') return null;
                v = v * 10 + (ch - '0');
            }
            if (v > 255 || (p[i].length() > 1 && p[i].charAt(0) == '0')) return null;
            b[i] = (byte) v;
        }
        return b;
    }

    private static int parseProto(String p, String text) {
        switch (p) {
            case "tcp": return EventLayout.PROTO_TCP;
            case "udp": return EventLayout.PROTO_UDP;
            default: throw new IllegalArgumentException("unknown protocol '" + p + "' in '" + text + "' (tcp or udp)");
        }
    }

    private static int parsePortNumber(String s, String text) {
        if (s.equals("*")) return -1;
        int v = parseSmallInt(s);
        if (v < 0 || v > 65535) throw new IllegalArgumentException("bad port '" + s + "' in '" + text + "' (0-65535 or *)");
        return v;
    }

    private static int parsePrefix(String s, int max, String text) {
        int v = parseSmallInt(s);
        if (v < 0 || v > max) throw new IllegalArgumentException("bad prefix length '/" + s + "' in '" + text + "'");
        return v;
    }

    private static int parseSmallInt(String s) {
        if (s.isEmpty() || s.length() > 5) return -1;
        int v = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < '0' || ch > '9') return -1;
            v = v * 10 + (ch - '0');
        }
        return v;
    }
}
