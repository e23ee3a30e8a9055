package io.driftwatch.proc;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses {@code /proc/<pid>/net/{tcp,tcp6,udp,udp6}}. Pure. Addresses are printed by the
 * kernel as 32-bit words in host byte order ({@code %08X} of a {@code __be32} read as a native
 * int), so each word is converted back to network byte order with the native order; ports are
 * plain hex. Malformed lines are skipped and counted in {@link Table#malformed}.
 */
public final class NetTableParser {
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    /** TCP states (include/net/tcp_states.h). */
    public static final int TCP_ESTABLISHED = 1, TCP_SYN_SENT = 2, TCP_LISTEN = 10, TCP_CLOSE = 7;

    private NetTableParser() {}

    /**
     * One socket.
     *
     * @param proto  6 (TCP) or 17 (UDP)
     * @param family 2 (IPv4) or 10 (IPv6)
     * @param laddr  local address, 4 or 16 bytes in network order
     * @param raddr  remote address
     * @param state  kernel socket state (TCP_* values; UDP uses 7 unconnected, 1 connected)
     * @param inode  socket inode (0 for sockets without a file, e.g. TIME_WAIT)
     */
    public record Socket(int proto, int family, byte[] laddr, int lport, byte[] raddr, int rport, int state, int uid,
            long inode) {
        public boolean listening() {
            return proto == 6 ? state == TCP_LISTEN : rport == 0 && state == TCP_CLOSE;
        }

        public boolean remoteUnspecified() {
            for (byte b : raddr) if (b != 0) return false;
            return rport == 0;
        }
    }

    public record Table(List<Socket> sockets, int malformed) {}

    public static Table parse(String text, int proto, int family) {
        List<Socket> out = new ArrayList<>();
        int bad = 0;
        if (text == null) return new Table(out, 0);
        String[] lines = text.split("\n");
        for (int i = 1; i < lines.length; i++) { // line 0 is the header
            String line = lines[i].trim();
            if (line.isEmpty()) continue;
            Socket s = parseLine(line, proto, family);
            if (s == null) bad++;
            else out.add(s);
        }
        return new Table(out, bad);
    }

    static Socket parseLine(String line, int proto, int family) {
        String[] f = line.split("\\s+");
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
        if (f.length < 10) return null;
        try {
            int lc = f[1].indexOf(':'), rc = f[2].indexOf(':');
            if (lc < 0 || rc < 0) return null;
            byte[] laddr = address(f[1].substring(0, lc), family);
            byte[] raddr = address(f[2].substring(0, rc), family);
            if (laddr == null || raddr == null) return null;
            int lport = Integer.parseInt(f[1].substring(lc + 1), 16);
            int rport = Integer.parseInt(f[2].substring(rc + 1), 16);
            int state = Integer.parseInt(f[3], 16);
            int uid = Integer.parseInt(f[7]);
            long inode = Long.parseLong(f[9]);
            if (lport > 0xffff || rport > 0xffff) return null;
            return new Socket(proto, family, laddr, lport, raddr, rport, state, uid, inode);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static byte[] address(String hex, int family) {
        int words = family == AF_INET6 ? 4 : 1;
        if (hex.length() != words * 8) return null;
        byte[] out = new byte[words * 4];
        boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
        for (int w = 0; w < words; w++) {
            long v = Long.parseLong(hex.substring(w * 8, w * 8 + 8), 16);
            for (int b = 0; b < 4; b++) {
                int shift = little ? 8 * b : 8 * (3 - b);
                out[w * 4 + b] = (byte) (v >>> shift);
            }
        }
        return out;
    }
}
