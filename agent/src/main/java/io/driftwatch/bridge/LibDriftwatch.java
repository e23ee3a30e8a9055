package io.driftwatch.bridge;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.PointerByReference;

/**
 * The C API of libdriftwatch.so ({@code native/include/dw_bridge.h}), one method per function,
 * same names and argument order. {@code __u32} maps to {@code int}, {@code __u64} to
 * {@code long}. Every function returns {@code -errno} on failure (never sets errno), so all
 * are {@link IgnoreError}. Use it through {@link Bridge}, which turns errors into exceptions.
 */
public interface LibDriftwatch {
    @IgnoreError int dw_abi_version();
    @IgnoreError int dw_sizeof_hdr();
    @IgnoreError int dw_sizeof_exec();
    @IgnoreError int dw_sizeof_exit();
    @IgnoreError int dw_sizeof_fork();
    @IgnoreError int dw_sizeof_file();
    @IgnoreError int dw_sizeof_net();
    @IgnoreError int dw_sizeof_supp_key();
    @IgnoreError int dw_sizeof_config();
    @IgnoreError int dw_max_record();

    @IgnoreError int dw_open(@In Pointer cfg, @Out PointerByReference out);

    @IgnoreError int dw_source_status(Pointer ctx, int source, @Out byte[] detail, int cap);

    /** Hot: called by the pipeline thread in a loop. */
    @IgnoreError int dw_poll(Pointer ctx, Pointer buf, int cap, int timeoutMs, int sources);

    @IgnoreError int dw_stats(Pointer ctx, @Out long[] out, int n);

    @IgnoreError int dw_suppress_add(Pointer ctx, long cgroupId, int op, int k0, long k1, long k2);

    @IgnoreError int dw_suppress_clear(Pointer ctx, long cgroupId);

    @IgnoreError int dw_host_cgroup(Pointer ctx, long key, int add);

    @IgnoreError int dw_fan_watch(Pointer ctx, int pid, long cgroupId, long cgroupV1Id, int flags);

    @IgnoreError int dw_fan_unwatch(Pointer ctx, int watch);

    @IgnoreError int dw_fan_deny(Pointer ctx, int watch, long dev, long ino, int mask);

    @IgnoreError int dw_fan_allow(Pointer ctx, int watch, long dev, long ino);

    @IgnoreError int dw_fan_allow_all(Pointer ctx, int watch);

    @IgnoreError int dw_fan_mode(Pointer ctx, int watch, int flags);

    @IgnoreError int dw_fan_allow_exec(Pointer ctx, int watch, long dev, long ino);

    @IgnoreError int dw_fan_disallow_exec(Pointer ctx, int watch, long dev, long ino);

    @IgnoreError int dw_fan_clear_exec(Pointer ctx, int watch);

    @IgnoreError int dw_net_enforce(Pointer ctx, String cgroupPath, int flags);

    @IgnoreError int dw_net_mode(Pointer ctx, int handle, int flags);

    @IgnoreError int dw_net_allow_connect(Pointer ctx, int handle, int family, @In byte[] addr, int prefixLen, int port,
            int proto);

    @IgnoreError int dw_net_allow_bind(Pointer ctx, int handle, int port, int proto);

    @IgnoreError int dw_net_denied(Pointer ctx, int handle, @Out long[] out, int n);

    @IgnoreError int dw_net_release(Pointer ctx, int handle);

    @IgnoreError int dw_exec_enforce(Pointer ctx, long cgroupId, int on);

    @IgnoreError int dw_exec_allow(Pointer ctx, long cgroupId, long dev, long ino);

    @IgnoreError int dw_exec_clear(Pointer ctx, long cgroupId);

    @IgnoreError int dw_exec_killed(Pointer ctx, long cgroupId, @Out long[] out);

    @IgnoreError void dw_close(Pointer ctx);
}
