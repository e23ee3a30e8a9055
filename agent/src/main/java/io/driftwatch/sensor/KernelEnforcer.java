package io.driftwatch.sensor;

import io.driftwatch.bridge.Bridge;
import io.driftwatch.bridge.BridgeLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The kernel-side prevention primitives of enforce mode, for the detection engine's responder:
 *
 * <ul>
 *   <li><b>exec allow-list</b> (fanotify, needs the fanotify source): {@link #execAllowList} watches
 *       a container with permission events; an exec of a file whose (dev, ino) is not allowed
 *       ({@link #allowExec}) fails with EPERM before it runs (shell exit 126). Decided in the
 *       bridge's C thread, no Java on the path. Denials arrive as fanotify open records with
 *       {@code F_PERM | F_DENIED} and access {@code ACC_EXEC}.</li>
 *   <li><b>network guard</b> (eBPF cgroup programs, needs the bpf source): {@link #guardNetwork}.</li>
 *   <li><b>exec kill</b> (eBPF, needs the bpf source): {@link #execKill}; an exec in the cgroup
 *       of a file that is not allowed ({@link #allowExecInode}) is answered with SIGKILL before the
 *       new image runs (exit 137); its exec record carries {@code F_KILLED}.</li>
 * </ul>
 *
 * <p>Everything is scoped to one container and fails open: the watches, guards and exec-kill
 * entries belong to the agent's bridge and vanish with it. The agent's own cgroup and the host's
 * root cgroup are refused. Errors are {@link IOException}s naming the errno; bad arguments are
 * {@link IllegalArgumentException}s. Thread-safe: calls are serialised with the bridge's
 * life cycle (they never run while {@link KernelSources#close} does).
 *
 * <p>Inode allow-lists cannot tell busybox applets apart: {@code /bin/sh}, {@code /bin/wget} and
 * {@code /bin/nc} are one file. Allowing busybox allows every applet; telling them apart is the
 * detector's job, from the exec record's filename. See docs/enforcement.md.
 */
public final class KernelEnforcer {
    private final KernelSources owner;
    private final Bridge bridge;
    private final String bpfUnavailable;
    private final String fanotifyUnavailable;
    private final Set<NetGuard> guards = new LinkedHashSet<>();
    private final long selfCgroupId = selfCgroupId();
    private boolean closed;

    KernelEnforcer(KernelSources owner, Bridge bridge, String bpfUnavailable, String fanotifyUnavailable) {
        this.owner = owner;
        this.bridge = bridge;
        this.bpfUnavailable = bpfUnavailable;
        this.fanotifyUnavailable = fanotifyUnavailable;
    }

    /** Why exec allow-lists are unavailable (the fanotify source does not run), or null. */
    public String execAllowListUnavailable() {
        return fanotifyUnavailable;
    }

    /** Why network guards and exec kill are unavailable (the bpf source does not run), or null. */
    public String bpfEnforcementUnavailable() {
        return bpfUnavailable;
    }

    // ---- exec allow-list (fanotify) -------------------------------------------------------------

    /**
     * Watches the container whose host pid is {@code pid} in exec allow-list mode: from now on
     * every exec (the executable, a script's interpreter, the ELF interpreter ld.so) of a file not
     * in the watch's allow table is denied. Add what is allowed with {@link #allowExec} — an empty
     * table denies every exec. Covers the container's root mount and every mount that allows exec
     * at the time of the call. Returns the watch id.
     */
    public int execAllowList(int pid, long cgroupId, long cgroupV1Id) throws IOException {
        if (pid <= 1) throw new IllegalArgumentException("pid " + pid + " is not a container process");
        checkCgroup(cgroupId);
        synchronized (owner) {
            requireFanotify();
            return bridge.fanWatch(pid, cgroupId, cgroupV1Id, BridgeLayout.FAN_PERM | BridgeLayout.FAN_ALLOWLIST_EXEC);
        }
    }

    /**
     * Switches allow-list mode of a permission watch (one from {@link #execAllowList}, or a
     * {@link FanotifySource#watch} with {@code enforce}) on or off; {@code notify} keeps or
     * stops records for every open.
     */
    public void execAllowListMode(int watch, boolean on, boolean notify) throws IOException {
        synchronized (owner) {
            requireFanotify();
            bridge.fanMode(watch, (on ? BridgeLayout.FAN_ALLOWLIST_EXEC : 0) | (notify ? BridgeLayout.FAN_NOTIFY : 0));
        }
    }

    /** Allows executing the file (dev in the kernel's encoding, as in records; see {@link Bridge#kernelDev}). */
    public void allowExec(int watch, long dev, long ino) throws IOException {
        checkFile(dev, ino);
        synchronized (owner) {
            requireFanotify();
            bridge.fanAllowExec(watch, dev, ino);
        }
    }

    /** Takes a file out of the allow table; false when it was not in. */
    public boolean disallowExec(int watch, long dev, long ino) throws IOException {
        checkFile(dev, ino);
        synchronized (owner) {
            requireFanotify();
            return bridge.fanDisallowExec(watch, dev, ino);
        }
    }

    /** Empties the allow table (every exec is then denied); returns how many entries it had. */
    public int clearExec(int watch) throws IOException {
        synchronized (owner) {
            requireFanotify();
            return bridge.fanClearExec(watch);
        }
    }

    /** Ends the watch: pending execs are allowed, nothing is denied any more. */
    public void releaseExecAllowList(int watch) throws IOException {
        synchronized (owner) {
            requireFanotify();
            bridge.fanUnwatch(watch);
        }
    }

    // ---- network guard (eBPF cgroup programs) ---------------------------------------------------

    /**
     * Guards the container's network (connect, bind, UDP sends) with default deny, enforced from
     * the moment this returns: add what is allowed with {@link NetGuard#allowConnect} and
     * {@link NetGuard#allowBind} right away, or use {@link #guardNetwork(Path, int)} with 0 and
     * {@link NetGuard#setMode} once the allow-lists are in.
     *
     * @param allowLoopback a connect to 127.0.0.0/8 or ::1 passes when its port may be bound
     *                      (the container talking to its own listeners)
     */
    public NetGuard guardNetwork(Path cgroupV2Dir, boolean allowLoopback) throws IOException {
        return guardNetwork(cgroupV2Dir, BridgeLayout.NET_ALL | (allowLoopback ? BridgeLayout.NET_ALLOW_LOOPBACK : 0));
    }

    /** As {@link #guardNetwork(Path, boolean)}, enforcing what {@code flags} (BridgeLayout.NET_*) say. */
    public NetGuard guardNetwork(Path cgroupV2Dir, int flags) throws IOException {
        checkCgroupDir(cgroupV2Dir);
        NetGuard.checkFlags(flags);
        long ino = ((Number) Files.getAttribute(cgroupV2Dir, "unix:ino")).longValue();
        if (ino == 1) throw new IllegalArgumentException(cgroupV2Dir + " is the host's root cgroup");
        if (ino == selfCgroupId) throw new IllegalArgumentException(cgroupV2Dir + " is the agent's own cgroup");
        synchronized (owner) {
            requireBpf();
            int h = bridge.netEnforce(cgroupV2Dir.toString(), flags);
            NetGuard g = new NetGuard(this, cgroupV2Dir, h);
            guards.add(g);
            return g;
        }
    }

    // ---- exec kill (eBPF exec tracepoint) -------------------------------------------------------

    /**
     * Turns exec kill on or off for one cgroup (its exact cgroup v2 id; nested cgroups are not
     * covered). On: an exec of a file not allowed by {@link #allowExecInode} kills the process.
     * Allow first, then turn it on.
     */
    public void execKill(long cgroupId, boolean on) throws IOException {
        checkCgroup(cgroupId);
        synchronized (owner) {
            requireBpf();
            bridge.execEnforce(cgroupId, on);
        }
    }

    /** Allows executing the file in the cgroup (dev, ino as in the exec record's exe_dev/exe_ino). */
    public void allowExecInode(long cgroupId, long dev, long ino) throws IOException {
        checkCgroup(cgroupId);
        checkFile(dev, ino);
        synchronized (owner) {
            requireBpf();
            bridge.execAllow(cgroupId, dev, ino);
        }
    }

    /** Turns exec kill off for the cgroup and forgets its allowed files (container gone); returns how many. */
    public int clearExecKill(long cgroupId) throws IOException {
        checkCgroup(cgroupId);
        synchronized (owner) {
            requireBpf();
            return bridge.execClear(cgroupId);
        }
    }

    /** Execs killed in the cgroup, or -1 when exec kill was never turned on for it (or cleared). */
    public long execKilled(long cgroupId) throws IOException {
        synchronized (owner) {
            requireBpf();
            return bridge.execKilled(cgroupId);
        }
    }

    // ---- life cycle -----------------------------------------------------------------------------

    Object lock() {
        return owner;
    }

    Bridge bridge() {
        return bridge;
    }

    boolean bridgeOpen() {
        return !closed && bridge.isOpen();
    }

    void forget(NetGuard g) {
        guards.remove(g);
    }

    /** Releases every guard (called by KernelSources.close, under its lock). */
    void close() {
        if (closed) return;
        List<NetGuard> open = new ArrayList<>(guards);
        for (NetGuard g : open) {
            try {
                g.close();
            } catch (IOException e) {
                // dw_close detaches whatever is left
            }
        }
        closed = true;
    }

    private void requireBpf() throws IOException {
        if (closed || !bridge.isOpen()) throw new IOException("kernel enforcement is closed");
        if (bpfUnavailable != null) throw new IOException("eBPF enforcement unavailable: " + bpfUnavailable);
    }

    private void requireFanotify() throws IOException {
        if (closed || !bridge.isOpen()) throw new IOException("kernel enforcement is closed");
        if (fanotifyUnavailable != null) throw new IOException("fanotify enforcement unavailable: " + fanotifyUnavailable);
    }

    // ---- argument checks (package-private for the unit tests) -----------------------------------

    void checkCgroup(long cgroupId) {
        checkCgroup(cgroupId, selfCgroupId);
    }

    static void checkCgroup(long cgroupId, long selfCgroupId) {
        if (cgroupId <= 1) {
            throw new IllegalArgumentException("cgroup id " + cgroupId + " is not a container's (1 is the host's root cgroup)");
        }
        if (cgroupId == selfCgroupId) throw new IllegalArgumentException("cgroup id " + cgroupId + " is the agent's own cgroup");
    }

    static void checkFile(long dev, long ino) {
        if (dev < 0) throw new IllegalArgumentException("device " + dev + " is negative");
        if (ino <= 0) throw new IllegalArgumentException("inode " + ino + " is not a file's");
    }

    static void checkCgroupDir(Path dir) {
        if (dir == null) throw new IllegalArgumentException("cgroup directory is null");
        if (!dir.isAbsolute()) throw new IllegalArgumentException("cgroup directory " + dir + " is not an absolute path");
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("cgroup directory " + dir + " does not exist");
    }

    /** Inode of the agent's own cgroup v2 directory, or -1 when unknown. */
    static long selfCgroupId() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                if (!line.startsWith("0::")) continue;
                String rel = line.substring(3);
                for (String mount : new String[] {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
                    Path p = Path.of(mount + rel);
                    if (Files.exists(p.resolve("cgroup.procs"))) return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown: the root check still applies
        }
        return -1;
    }
}
