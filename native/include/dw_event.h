/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dw_event.h - THE Driftwatch wire format.
 *
 * Every event record that crosses from the kernel (eBPF), from fanotify or from the /proc
 * poller into the agent is one of the structs below. This header is the single place a record
 * is defined: the BPF programs, the C bridge and tools/layoutgen.c include it, and the Java
 * constants (agent/.../bridge/EventLayout.java) are generated from it by `make -C native layout`.
 *
 * Rules: fixed-width types, explicit padding, no `packed`; every record starts with struct
 * dw_hdr; hdr.size is the whole record's length in bytes and a multiple of 8; op codes and
 * flag bits are never renumbered or reused. Bump DW_ABI_VERSION on any change.
 */
#ifndef DW_EVENT_H
#define DW_EVENT_H

#if defined(__bpf__) || defined(__BPF__)
/* BPF programs include vmlinux.h first, which defines __u8 ... __u64 */
#else
#include <linux/types.h>
#endif

#define DW_ABI_VERSION 5

#define DW_COMM_LEN 16
#define DW_PATH_MAX 4096 /* longest path carried, including its NUL */
#define DW_ARGV_MAX 1024 /* bytes of argv carried (NUL-separated) */
#define DW_ADDR_LEN 16   /* IPv4 in the first 4 bytes, IPv6 in all 16 */

/* op codes: hdr.op. Never renumber. */
#define DW_OP_EXEC 1
#define DW_OP_EXIT 2
#define DW_OP_OPEN 3
#define DW_OP_CONNECT 4
#define DW_OP_BIND 5
#define DW_OP_LISTEN 6
#define DW_OP_ACCEPT 7
#define DW_OP_FORK 8
#define DW_OP_MAX 8

/* hdr.source: who produced the record */
#define DW_SRC_BPF 1
#define DW_SRC_FANOTIFY 2
#define DW_SRC_PROC 3

/* hdr.flags */
#define DW_F_PATH_TRUNCATED (1u << 0)  /* path (or filename) longer than DW_PATH_MAX - 1 */
#define DW_F_PATH_UNREADABLE (1u << 1) /* path could not be read; path_len == 0 */
#define DW_F_PATH_RELATIVE (1u << 2)   /* path could not be made absolute (cwd unknown) */
#define DW_F_ARGV_TRUNCATED (1u << 3)  /* more argv than DW_ARGV_MAX */
#define DW_F_RUNTIME (1u << 4)         /* the container runtime at work: runc init re-exec, runc:[N:...] set-up */
#define DW_F_PERM (1u << 5)            /* fanotify permission event (answered by the bridge) */
#define DW_F_DENIED (1u << 6)          /* the bridge denied this access */
#define DW_F_THREAD (1u << 7)          /* fork: the child is a thread, not a process */
#define DW_F_KILLED (1u << 8)          /* exec: the process was sent SIGKILL (exec-kill enforcement) */

/* dw_file.access bits */
#define DW_ACC_READ (1u << 0)
#define DW_ACC_WRITE (1u << 1)
#define DW_ACC_CREATE (1u << 2)
#define DW_ACC_TRUNC (1u << 3)
#define DW_ACC_APPEND (1u << 4)
#define DW_ACC_EXEC (1u << 5)      /* opened for execution (fanotify FAN_OPEN_EXEC*) */
#define DW_ACC_DIRECTORY (1u << 6)

/* dw_net.proto */
#define DW_PROTO_TCP 6
#define DW_PROTO_UDP 17

struct dw_hdr {
	__u8 op;
	__u8 source;
	__u16 flags;
	__u32 size;          /* whole record, bytes, multiple of 8 */
	__u64 ktime_ns;      /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 cgroup_id;     /* cgroup v2 id (inode of the unified cgroup directory) */
	__u64 cgroup_v1_id;  /* inode of the v1 memory cgroup directory; 0 when none */
	__u32 pid;           /* thread id */
	__u32 tgid;          /* process id */
	__u32 ppid;          /* process id of the real parent */
	__u32 uid;
	__u32 cpu;
	__u32 seq;           /* per-(source,cpu) sequence number, for loss detection */
	char comm[DW_COMM_LEN];
};

/* exec: data[] holds the filename as executed (filename_len bytes, no NUL), then argv
 * (argv_len bytes, each argument NUL-terminated). */
struct dw_exec {
	struct dw_hdr hdr;
	__u32 filename_len;
	__u32 argv_len;
	__u32 argc;
	__s32 ret;           /* 0, or -errno of a failed execve */
	__u64 exe_ino;       /* inode of the executed file; 0 when unknown */
	__u64 exe_dev;       /* its device (kernel encoding, as dw_file.dev); 0 when unknown */
	char data[];
};

/* exit of a process (thread group leader) */
struct dw_exit {
	struct dw_hdr hdr;
	__s32 exit_code;     /* wait(2) status: code << 8 | signal */
	__u32 pad;
};

/* fork of a process: hdr is the parent */
struct dw_fork {
	struct dw_hdr hdr;
	__u32 child_pid;
	__u32 child_tgid;
};

/* open/openat/openat2 (BPF) or a fanotify open: path[] has path_len bytes, no NUL */
struct dw_file {
	struct dw_hdr hdr;
	__s32 ret;           /* fd, or -errno */
	__u32 open_flags;    /* O_* as passed to open */
	__u32 access;        /* DW_ACC_* */
	__u32 path_len;
	__u64 dev;           /* st_dev of the opened file (kernel encoding); 0 when unknown */
	__u64 ino;           /* inode of the opened file; 0 when unknown */
	char path[];
};

/* connect, bind, listen, accept. Ports in host byte order. A connect, bind or UDP sendmsg refused
 * by a network guard (cgroup/connect*, bind*, sendmsg* programs) is one record with DW_F_DENIED,
 * ret -EPERM and source DW_SRC_BPF (a UDP sendmsg is reported as DW_OP_CONNECT, proto UDP); the
 * syscall tracepoints report the same attempt once more, without the flag, with ret -EPERM. For connect the remote side is the
 * peer; for bind/listen the local side is the bound address; for accept the remote side is the
 * client and lport the local port. */
struct dw_net {
	struct dw_hdr hdr;
	__u16 family;        /* AF_INET (2) or AF_INET6 (10) */
	__u8 proto;          /* DW_PROTO_* */
	__u8 pad;
	__s32 ret;           /* 0 / fd, or -errno */
	__u16 lport;
	__u16 rport;
	__u32 pad2;
	__u8 laddr[DW_ADDR_LEN];
	__u8 raddr[DW_ADDR_LEN];
};


/* Kernel-side suppression (table dw_supp): a record whose key is in the table is counted
 * (DW_BPF_STAT_SUPPRESSED) and not sent. The key is built from the record's own fields, by the
 * BPF programs and by the agent (Bridge.suppress -> dw_suppress_add):
 *   DW_OP_OPEN:    k0 = access & DW_SUPP_ACC_MASK, k1 = dev, k2 = ino   (successful opens only)
 *   DW_OP_CONNECT: k0 = family << 24 | proto << 16 | rport, k1/k2 = raddr bytes 0-7 / 8-15
 *   DW_OP_BIND, DW_OP_LISTEN: k0 = family << 24 | proto << 16 | lport, k1/k2 = laddr
 *   DW_OP_ACCEPT:  k0 = family << 24 | proto << 16 | lport, k1/k2 = raddr (the peer, not its port)
 * Address bytes are copied into k1/k2 as they lie in the record (memcpy, native order). */
struct dw_supp_key {
	__u64 cgroup_id;     /* hdr.cgroup_id */
	__u32 op;            /* DW_OP_* */
	__u32 k0;
	__u64 k1;
	__u64 k2;
};

/*
 * The suppression and host-filter tables are set-associative arrays (BPF array maps the bridge
 * mmaps and writes; the programs only read them): a key's bucket is picked by a seeded hash,
 * and the programs compare the few ways of that one bucket. A hash-map lookup cost the open
 * path about 45 ns (hashing a 32-byte key, walking the bucket list); this is a multiply-mix and
 * a handful of compares. Not part of the agent's ABI: only the BPF programs and the bridge use
 * these, and both come from one build.
 *
 * A suppression way is valid when its check is the key's full hash (never 0, the empty mark).
 * The bridge writes a way as check = 0, key, then check = hash (release), so a program that
 * reads a way while it is rewritten either sees a check that does not match its key's hash or
 * compares a key the bridge is storing; it never accepts a key that was not added.
 */
#define DW_SUPP_WAYS 4
struct dw_supp_bucket {
	__u64 check[DW_SUPP_WAYS];             /* hash of key[i], 0: empty */
	struct dw_supp_key key[DW_SUPP_WAYS];
};

/* host cgroups (dw_host_cg): one cache line of keys per bucket, 0 = empty (0 and 1 are never
 * host keys: see dw_host_cgroup) */
#define DW_HOST_WAYS 8
#define DW_HOST_BUCKETS 2048
struct dw_host_bucket {
	__u64 key[DW_HOST_WAYS];
};

/*
 * The hashes: one multiply per 64-bit word, chained, and the bucket taken from the high half
 * of the result (which every input bit reaches). They only spread keys over buckets; a way matches
 * on the whole key (dw_supp_key_eq), so a collision costs a way, never a wrong answer.
 */
#define DW_HASH_M1 0x9E3779B97F4A7C15ULL
#define DW_HASH_M2 0xC2B2AE3D27D4EB4FULL
#define DW_HASH_M3 0x165667B19E3779F9ULL

/* full hash of a suppression key, never 0 (the empty mark) */
static inline __u64 dw_supp_hash(const struct dw_supp_key *k, __u64 seed)
{
	__u64 h = (k->cgroup_id ^ seed) * DW_HASH_M1;
	h = (h ^ ((__u64)k->op << 32 | k->k0)) * DW_HASH_M2;
	h = (h ^ k->k1) * DW_HASH_M3;
	h = (h ^ k->k2) * DW_HASH_M1;
	h = (h ^ h >> 32) * DW_HASH_M2; /* the high bits of the last word (IPv6 host bytes) reach the bucket */
	return h | 1;
}

/* the whole key (inode and address words first: they differ most) */
static inline int dw_supp_key_eq(const struct dw_supp_key *a, const struct dw_supp_key *b)
{
	return a->k2 == b->k2 && a->k1 == b->k1 && a->cgroup_id == b->cgroup_id && a->op == b->op && a->k0 == b->k0;
}

/* bucket of a suppression key's hash h among mask + 1 buckets (a power of two) */
static inline __u32 dw_supp_bucket_of(__u64 h, __u32 mask)
{
	return (__u32)(h >> 32) & mask;
}

/* bucket of a host key among DW_HOST_BUCKETS */
static inline __u32 dw_host_bucket_of(__u64 key, __u64 seed)
{
	return (__u32)(((key ^ seed) * DW_HASH_M1) >> 32) & (DW_HOST_BUCKETS - 1);
}

#define DW_SUPP_ACC_MASK (DW_ACC_READ | DW_ACC_WRITE | DW_ACC_CREATE | DW_ACC_TRUNC | DW_ACC_APPEND | DW_ACC_DIRECTORY)

/* Per-CPU counters of the BPF programs (array map dw_stats), summed by the bridge. */
#define DW_BPF_STAT_EMITTED 0          /* records written to the ring */
#define DW_BPF_STAT_RING_FULL 1        /* records lost: ring reservation/output failed */
#define DW_BPF_STAT_PATH_UNREADABLE 2  /* records sent without a path (flag DW_F_PATH_UNREADABLE) */
#define DW_BPF_STAT_SUPPRESSED 3       /* records suppressed by dw_supp */
#define DW_BPF_STAT_NO_ENTER 4         /* compat programs: sys_exit without its sys_enter (attach race,
					* LRU eviction) */
#define DW_BPF_STAT_NET_DENIED 5       /* connects/binds/sendmsgs refused by a network guard */
#define DW_BPF_STAT_EXEC_KILLED 6      /* execs answered with SIGKILL (exec-kill enforcement) */
#define DW_BPF_STAT_HOST_DROPPED 7     /* file/net records of host cgroups dropped (dw_host_cgroup) */
#define DW_BPF_STAT_COUNT 8

#define DW_ALIGN8(n) (((n) + 7u) & ~7u)
#define DW_MAX_RECORD DW_ALIGN8(sizeof(struct dw_exec) + DW_PATH_MAX + DW_ARGV_MAX)

_Static_assert(sizeof(struct dw_hdr) == 72, "dw_hdr layout changed: bump DW_ABI_VERSION and regenerate");
_Static_assert(sizeof(struct dw_exec) == 104, "dw_exec layout changed");
_Static_assert(sizeof(struct dw_exit) == 80, "dw_exit layout changed");
_Static_assert(sizeof(struct dw_fork) == 80, "dw_fork layout changed");
_Static_assert(sizeof(struct dw_file) == 104, "dw_file layout changed");
_Static_assert(sizeof(struct dw_net) == 120, "dw_net layout changed");
_Static_assert(sizeof(struct dw_supp_key) == 32, "dw_supp_key layout changed");
_Static_assert(sizeof(struct dw_supp_bucket) == 160, "dw_supp_bucket layout changed");
_Static_assert(sizeof(struct dw_host_bucket) == 64, "dw_host_bucket layout changed");

#endif /* DW_EVENT_H */
