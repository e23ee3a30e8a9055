package io.driftwatch.pipeline;

import io.driftwatch.container.ContainerInfo;

/**
 * Per-container state kept by the pipeline thread (its only writer). HTTP threads see
 * containers through {@link ContainerSnapshot}s published by the resolver.
 */
public final class ContainerState {
    /** Key of this container in the pipeline's maps: see {@link #key(long, long)}. */
    public final long key;
    public final ContainerInfo info;
    /** cgroup v2 id (inode of the unified cgroup directory), or 0. */
    public final long cgroupId;
    /** v1 memory cgroup inode, or 0. */
    public final long cgroupV1Id;
    /** Host pid of the container's init process (pid 1 inside), or 0 when not known yet. */
    public int initPid;
    /** Monotonic (ktime) nanoseconds when the agent first saw the container. */
    public long firstSeenKtimeNs;
    /** Wall clock millis when the container started (its init process start), or first seen. */
    public long startedMillis;
    /** Events attributed to this container. */
    public long events;
    /** Live processes known in the container. */
    public int processes;
    /** false once the container's cgroup is gone. */
    public boolean alive = true;
    /** Slot for the learner / detector (owned by the pipeline thread). */
    public Object profileSlot;

    public ContainerState(long key, ContainerInfo info, long cgroupId, long cgroupV1Id) {
        this.key = key;
        this.info = info;
        this.cgroupId = cgroupId;
        this.cgroupV1Id = cgroupV1Id;
    }

    /**
     * The container key of an event's cgroup ids: the v2 id when the process is in a non-root
     * v2 cgroup, else the v1 memory id tagged with the top bit (v1 and v2 inodes live in different
     * file systems and may collide).
     */
    public static long key(long cgroupV2Id, long cgroupV1Id, long v2RootId) {
        if (cgroupV2Id != 0 && cgroupV2Id != v2RootId) return cgroupV2Id;
        if (cgroupV1Id != 0) return cgroupV1Id | Long.MIN_VALUE;
        return 0;
    }

    public static long key(long cgroupV2Id, long cgroupV1Id) {
        return key(cgroupV2Id, cgroupV1Id, 1);
    }
}
