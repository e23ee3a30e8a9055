package io.driftwatch.bridge;

import static io.driftwatch.bridge.EventLayout.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A flyweight over one record of the wire format (dw_event.h) inside a batch buffer. Reading a
 * field allocates nothing; the methods that return a {@code String} allocate and are meant for
 * new profile features and alerts only. One instance is reused for every record.
 */
public final class EventView {
    private ByteBuffer buf;
    private int base;
    // exec filename override (set by the pipeline's exec normaliser for the current record only)
    private boolean fnOverride;
    private ByteBuffer fnBuf;
    private int fnOff;
    private int fnLen;

    /** Points this view at the record starting at {@code offset}. No validation: see {@link #check}. */
    public EventView wrap(ByteBuffer buffer, int offset) {
        this.buf = buffer;
        this.base = offset;
        this.fnOverride = false;
        return this;
    }

    /**
     * Replaces the exec filename seen through this view, for the current record only (the bytes
     * must stay valid until the next {@link #wrap}). Used to name a re-exec of {@code /proc/self/exe}
     * by what was run (a busybox applet) instead of the magic link.
     */
    public void overrideFilename(ByteBuffer b, int off, int len) {
        fnOverride = true;
        fnBuf = b;
        fnOff = off;
        fnLen = len;
    }

    /** Shortens an open's path in the record itself (after normalising it in place); len <= pathLen(). */
    public void setPathLen(int len) {
        int cur = pathLen();
        if (len < 0 || len > cur) throw new IllegalArgumentException("path length " + len + " > " + cur);
        if (len < cur) buf.put(base + FILE_PATH + len, (byte) 0);
        buf.putInt(base + FILE_PATH_LEN, len);
    }

    /** Sets a header flag in the record itself (the batch buffer belongs to the pipeline). */
    public void setFlag(int flag) {
        buf.putShort(base + HDR_FLAGS, (short) (flags() | flag));
    }

    /** Clears a header flag in the record itself (the batch buffer belongs to the pipeline). */
    public void clearFlag(int flag) {
        buf.putShort(base + HDR_FLAGS, (short) (flags() & ~flag));
    }

    /**
     * Checks that the record at the view's position is well formed within {@code limit}:
     * returns null when it is, else the reason (for a counted drop).
     */
    public String check(int limit) {
        if (limit - base < HDR_SIZE) return "truncated header";
        int size = size();
        if (size < HDR_SIZE || (size & 7) != 0) return "bad record size " + size;
        if (size > limit - base) return "record overruns batch";
        int op = op();
        int need;
        switch (op) {
            case OP_EXEC:
                need = EXEC_SIZE;
                if (size >= need && (long) EXEC_DATA + rawFilenameLen() + argvLen() > size) return "exec data overruns record";
                break;
            case OP_OPEN:
                need = FILE_SIZE;
                if (size >= need && (long) FILE_PATH + pathLen() > size) return "path overruns record";
                break;
            case OP_EXIT: need = EXIT_SIZE; break;
            case OP_FORK: need = FORK_SIZE; break;
            case OP_CONNECT: case OP_BIND: case OP_LISTEN: case OP_ACCEPT: need = NET_SIZE; break;
            default: return "unknown op " + op;
        }
        return size < need ? "record too small for op " + op : null;
    }

    public ByteBuffer buffer() { return buf; }
    public int base() { return base; }

    // ---- header -------------------------------------------------------------------------------
    public int op() { return buf.get(base + HDR_OP) & 0xff; }
    public int source() { return buf.get(base + HDR_SOURCE) & 0xff; }
    public int flags() { return buf.getShort(base + HDR_FLAGS) & 0xffff; }
    public boolean hasFlag(int flag) { return (flags() & flag) != 0; }

    /**
     * True for the container runtime's own work: flagged by the source (runc's start-up
     * re-exec), or done by runc's set-up processes, which name themselves runc:[0:PARENT],
     * runc:[1:CHILD], runc:[2:INIT] before the container's first exec.
     */
    public boolean isRuntime() {
        if (hasFlag(F_RUNTIME)) return true;
        int o = base + HDR_COMM;
        return buf.get(o) == 'r' && buf.get(o + 1) == 'u' && buf.get(o + 2) == 'n' && buf.get(o + 3) == 'c'
                && buf.get(o + 4) == ':' && buf.get(o + 5) == '[';
    }
    public int size() { return buf.getInt(base + HDR_RECORD_SIZE); }
    public long ktimeNs() { return buf.getLong(base + HDR_KTIME_NS); }
    public long cgroupId() { return buf.getLong(base + HDR_CGROUP_ID); }
    public long cgroupV1Id() { return buf.getLong(base + HDR_CGROUP_V1_ID); }
    public int pid() { return buf.getInt(base + HDR_PID); }
    public int tgid() { return buf.getInt(base + HDR_TGID); }
    public int ppid() { return buf.getInt(base + HDR_PPID); }
    public int uid() { return buf.getInt(base + HDR_UID); }
    public int cpu() { return buf.getInt(base + HDR_CPU); }
    public int seq() { return buf.getInt(base + HDR_SEQ); }

    public int commLen() { return cstrLen(base + HDR_COMM, COMM_LEN); }
    public long commHash() { return Hashing.hash(buf, base + HDR_COMM, commLen()); }
    public String comm() { return string(base + HDR_COMM, commLen()); }

    // ---- exec ---------------------------------------------------------------------------------
    public int filenameLen() { return fnOverride ? fnLen : rawFilenameLen(); }
    /** The filename's length as recorded, ignoring any override. */
    public int rawFilenameLen() { return buf.getInt(base + EXEC_FILENAME_LEN); }
    public int argvLen() { return buf.getInt(base + EXEC_ARGV_LEN); }
    public int argc() { return buf.getInt(base + EXEC_ARGC); }
    public int execRet() { return buf.getInt(base + EXEC_RET); }
    public long exeIno() { return buf.getLong(base + EXEC_EXE_INO); }
    /** Buffer holding the exec filename: the record's, or the override's. */
    public ByteBuffer filenameBuffer() { return fnOverride ? fnBuf : buf; }
    public int filenameOffset() { return fnOverride ? fnOff : base + EXEC_DATA; }
    public long filenameHash() { return Hashing.hash(filenameBuffer(), filenameOffset(), filenameLen()); }
    public String filename() {
        byte[] b = new byte[filenameLen()];
        filenameBuffer().get(filenameOffset(), b, 0, b.length);
        return new String(b, StandardCharsets.UTF_8);
    }
    /** Offset of argv (after the recorded filename). */
    public int argvOffset() { return base + EXEC_DATA + rawFilenameLen(); }
    /** Device of the executed file, kernel encoding (as {@link #dev()}); 0 when unknown. */
    public long exeDev() { return buf.getLong(base + EXEC_EXE_DEV); }

    /** argv as strings (allocates). */
    public java.util.List<String> argv() {
        java.util.List<String> out = new java.util.ArrayList<>();
        int off = argvOffset();
        int end = off + argvLen();
        int start = off;
        for (int i = off; i < end; i++) {
            if (buf.get(i) == 0) {
                out.add(string(start, i - start));
                start = i + 1;
            }
        }
        if (start < end) out.add(string(start, end - start));
        return out;
    }

    // ---- exit / fork --------------------------------------------------------------------------
    public int exitCode() { return buf.getInt(base + EXIT_CODE); }
    public int childPid() { return buf.getInt(base + FORK_CHILD_PID); }
    public int childTgid() { return buf.getInt(base + FORK_CHILD_TGID); }

    // ---- file ---------------------------------------------------------------------------------
    public int fileRet() { return buf.getInt(base + FILE_RET); }
    public int openFlags() { return buf.getInt(base + FILE_OPEN_FLAGS); }
    public int access() { return buf.getInt(base + FILE_ACCESS); }
    public int pathLen() { return buf.getInt(base + FILE_PATH_LEN); }
    public long dev() { return buf.getLong(base + FILE_DEV); }
    public long ino() { return buf.getLong(base + FILE_INO); }
    public int pathOffset() { return base + FILE_PATH; }
    public long pathHash() { return Hashing.hash(buf, pathOffset(), pathLen()); }
    public String path() { return string(pathOffset(), pathLen()); }

    // ---- net ----------------------------------------------------------------------------------
    public int family() { return buf.getShort(base + NET_FAMILY) & 0xffff; }
    public int proto() { return buf.get(base + NET_PROTO) & 0xff; }
    public int netRet() { return buf.getInt(base + NET_RET); }
    public int lport() { return buf.getShort(base + NET_LPORT) & 0xffff; }
    public int rport() { return buf.getShort(base + NET_RPORT) & 0xffff; }
    public int laddrOffset() { return base + NET_LADDR; }
    public int raddrOffset() { return base + NET_RADDR; }
    public int addrLen() { return family() == 10 ? 16 : 4; }
    public long raddrHash() { return Hashing.hash(buf, raddrOffset(), addrLen()); }
    public String laddr() { return Addresses.format(buf, laddrOffset(), family()); }
    public String raddr() { return Addresses.format(buf, raddrOffset(), family()); }

    // ---- helpers ------------------------------------------------------------------------------
    private int cstrLen(int off, int max) {
        int n = 0;
        while (n < max && buf.get(off + n) != 0) n++;
        return n;
    }

    private String string(int off, int len) {
        byte[] b = new byte[len];
        buf.get(off, b, 0, len);
        return new String(b, StandardCharsets.UTF_8);
    }

    public static String opName(int op) {
        switch (op) {
            case OP_EXEC: return "exec";
            case OP_EXIT: return "exit";
            case OP_OPEN: return "open";
            case OP_CONNECT: return "connect";
            case OP_BIND: return "bind";
            case OP_LISTEN: return "listen";
            case OP_ACCEPT: return "accept";
            case OP_FORK: return "fork";
            default: return "op" + op;
        }
    }

    public static String sourceName(int source) {
        switch (source) {
            case SRC_BPF: return "bpf";
            case SRC_FANOTIFY: return "fanotify";
            case SRC_PROC: return "proc";
            default: return "src" + source;
        }
    }

    /** A JSON-ready description of the record (allocates; for log.events and tests). */
    public java.util.Map<String, Object> describe() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("event", opName(op()));
        m.put("source", sourceName(source()));
        m.put("ktime_ns", ktimeNs());
        m.put("cgroup_id", cgroupId());
        if (cgroupV1Id() != 0) m.put("cgroup_v1_id", cgroupV1Id());
        m.put("pid", tgid());
        m.put("tid", pid());
        m.put("ppid", ppid());
        m.put("uid", uid());
        m.put("comm", comm());
        if (flags() != 0) m.put("flags", flags());
        switch (op()) {
            case OP_EXEC:
                m.put("filename", filename());
                m.put("argv", argv());
                if (execRet() != 0) m.put("ret", execRet());
                break;
            case OP_EXIT: m.put("exit_code", exitCode()); break;
            case OP_FORK: m.put("child_pid", childTgid()); break;
            case OP_OPEN:
                m.put("path", path());
                m.put("access", Access.describe(access()));
                m.put("ret", fileRet());
                break;
            default:
                m.put("proto", proto() == PROTO_UDP ? "udp" : "tcp");
                m.put("local", laddr() + ":" + lport());
                m.put("remote", raddr() + ":" + rport());
                m.put("ret", netRet());
        }
        return m;
    }
}
