/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dw_bridge.h - the C API of libdriftwatch.so, mirrored one to one by
 * agent/.../bridge/LibDriftwatch.java (jnr-ffi). Constants below are generated into
 * BridgeLayout.java by tools/layoutgen.c; never copy them by hand.
 *
 * One context (dw_open) owns the eBPF programs and their ring buffer, and the fanotify
 * listener thread. The caller polls records (dw_event.h) in batches into a buffer it owns;
 * nothing calls back into the caller. Every function returning int returns >= 0 on success and
 * -errno on failure, as libbpf does. Thread safety: dw_poll and dw_stats from one thread (the
 * agent's pipeline thread); dw_suppress_*, dw_fan_*, dw_net_*, dw_exec_* and dw_source_status
 * from any thread.
 */
#ifndef DW_BRIDGE_H
#define DW_BRIDGE_H

#include "dw_event.h"

/* dw_config.flags */
#define DW_CFG_BPF (1u << 0)      /* load the eBPF programs */
#define DW_CFG_FANOTIFY (1u << 1) /* start the fanotify listener */
#define DW_CFG_SUPPRESS (1u << 2) /* kernel-side suppression (dw_supp) */
#define DW_CFG_COMPAT_ARGS (1u << 3) /* load the compat programs (sys_enter/sys_exit pairs) even where
				      * the kernel supports reading arguments at sys_exit */

struct dw_config {
	__u32 abi_version;      /* DW_ABI_VERSION the caller was built for; a mismatch is -EPROTO */
	__u32 flags;            /* DW_CFG_* */
	__u32 ring_bytes;       /* eBPF ring size: a power of two >= 4096; 0 = 16 MiB */
	__u32 wakeup_bytes;     /* wake the poller only when this much is pending; 0 = ring/8 */
	__u32 suppress_entries; /* entries of the suppression LRU map; 0 = 65536 */
	__u32 self_tgid;        /* process never reported (the agent); 0 = none */
	__u32 fan_queue_bytes;  /* fanotify records waiting for dw_poll; 0 = 4 MiB */
	__u32 poll_tick_ms;     /* longest sleep of dw_poll between ring checks; 0 = 10 */
};

/* sources: dw_poll's mask and dw_source_status's argument */
#define DW_POLL_BPF (1u << 0)
#define DW_POLL_FANOTIFY (1u << 1)

/* dw_source_status results */
#define DW_STATE_RUNNING 1
#define DW_STATE_DEGRADED 2
#define DW_STATE_UNAVAILABLE 3
#define DW_STATE_DISABLED 4

/* dw_stats indices. Counters are totals since dw_open; FAN_WATCHES is a current value. */
#define DW_STAT_BPF_EMITTED 0     /* records the eBPF programs wrote to the ring */
#define DW_STAT_RING_FULL 1       /* records lost: the ring was full */
#define DW_STAT_PATH_UNREADABLE 2 /* records sent with DW_F_PATH_UNREADABLE */
#define DW_STAT_SUPPRESSED 3      /* records suppressed in the kernel */
#define DW_STAT_NO_ENTER 4        /* compat programs: sys_exit seen without its sys_enter (not a loss) */
#define DW_STAT_BPF_DELIVERED 5   /* eBPF records copied to the caller */
#define DW_STAT_SEQ_GAPS 6        /* sequence numbers never delivered (net of late ones) */
#define DW_STAT_BAD_RECORDS 7     /* ring records rejected by the bridge's checks */
#define DW_STAT_FAN_EVENTS 8      /* fanotify events read */
#define DW_STAT_FAN_DENIED 9      /* permission events answered FAN_DENY */
#define DW_STAT_FAN_OVERFLOW 10   /* FAN_Q_OVERFLOW: the kernel dropped events */
#define DW_STAT_FAN_QUEUE_FULL 11 /* fanotify records lost: the bridge queue was full */
#define DW_STAT_FAN_ERRORS 12     /* failed reads/responses */
#define DW_STAT_FAN_DELIVERED 13  /* fanotify records copied to the caller */
#define DW_STAT_FAN_WATCHES 14    /* active watches */
#define DW_STAT_NET_DENIED 15     /* connects/binds/sendmsgs refused by network guards */
#define DW_STAT_EXEC_KILLED 16    /* execs answered with SIGKILL */
#define DW_STAT_FAN_NOT_ALLOWED 17 /* exec opens denied by an allow-list (also in FAN_DENIED) */
#define DW_STAT_NET_GUARDS 18     /* active network guards */
#define DW_STAT_HOST_DROPPED 19   /* file/net records of host processes dropped in the kernel */
#define DW_STAT_COUNT 24

/* dw_fan_watch flags */
#define DW_FAN_PERM (1u << 0)   /* permission events: the bridge answers, denials possible */
#define DW_FAN_NOTIFY (1u << 1) /* emit a dw_file record (DW_SRC_FANOTIFY) for every open/exec */
/* with DW_FAN_PERM: an exec open (FAN_OPEN_EXEC_PERM: execve's file, a script's interpreter, the
 * ELF interpreter ld.so) is denied unless its (dev, ino) is in the watch's allow table; plain
 * opens (shared libraries included) are not affected. Setting it also marks every exec-capable
 * mount of the container for exec events, not only its root mount. */
#define DW_FAN_ALLOWLIST_EXEC (1u << 2)
#define DW_FAN_MODE_MASK (DW_FAN_NOTIFY | DW_FAN_ALLOWLIST_EXEC) /* what dw_fan_mode may change */

/* dw_fan_deny mask */
#define DW_FAN_DENY_OPEN (1u << 0) /* deny every open of the file, exec included */
#define DW_FAN_DENY_EXEC (1u << 1) /* deny executing the file only */
#define DW_FAN_MAX_DECISIONS 256   /* per watch */
#define DW_FAN_MAX_WATCHES 1024
#define DW_FAN_MAX_ALLOWED 4096    /* allow-table entries per watch */
#define DW_FAN_MAX_MOUNTS 64       /* mounts marked per allow-list watch */

/* dw_net_enforce flags */
#define DW_NET_CONNECT (1u << 0)        /* connect(2) of AF_INET/AF_INET6 sockets (TCP and UDP) */
#define DW_NET_BIND (1u << 1)           /* bind(2) */
#define DW_NET_SENDMSG (1u << 2)        /* UDP sendmsg/sendto with a destination address */
#define DW_NET_ALLOW_LOOPBACK (1u << 3) /* connect to 127.0.0.0/8, ::1 allowed when (proto, port) is
					 * in the guard's bind allow-set: the container talks to itself */
#define DW_NET_ALL (DW_NET_CONNECT | DW_NET_BIND | DW_NET_SENDMSG)
#define DW_NET_MAX_GUARDS 256

struct dw_ctx;

int dw_abi_version(void);
int dw_sizeof_hdr(void);
int dw_sizeof_exec(void);
int dw_sizeof_exit(void);
int dw_sizeof_fork(void);
int dw_sizeof_file(void);
int dw_sizeof_net(void);
int dw_sizeof_supp_key(void);
int dw_sizeof_config(void);
int dw_max_record(void);

/* Opens a context. Sources that cannot start do not fail the call: dw_source_status says why.
 * -EPROTO on an ABI mismatch, -EINVAL on a bad config, -ENOMEM. */
int dw_open(const struct dw_config *cfg, struct dw_ctx **out);

/* DW_STATE_* of one source (DW_POLL_BPF or DW_POLL_FANOTIFY), and a NUL-terminated reason or
 * capability summary in detail[cap]. */
int dw_source_status(struct dw_ctx *ctx, __u32 source, char *detail, __u32 cap);

/* Copies whole records of the given sources into buf[cap] (cap >= DW_MAX_RECORD) and returns
 * the bytes written, waiting up to timeout_ms when none is ready. A record that does not fit is
 * left in place for the next call; none is dropped between the kernel and the caller. */
int dw_poll(struct dw_ctx *ctx, void *buf, __u32 cap, int timeout_ms, __u32 sources);

/* Writes min(n, DW_STAT_COUNT) counters (DW_STAT_*) and returns DW_STAT_COUNT. */
int dw_stats(struct dw_ctx *ctx, __u64 *out, __u32 n);

/* Suppression: records whose key (see struct dw_supp_key) is present are not sent. */
int dw_suppress_add(struct dw_ctx *ctx, __u64 cgroup_id, __u32 op, __u32 k0, __u64 k1, __u64 k2);
/* Removes the keys of one cgroup (0: all) and returns how many were removed. */
int dw_suppress_clear(struct dw_ctx *ctx, __u64 cgroup_id);

/* Host filter: the file and network records of the processes of one cgroup are dropped in the
 * kernel (DW_STAT_HOST_DROPPED); their exec/fork/exit records are not. key: the cgroup v2 id, or
 * for processes in the v2 root (v1 and hybrid hosts) the v1 memory cgroup id | 1 << 63 (the
 * agent's attribution key). add = 0 removes it (-ENOENT when absent). The kernel keeps the
 * 16384 most recently active; -ENODEV without the eBPF source, -EINVAL for key 0 or 1. */
int dw_host_cgroup(struct dw_ctx *ctx, __u64 key, __u32 add);

/* Watches the root mount of the container whose process is pid (FAN_MARK_MOUNT on
 * /proc/<pid>/root/); its records carry the given cgroup ids. Returns a watch id. */
int dw_fan_watch(struct dw_ctx *ctx, int pid, __u64 cgroup_id, __u64 cgroup_v1_id, __u32 flags);
int dw_fan_unwatch(struct dw_ctx *ctx, int watch);
/* Denies opens (DW_FAN_DENY_*) of the file (dev in the kernel's encoding, as in dw_file.dev:
 * major << 20 | minor) under a DW_FAN_PERM watch; the last decision for a file wins. */
int dw_fan_deny(struct dw_ctx *ctx, int watch, __u64 dev, __u64 ino, __u32 mask);
/* Drops the decision for one file, or (dw_fan_allow_all) all of the watch's decisions. */
int dw_fan_allow(struct dw_ctx *ctx, int watch, __u64 dev, __u64 ino);
int dw_fan_allow_all(struct dw_ctx *ctx, int watch);

/* Mode of a watch at run time: flags is the new value of the mutable bits (DW_FAN_MODE_MASK);
 * DW_FAN_PERM may be given when the watch has it (the class of a watch cannot change: -EINVAL).
 * -EOPNOTSUPP for DW_FAN_ALLOWLIST_EXEC on a notification watch. */
int dw_fan_mode(struct dw_ctx *ctx, int watch, __u32 flags);
/* Allow-table of a watch: executing (dev, ino) is allowed under DW_FAN_ALLOWLIST_EXEC.
 * -ENOSPC when DW_FAN_MAX_ALLOWED entries are in. dw_fan_disallow_exec: -ENOENT when absent. */
int dw_fan_allow_exec(struct dw_ctx *ctx, int watch, __u64 dev, __u64 ino);
int dw_fan_disallow_exec(struct dw_ctx *ctx, int watch, __u64 dev, __u64 ino);
int dw_fan_clear_exec(struct dw_ctx *ctx, int watch);

/* Network guard: attaches cgroup/connect4|6, bind4|6 and sendmsg4|6 (as flags ask) to one cgroup
 * v2 directory, link-based with BPF_F_ALLOW_MULTI (other programs stay). Default deny: a connect
 * or sendmsg passes iff its (proto, peer, port) is allowed (dw_net_allow_connect), a bind iff
 * (proto, port) is (dw_net_allow_bind). Applies to the cgroup and its descendants only. Needs the
 * eBPF source running (-ENODEV otherwise); -EEXIST when the cgroup is already guarded; -EINVAL
 * for a path that is not a cgroup2 directory, or the cgroup2 root. flags: what is enforced from
 * the start (see dw_net_mode); the six programs are attached in any case. Returns a handle. */
int dw_net_enforce(struct dw_ctx *ctx, const char *cgroup_path, __u32 flags);
/* Changes what a guard enforces (DW_NET_* flags; 0 leaves the programs attached but passing
 * everything, e.g. while its allow-lists are filled in). */
int dw_net_mode(struct dw_ctx *ctx, int handle, __u32 flags);
/* family AF_INET (addr[0..3]) or AF_INET6 (addr[16]); prefix_len 0..32 / 0..128; port 0 = any;
 * proto DW_PROTO_TCP, DW_PROTO_UDP or 0 = any. */
int dw_net_allow_connect(struct dw_ctx *ctx, int handle, __u32 family, const __u8 *addr, __u32 prefix_len,
			 __u32 port, __u32 proto);
/* port 0..65535 (0: a bind to port 0, i.e. an ephemeral port); proto as above. */
int dw_net_allow_bind(struct dw_ctx *ctx, int handle, __u32 port, __u32 proto);
/* Denials of one guard: out[0] connect, out[1] bind, out[2] sendmsg; returns 3. */
int dw_net_denied(struct dw_ctx *ctx, int handle, __u64 *out, __u32 n);
/* Detaches the guard's programs and forgets its allow entries. */
int dw_net_release(struct dw_ctx *ctx, int handle);

/* Exec kill: in the cgroup (exact cgroup v2 id, not descendants) every successful exec whose file
 * (dev, ino as in dw_exec.exe_dev/exe_ino) is not allowed gets SIGKILL before the new image runs
 * a user-space instruction; its exec record carries DW_F_KILLED. on = 0 turns it off (the allow
 * set stays). -ENODEV without the eBPF source. */
int dw_exec_enforce(struct dw_ctx *ctx, __u64 cgroup_id, __u32 on);
int dw_exec_allow(struct dw_ctx *ctx, __u64 cgroup_id, __u64 dev, __u64 ino);
/* Turns exec kill off for the cgroup and forgets its allowed files and counter (call it when the
 * container is gone); returns how many files were removed. */
int dw_exec_clear(struct dw_ctx *ctx, __u64 cgroup_id);
/* Execs killed in the cgroup since dw_exec_enforce first named it; -ENOENT when not named. */
int dw_exec_killed(struct dw_ctx *ctx, __u64 cgroup_id, __u64 *out);

void dw_close(struct dw_ctx *ctx);

#endif /* DW_BRIDGE_H */
