package io.driftwatch.bridge;

import static io.driftwatch.bridge.EventLayout.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Appends records in the wire format (dw_event.h) to a buffer: the /proc poller and the tests
 * produce events through this, so the pipeline has one decoder for every source. Usage:
 * {@code header(...)} sets the common fields, then one of {@code exec/exit/open/net/fork}
 * appends a record; each returns false (writing nothing) when the buffer is full.
 */
public final class EventWriter {
    private final ByteBuffer buf;
    private int position;
    private final int[] seqByCpu = new int[1];

    // pending header fields
    private int source = SRC_PROC, flags;
    private long ktimeNs, cgroupId, cgroupV1Id;
    private int pid, tgid, ppid, uid;
    private byte[] comm = new byte[0];

    /** @param buffer native-order buffer; records are appended from position 0 */
    public EventWriter(ByteBuffer buffer) {
        this.buf = buffer;
    }

    public int position() { return position; }
    public ByteBuffer buffer() { return buf; }
    public void reset() { position = 0; }

    public EventWriter header(int source, long ktimeNs, long cgroupId, long cgroupV1Id, int tgid, int ppid, int uid,
            String comm) {
        this.source = source;
        this.ktimeNs = ktimeNs;
        this.cgroupId = cgroupId;
        this.cgroupV1Id = cgroupV1Id;
        this.pid = tgid;
        this.tgid = tgid;
        this.ppid = ppid;
        this.uid = uid;
        byte[] c = comm == null ? new byte[0] : comm.getBytes(StandardCharsets.UTF_8);
        this.comm = c.length > COMM_LEN - 1 ? java.util.Arrays.copyOf(c, COMM_LEN - 1) : c;
        this.flags = 0;
        return this;
    }

    public EventWriter flags(int flags) {
        this.flags = flags;
        return this;
    }

    public boolean exec(String filename, java.util.List<String> argv, int ret) {
        byte[] fn = utf8(filename);
        int fnFlags = 0;
        if (fn.length > PATH_MAX - 1) { fn = java.util.Arrays.copyOf(fn, PATH_MAX - 1); fnFlags |= F_PATH_TRUNCATED; }
        java.io.ByteArrayOutputStream args = new java.io.ByteArrayOutputStream();
        int argc = 0;
        if (argv != null) {
            for (String a : argv) {
                byte[] b = utf8(a);
                if (args.size() + b.length + 1 > ARGV_MAX) { fnFlags |= F_ARGV_TRUNCATED; break; }
                args.write(b, 0, b.length);
                args.write(0);
                argc++;
            }
        }
        byte[] av = args.toByteArray();
        int size = align(EXEC_SIZE + fn.length + av.length);
        if (!begin(OP_EXEC, size, fnFlags)) return false;
        buf.putInt(position + EXEC_FILENAME_LEN, fn.length);
        buf.putInt(position + EXEC_ARGV_LEN, av.length);
        buf.putInt(position + EXEC_ARGC, argc);
        buf.putInt(position + EXEC_RET, ret);
        buf.putLong(position + EXEC_EXE_INO, 0);
        buf.putLong(position + EXEC_EXE_DEV, 0);
        buf.put(position + EXEC_DATA, fn);
        buf.put(position + EXEC_DATA + fn.length, av);
        return commit(size);
    }

    public boolean exit(int exitCode) {
        int size = EXIT_SIZE;
        if (!begin(OP_EXIT, size, 0)) return false;
        buf.putInt(position + EXIT_CODE, exitCode);
        return commit(size);
    }

    public boolean fork(int childTgid) {
        int size = FORK_SIZE;
        if (!begin(OP_FORK, size, 0)) return false;
        buf.putInt(position + FORK_CHILD_PID, childTgid);
        buf.putInt(position + FORK_CHILD_TGID, childTgid);
        return commit(size);
    }

    public boolean open(String path, int openFlags, int access, int ret, long dev, long ino) {
        byte[] p = utf8(path);
        int extra = 0;
        if (p.length > PATH_MAX - 1) { p = java.util.Arrays.copyOf(p, PATH_MAX - 1); extra |= F_PATH_TRUNCATED; }
        int size = align(FILE_SIZE + p.length);
        if (!begin(OP_OPEN, size, extra)) return false;
        buf.putInt(position + FILE_RET, ret);
        buf.putInt(position + FILE_OPEN_FLAGS, openFlags);
        buf.putInt(position + FILE_ACCESS, access);
        buf.putInt(position + FILE_PATH_LEN, p.length);
        buf.putLong(position + FILE_DEV, dev);
        buf.putLong(position + FILE_INO, ino);
        buf.put(position + FILE_PATH, p);
        return commit(size);
    }

    /** @param laddr,raddr 4 or 16 bytes in network order (null = unspecified) */
    public boolean net(int op, int family, int proto, int ret, byte[] laddr, int lport, byte[] raddr, int rport) {
        int size = NET_SIZE;
        if (!begin(op, size, 0)) return false;
        buf.putShort(position + NET_FAMILY, (short) family);
        buf.put(position + NET_PROTO, (byte) proto);
        buf.putInt(position + NET_RET, ret);
        buf.putShort(position + NET_LPORT, (short) lport);
        buf.putShort(position + NET_RPORT, (short) rport);
        if (laddr != null) buf.put(position + NET_LADDR, laddr, 0, Math.min(laddr.length, ADDR_LEN));
        if (raddr != null) buf.put(position + NET_RADDR, raddr, 0, Math.min(raddr.length, ADDR_LEN));
        return commit(size);
    }

    private boolean begin(int op, int size, int extraFlags) {
        if (position + size > buf.capacity()) return false;
        for (int i = 0; i < size; i += 8) buf.putLong(position + i, 0L);
        buf.put(position + HDR_OP, (byte) op);
        buf.put(position + HDR_SOURCE, (byte) source);
        buf.putShort(position + HDR_FLAGS, (short) (flags | extraFlags));
        buf.putInt(position + HDR_RECORD_SIZE, size);
        buf.putLong(position + HDR_KTIME_NS, ktimeNs);
        buf.putLong(position + HDR_CGROUP_ID, cgroupId);
        buf.putLong(position + HDR_CGROUP_V1_ID, cgroupV1Id);
        buf.putInt(position + HDR_PID, pid);
        buf.putInt(position + HDR_TGID, tgid);
        buf.putInt(position + HDR_PPID, ppid);
        buf.putInt(position + HDR_UID, uid);
        buf.putInt(position + HDR_CPU, 0);
        buf.putInt(position + HDR_SEQ, seqByCpu[0]++);
        buf.put(position + HDR_COMM, comm);
        return true;
    }

    private boolean commit(int size) {
        position += size;
        return true;
    }

    private static int align(int n) {
        return (n + 7) & ~7;
    }

    private static byte[] utf8(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }
}
