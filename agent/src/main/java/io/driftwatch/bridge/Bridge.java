package io.driftwatch.bridge;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.byref.PointerByReference;

/**
 * The kernel bridge: libdriftwatch.so (eBPF programs and fanotify, see
 * {@code native/include/dw_bridge.h}) loaded through jnr-ffi.
 *
 * <p>Loading follows Netty's {@code Epoll}: the library is loaded once, eagerly
 * ({@link LibraryOption#LoadNow}, {@code failImmediately()}), and its ABI version and struct sizes
 * are compared with the generated {@link EventLayout}/{@link BridgeLayout}; any failure is kept as
 * {@link #unavailabilityCause()} rather than thrown, so the agent and its tests run without it.
 * The library is found, in order: in {@code -Ddriftwatch.native.dir}; in
 * {@code <driftwatch.repo>/native/.output/dist} (set by surefire); in the jar at
 * {@code META-INF/native/linux-x86_64/libdriftwatch.so}, extracted to a temporary file.
 *
 * <p>An instance is one bridge context ({@code dw_open}). {@link #poll} is for one thread (the
 * pipeline); suppression and fanotify calls may come from any thread. {@link #close} after the
 * poller stopped.
 */
public final class Bridge implements AutoCloseable {
    private static final String RESOURCE = "META-INF/native/linux-x86_64/libdriftwatch.so";
    private static final LibDriftwatch LIB;
    private static final Runtime RUNTIME;
    private static final Throwable UNAVAILABILITY_CAUSE;
    private static final String LOADED_FROM;

    static {
        LibDriftwatch lib = null;
        Runtime rt = null;
        Throwable cause = null;
        String from = null;
        try {
            Path dir = locate();
            from = dir.resolve("libdriftwatch.so").toString();
            lib = LibraryLoader.create(LibDriftwatch.class).option(LibraryOption.LoadNow, Boolean.TRUE)
                    .failImmediately().search(dir.toString()).load("driftwatch");
            rt = Runtime.getRuntime(lib);
            checkAbi(lib);
        } catch (Throwable t) {
            cause = t;
            lib = null;
        }
        LIB = lib;
        RUNTIME = rt;
        UNAVAILABILITY_CAUSE = cause;
        LOADED_FROM = from;
    }

    private Pointer ctx;
    private final long[] stats = new long[BridgeLayout.STAT_COUNT];
    private ByteBuffer lastBuffer;
    private Pointer lastPointer;

    private Bridge(Pointer ctx) {
        this.ctx = ctx;
    }

    // ---- availability ---------------------------------------------------------------------------

    /** True when libdriftwatch.so loaded and matches this build's wire format. */
    public static boolean isAvailable() {
        return UNAVAILABILITY_CAUSE == null;
    }

    /** Throws {@link UnsatisfiedLinkError} with the cause when the library is not available. */
    public static void ensureAvailability() {
        if (UNAVAILABILITY_CAUSE != null) {
            throw (UnsatisfiedLinkError) new UnsatisfiedLinkError("libdriftwatch.so unavailable: "
                    + UNAVAILABILITY_CAUSE.getMessage()).initCause(UNAVAILABILITY_CAUSE);
        }
    }

    /** Why the library is not available, or null. */
    public static Throwable unavailabilityCause() {
        return UNAVAILABILITY_CAUSE;
    }

    /** The file the library was loaded from (for logs), or null. */
    public static String loadedFrom() {
        return LOADED_FROM;
    }

    static Path locate() throws IOException {
        String dir = System.getProperty("driftwatch.native.dir");
        if (dir != null && !dir.isBlank()) {
            Path p = Path.of(dir);
            if (!Files.isRegularFile(p.resolve("libdriftwatch.so"))) {
                throw new IOException("no libdriftwatch.so in driftwatch.native.dir=" + p);
            }
            return p;
        }
        String repo = System.getProperty("driftwatch.repo");
        if (repo != null && !repo.isBlank()) {
            Path p = Path.of(repo, "native", ".output", "dist");
            if (Files.isRegularFile(p.resolve("libdriftwatch.so"))) return p;
        }
        try (InputStream in = Bridge.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException(RESOURCE + " is not in the jar and driftwatch.native.dir is not set"
                        + " (build native/ first: make -C native)");
            }
            Path tmp = Files.createTempDirectory("driftwatch-native-");
            Path so = tmp.resolve("libdriftwatch.so");
            Files.copy(in, so, StandardCopyOption.REPLACE_EXISTING);
            so.toFile().deleteOnExit();
            tmp.toFile().deleteOnExit();
            return tmp;
        }
    }

    private static void checkAbi(LibDriftwatch lib) {
        int abi = lib.dw_abi_version();
        if (abi != EventLayout.ABI_VERSION || abi != BridgeLayout.ABI_VERSION) {
            throw new IllegalStateException("libdriftwatch.so has wire-format ABI " + abi + ", this agent was built for "
                    + EventLayout.ABI_VERSION + ": rebuild native/ and the agent together");
        }
        mustEqual("sizeof(struct dw_hdr)", lib.dw_sizeof_hdr(), EventLayout.HDR_SIZE);
        mustEqual("sizeof(struct dw_exec)", lib.dw_sizeof_exec(), EventLayout.EXEC_SIZE);
        mustEqual("sizeof(struct dw_exit)", lib.dw_sizeof_exit(), EventLayout.EXIT_SIZE);
        mustEqual("sizeof(struct dw_fork)", lib.dw_sizeof_fork(), EventLayout.FORK_SIZE);
        mustEqual("sizeof(struct dw_file)", lib.dw_sizeof_file(), EventLayout.FILE_SIZE);
        mustEqual("sizeof(struct dw_net)", lib.dw_sizeof_net(), EventLayout.NET_SIZE);
        mustEqual("sizeof(struct dw_supp_key)", lib.dw_sizeof_supp_key(), EventLayout.SUPP_KEY_SIZE);
        mustEqual("sizeof(struct dw_config)", lib.dw_sizeof_config(), BridgeLayout.CONFIG_SIZE);
        mustEqual("DW_MAX_RECORD", lib.dw_max_record(), EventLayout.MAX_RECORD);
    }

    private static void mustEqual(String what, int lib, int java) {
        if (lib != java) {
            throw new IllegalStateException(what + " is " + lib + " in libdriftwatch.so but " + java
                    + " in EventLayout: the library and the agent disagree on the wire format");
        }
    }

    // ---- context --------------------------------------------------------------------------------

    /** Opens a bridge context. Sources that cannot start do not fail this: see {@link #status}. */
    public static Bridge open(BridgeConfig config) throws IOException {
        ensureAvailability();
        Pointer cfg = Memory.allocateDirect(RUNTIME, BridgeLayout.CONFIG_SIZE, true);
        cfg.putInt(BridgeLayout.CONFIG_ABI_VERSION, EventLayout.ABI_VERSION);
        cfg.putInt(BridgeLayout.CONFIG_FLAGS, config.flags());
        cfg.putInt(BridgeLayout.CONFIG_RING_BYTES, config.ringBytes());
        cfg.putInt(BridgeLayout.CONFIG_WAKEUP_BYTES, config.wakeupBytes());
        cfg.putInt(BridgeLayout.CONFIG_SUPPRESS_ENTRIES, config.suppressEntries());
        cfg.putInt(BridgeLayout.CONFIG_SELF_TGID, config.selfTgid());
        cfg.putInt(BridgeLayout.CONFIG_FAN_QUEUE_BYTES, config.fanQueueBytes());
        cfg.putInt(BridgeLayout.CONFIG_POLL_TICK_MS, config.pollTickMs());
        PointerByReference out = new PointerByReference();
        check(LIB.dw_open(cfg, out), "dw_open");
        return new Bridge(out.getValue());
    }

    /** State of one source: {@link BridgeLayout#POLL_BPF} or {@link BridgeLayout#POLL_FANOTIFY}. */
    public State status(int source) {
        byte[] detail = new byte[512];
        int st = LIB.dw_source_status(ctx(), source, detail, detail.length);
        if (st < 0) return new State(BridgeLayout.STATE_UNAVAILABLE, "status failed: " + Errno.describe(-st));
        int n = 0;
        while (n < detail.length && detail[n] != 0) n++;
        return new State(st, new String(detail, 0, n, StandardCharsets.UTF_8));
    }

    /**
     * State of a source as the bridge reports it.
     *
     * @param state  one of BridgeLayout.STATE_*
     * @param detail what runs, or why not
     */
    public record State(int state, String detail) {
        public boolean usable() {
            return state == BridgeLayout.STATE_RUNNING || state == BridgeLayout.STATE_DEGRADED;
        }
    }

    /**
     * Copies whole records of {@code sources} (BridgeLayout.POLL_*) into {@code batch} (a direct
     * buffer in native order, from position 0) and returns the bytes written; waits up to
     * {@code timeoutMs} when none is ready. Allocates nothing when called again with the same
     * buffer.
     */
    public int poll(ByteBuffer batch, int timeoutMs, int sources) throws IOException {
        if (batch != lastBuffer) {
            if (!batch.isDirect() || batch.order() != ByteOrder.nativeOrder()) {
                throw new IllegalArgumentException("batch must be a direct buffer in native byte order");
            }
            if (batch.capacity() < EventLayout.MAX_RECORD) {
                throw new IllegalArgumentException("batch smaller than the largest record (" + EventLayout.MAX_RECORD + ")");
            }
            lastPointer = Pointer.wrap(RUNTIME, batch);
            lastBuffer = batch;
        }
        int n = LIB.dw_poll(ctx(), lastPointer, batch.capacity(), timeoutMs, sources);
        if (n < 0) {
            if (n == -Errno.EINTR) return 0;
            throw new IOException("dw_poll: " + Errno.describe(-n));
        }
        return n;
    }

    /** Reads the bridge's counters. */
    public BridgeStats stats() {
        int r = LIB.dw_stats(ctx(), stats, stats.length);
        if (r < 0) return BridgeStats.zero();
        return new BridgeStats(stats);
    }

    // ---- suppression ----------------------------------------------------------------------------

    /**
     * Asks the kernel to stop sending records like {@code ev}: same cgroup, op and key (opens:
     * dev, inode and access; connect: peer address and port; bind/listen: local address and port;
     * accept: peer address and local port). Returns false, adding nothing, for records that have
     * no key (exec, exit, fork, failed operations, opens without an inode).
     */
    public boolean suppress(EventView ev) throws IOException {
        int op = ev.op();
        int k0;
        long k1, k2;
        ByteBuffer b = ev.buffer();
        switch (op) {
            case EventLayout.OP_OPEN:
                if (ev.fileRet() < 0 || ev.ino() == 0) return false;
                k0 = ev.access() & EventLayout.SUPP_ACC_MASK;
                k1 = ev.dev();
                k2 = ev.ino();
                break;
            case EventLayout.OP_CONNECT:
            case EventLayout.OP_ACCEPT: {
                int ret = ev.netRet();
                if (ret < 0 && !(op == EventLayout.OP_CONNECT && ret == -Errno.EINPROGRESS)) return false;
                int port = op == EventLayout.OP_CONNECT ? ev.rport() : ev.lport();
                k0 = ev.family() << 24 | ev.proto() << 16 | port;
                k1 = b.getLong(ev.raddrOffset());
                k2 = b.getLong(ev.raddrOffset() + 8);
                break;
            }
            case EventLayout.OP_BIND:
            case EventLayout.OP_LISTEN:
                if (ev.netRet() < 0) return false;
                k0 = ev.family() << 24 | ev.proto() << 16 | ev.lport();
                k1 = b.getLong(ev.laddrOffset());
                k2 = b.getLong(ev.laddrOffset() + 8);
                break;
            default:
                return false;
        }
        check(LIB.dw_suppress_add(ctx(), ev.cgroupId(), op, k0, k1, k2), "dw_suppress_add");
        return true;
    }

    /** Forgets the suppression keys of one cgroup (0: all); returns how many were removed. */
    public int clearSuppression(long cgroupId) throws IOException {
        return check(LIB.dw_suppress_clear(ctx(), cgroupId), "dw_suppress_clear");
    }

    // ---- host filter ----------------------------------------------------------------------------

    /**
     * Lets the kernel drop the file and network records of a cgroup's processes (exec, fork and
     * exit still come). {@code key} is the agent's attribution key
     * ({@code ContainerState.key}: the cgroup v2 id, or a v1 memory cgroup id with the top bit set).
     */
    public void addHostCgroup(long key) throws IOException {
        check(LIB.dw_host_cgroup(ctx(), key, 1), "dw_host_cgroup(" + Long.toUnsignedString(key) + ")");
    }

    /** Undoes {@link #addHostCgroup}; false when the key was not in the filter. */
    public boolean removeHostCgroup(long key) throws IOException {
        int r = LIB.dw_host_cgroup(ctx(), key, 0);
        if (r == -Errno.ENOENT) return false;
        check(r, "dw_host_cgroup(" + Long.toUnsignedString(key) + ", remove)");
        return true;
    }

    // ---- fanotify -------------------------------------------------------------------------------

    /**
     * Watches the root mount of the container whose (host) pid is {@code pid}; its records
     * carry the given cgroup ids. {@code flags}: BridgeLayout.FAN_PERM (permission events, so
     * {@link #fanDeny} works) and/or BridgeLayout.FAN_NOTIFY (a record for every open/exec).
     * Returns the watch id.
     */
    public int fanWatch(int pid, long cgroupId, long cgroupV1Id, int flags) throws IOException {
        return check(LIB.dw_fan_watch(ctx(), pid, cgroupId, cgroupV1Id, flags), "dw_fan_watch(pid " + pid + ")");
    }

    public void fanUnwatch(int watch) throws IOException {
        check(LIB.dw_fan_unwatch(ctx(), watch), "dw_fan_unwatch");
    }

    /**
     * Denies opens of one file inside a FAN_PERM watch: {@code mask} BridgeLayout.FAN_DENY_EXEC
     * (executing it) or FAN_DENY_OPEN (any open). {@code dev} in the kernel's encoding, as in
     * {@link EventView#dev()} (see {@link #kernelDev}).
     */
    public void fanDeny(int watch, long dev, long ino, int mask) throws IOException {
        check(LIB.dw_fan_deny(ctx(), watch, dev, ino, mask), "dw_fan_deny");
    }

    /** Removes the decision for one file; false when there was none. */
    public boolean fanAllow(int watch, long dev, long ino) throws IOException {
        int r = LIB.dw_fan_allow(ctx(), watch, dev, ino);
        if (r == -Errno.ENOENT) return false;
        check(r, "dw_fan_allow");
        return true;
    }

    public void fanAllowAll(int watch) throws IOException {
        check(LIB.dw_fan_allow_all(ctx(), watch), "dw_fan_allow_all");
    }

    /**
     * Sets the mutable mode bits of a watch (BridgeLayout.FAN_NOTIFY, FAN_ALLOWLIST_EXEC); {@code flags}
     * must carry FAN_PERM exactly when the watch has it.
     */
    public void fanMode(int watch, int flags) throws IOException {
        check(LIB.dw_fan_mode(ctx(), watch, flags), "dw_fan_mode");
    }

    /** Adds a file to the watch's exec allow table (used under FAN_ALLOWLIST_EXEC). */
    public void fanAllowExec(int watch, long dev, long ino) throws IOException {
        check(LIB.dw_fan_allow_exec(ctx(), watch, dev, ino), "dw_fan_allow_exec");
    }

    /** Removes a file from the exec allow table; false when it was not there. */
    public boolean fanDisallowExec(int watch, long dev, long ino) throws IOException {
        int r = LIB.dw_fan_disallow_exec(ctx(), watch, dev, ino);
        if (r == -Errno.ENOENT) return false;
        check(r, "dw_fan_disallow_exec");
        return true;
    }

    /** Empties the exec allow table; returns how many entries it had. */
    public int fanClearExec(int watch) throws IOException {
        return check(LIB.dw_fan_clear_exec(ctx(), watch), "dw_fan_clear_exec");
    }

    // ---- network guards and exec kill (eBPF enforcement) ---------------------------------------

    /** Attaches a network guard to a cgroup v2 directory (BridgeLayout.NET_* flags); returns its handle. */
    public int netEnforce(String cgroupPath, int flags) throws IOException {
        return check(LIB.dw_net_enforce(ctx(), cgroupPath, flags), "dw_net_enforce(" + cgroupPath + ")");
    }

    public void netMode(int handle, int flags) throws IOException {
        check(LIB.dw_net_mode(ctx(), handle, flags), "dw_net_mode");
    }

    /** {@code addr}: 4 bytes (family 2) or 16 (family 10), network order. */
    public void netAllowConnect(int handle, int family, byte[] addr, int prefixLen, int port, int proto) throws IOException {
        check(LIB.dw_net_allow_connect(ctx(), handle, family, addr, prefixLen, port, proto), "dw_net_allow_connect");
    }

    public void netAllowBind(int handle, int port, int proto) throws IOException {
        check(LIB.dw_net_allow_bind(ctx(), handle, port, proto), "dw_net_allow_bind");
    }

    /** Denials of a guard: {connect, bind, sendmsg}. */
    public long[] netDenied(int handle) throws IOException {
        long[] out = new long[3];
        check(LIB.dw_net_denied(ctx(), handle, out, out.length), "dw_net_denied");
        return out;
    }

    public void netRelease(int handle) throws IOException {
        check(LIB.dw_net_release(ctx(), handle), "dw_net_release");
    }

    public void execEnforce(long cgroupId, boolean on) throws IOException {
        check(LIB.dw_exec_enforce(ctx(), cgroupId, on ? 1 : 0), "dw_exec_enforce");
    }

    public void execAllow(long cgroupId, long dev, long ino) throws IOException {
        check(LIB.dw_exec_allow(ctx(), cgroupId, dev, ino), "dw_exec_allow");
    }

    /** Turns exec kill off for the cgroup and forgets its allowed files; returns how many. */
    public int execClear(long cgroupId) throws IOException {
        return check(LIB.dw_exec_clear(ctx(), cgroupId), "dw_exec_clear");
    }

    /** Execs killed in the cgroup; -1 when exec kill does not know the cgroup. */
    public long execKilled(long cgroupId) throws IOException {
        long[] out = new long[1];
        int r = LIB.dw_exec_killed(ctx(), cgroupId, out);
        if (r == -Errno.ENOENT) return -1;
        check(r, "dw_exec_killed");
        return out[0];
    }

    /**
     * The kernel's encoding of a device number (major << 20 | minor), as in dw_file.dev, from
     * the user-space encoding of stat(2)'s st_dev (glibc's makedev), e.g.
     * {@code Files.getAttribute(path, "unix:dev")}.
     */
    public static long kernelDev(long stDev) {
        long major = ((stDev >>> 8) & 0xfffL) | ((stDev >>> 32) & 0xfffff000L);
        long minor = (stDev & 0xffL) | ((stDev >>> 12) & 0xffffff00L);
        return (major << 20) | (minor & 0xfffff);
    }

    // ---- lifecycle ------------------------------------------------------------------------------

    private Pointer ctx() {
        Pointer c = ctx;
        if (c == null) throw new IllegalStateException("bridge closed");
        return c;
    }

    public boolean isOpen() {
        return ctx != null;
    }

    /** Detaches the programs, stops the fanotify thread (pending permission events are allowed). */
    @Override
    public synchronized void close() {
        Pointer c = ctx;
        ctx = null;
        if (c != null) LIB.dw_close(c);
    }

    static int check(int rc, String what) throws IOException {
        if (rc < 0) throw new IOException(what + ": " + Errno.describe(-rc));
        return rc;
    }
}
