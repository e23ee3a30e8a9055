package io.driftwatch.bridge;

/**
 * What {@link Bridge#open} starts, mirrored into {@code struct dw_config} (offsets from the
 * generated {@link BridgeLayout}). Zero sizes mean the bridge's defaults.
 *
 * @param bpf             load the eBPF programs
 * @param fanotify        start the fanotify listener
 * @param suppression     let the kernel drop records whose key the agent added
 * @param ringBytes       eBPF ring size, a power of two (0: 16 MiB)
 * @param wakeupBytes     pending bytes that force a wake-up of the poller (0: ring / 8)
 * @param suppressEntries keys the kernel's suppression table holds (0: 65536); rounded up to a
 *                        power of two, at least 256. The table is 4-way set-associative: a key
 *                        added to a full bucket overwrites one of its ways, whose records then
 *                        reach the agent again (and are added again)
 * @param selfTgid        a process never reported: the agent itself (0: none)
 * @param fanQueueBytes   fanotify records waiting for a poll (0: 4 MiB)
 * @param pollTickMs      longest sleep of a poll between ring checks (0: 10 ms)
 * @param compatArgs      load the compat programs (arguments saved at sys_enter) even where the
 *                        kernel lets the fast ones read them at sys_exit
 */
public record BridgeConfig(boolean bpf, boolean fanotify, boolean suppression, int ringBytes, int wakeupBytes,
        int suppressEntries, int selfTgid, int fanQueueBytes, int pollTickMs, boolean compatArgs) {

    /** Everything on, default sizes, the current process excluded. */
    public static BridgeConfig defaults() {
        return new BridgeConfig(true, true, true, 0, 0, 0, (int) ProcessHandle.current().pid(), 0, 0, false);
    }

    public BridgeConfig withSources(boolean bpf, boolean fanotify) {
        return new BridgeConfig(bpf, fanotify, suppression, ringBytes, wakeupBytes, suppressEntries, selfTgid,
                fanQueueBytes, pollTickMs, compatArgs);
    }

    public BridgeConfig withSuppression(boolean on) {
        return new BridgeConfig(bpf, fanotify, on, ringBytes, wakeupBytes, suppressEntries, selfTgid, fanQueueBytes,
                pollTickMs, compatArgs);
    }

    public BridgeConfig withRing(int ringBytes, int wakeupBytes) {
        return new BridgeConfig(bpf, fanotify, suppression, ringBytes, wakeupBytes, suppressEntries, selfTgid,
                fanQueueBytes, pollTickMs, compatArgs);
    }

    public BridgeConfig withSelfTgid(int tgid) {
        return new BridgeConfig(bpf, fanotify, suppression, ringBytes, wakeupBytes, suppressEntries, tgid,
                fanQueueBytes, pollTickMs, compatArgs);
    }

    public BridgeConfig withSuppressEntries(int entries) {
        return new BridgeConfig(bpf, fanotify, suppression, ringBytes, wakeupBytes, entries, selfTgid,
                fanQueueBytes, pollTickMs, compatArgs);
    }

    public BridgeConfig withCompatArgs(boolean on) {
        return new BridgeConfig(bpf, fanotify, suppression, ringBytes, wakeupBytes, suppressEntries, selfTgid,
                fanQueueBytes, pollTickMs, on);
    }

    /** The smallest power of two >= {@code mb} MiB, in bytes (sources.ring_size_mb). */
    public static int ringBytesForMb(int mb) {
        long bytes = (long) Math.max(1, mb) << 20;
        long p = Long.highestOneBit(bytes);
        if (p < bytes) p <<= 1;
        return (int) Math.min(p, 1L << 30);
    }

    int flags() {
        return (bpf ? BridgeLayout.CFG_BPF : 0) | (fanotify ? BridgeLayout.CFG_FANOTIFY : 0)
                | (suppression ? BridgeLayout.CFG_SUPPRESS : 0) | (compatArgs ? BridgeLayout.CFG_COMPAT_ARGS : 0);
    }
}
