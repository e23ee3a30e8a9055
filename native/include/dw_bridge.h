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
 * agent's pipeline thread); dw_suppress_*, dw_fan_* and dw_source_status from any thread.
 */
#ifndef DW_BRIDGE_H
#define DW_BRIDGE_H

#include "dw_event.h"

/* dw_config.flags */
#define DW_CFG_BPF (1u << 0)      /* load the eBPF programs */
#define DW_CFG_FANOTIFY (1u << 1) /* start the fanotify listener */
#define DW_CFG_SUPPRESS (1u << 2) /* kernel-side suppression (dw_supp) */

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
#define DW_STAT_NO_ENTER 4        /* sys_exit seen without its sys_enter (not a loss) */
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
#define DW_STAT_COUNT 16

/* dw_fan_watch flags */
#define DW_FAN_PERM (1u << 0)   /* permission events: the bridge answers, denials possible */
#define DW_FAN_NOTIFY (1u << 1) /* emit a dw_file record (DW_SRC_FANOTIFY) for every open/exec */

/* dw_fan_deny mask */
#define DW_FAN_DENY_OPEN (1u << 0) /* deny every open of the file, exec included */
#define DW_FAN_DENY_EXEC (1u << 1) /* deny executing the file only */
#define DW_FAN_MAX_DECISIONS 256   /* per watch */
#define DW_FAN_MAX_WATCHES 1024

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

void dw_close(struct dw_ctx *ctx);

#endif /* DW_BRIDGE_H */
