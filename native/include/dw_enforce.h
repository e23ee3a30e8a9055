/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dw_enforce.h - keys and values of the enforcement maps, shared by the BPF programs
 * (exec.bpf.c, netguard.bpf.c) and the bridge (dw_enforce.c). Not part of the record format:
 * nothing here crosses into Java. Fixed-width fields, explicit padding, no `packed`.
 */
#ifndef DW_ENFORCE_H
#define DW_ENFORCE_H

#include "dw_event.h"

/* ---- exec kill (exec.bpf.c, tp_btf/sched_process_exec) ---- */

/* dw_exec_enforce: cgroup v2 id -> struct dw_exec_policy. A cgroup present here has its execs
 * checked against dw_exec_allow; a miss is answered with SIGKILL. */
struct dw_exec_policy {
	__u32 on;
	__u32 pad;
	__u64 killed;          /* execs killed in this cgroup (atomic) */
};

/* dw_exec_allow: (cgroup id, dev, ino) of an allowed executable -> 1 */
struct dw_exec_allow_key {
	__u64 cgroup_id;
	__u64 dev;             /* kernel encoding: major << 20 | minor (s_dev) */
	__u64 ino;
};

#define DW_EXEC_POLICY_MAX 4096
#define DW_EXEC_ALLOW_MAX 65536

/* ---- network guard (netguard.bpf.c, cgroup/connect*, bind*, sendmsg*) ---- */

/* dw_guard: guard id (the inode of the guarded cgroup v2 directory) -> policy */
struct dw_guard_policy {
	__u32 flags;           /* DW_NET_* of dw_bridge.h */
	__u32 pad;
	__u64 connect_denied;  /* atomic counters */
	__u64 bind_denied;
	__u64 sendmsg_denied;
};

/* dw_connect_allow: LPM trie. The fixed fields come first so that prefixlen =
 * DW_CONNECT_FIXED_BITS + the address prefix. IPv4 addresses in addr[0..3]; a v4-mapped IPv6
 * peer is looked up as IPv4. proto 0 = any protocol, port 0 = any port (host byte order). */
struct dw_connect_key {
	__u32 prefixlen;
	__u8 proto;
	__u8 family;           /* AF_INET (2) or AF_INET6 (10) */
	__u16 port;
	__u64 guard;           /* guard id */
	__u8 addr[DW_ADDR_LEN];
};
#define DW_CONNECT_FIXED_BITS 96

/* dw_bind_allow: (guard, proto, port) -> 1. proto 0 = any. */
struct dw_bind_key {
	__u64 guard;
	__u8 proto;
	__u8 pad;
	__u16 port;
	__u32 pad2;
};

#define DW_GUARD_MAX 1024
#define DW_CONNECT_ALLOW_MAX 16384
#define DW_BIND_ALLOW_MAX 4096

_Static_assert(sizeof(struct dw_exec_allow_key) == 24, "dw_exec_allow_key layout");
_Static_assert(sizeof(struct dw_connect_key) == 32, "dw_connect_key layout");
_Static_assert(sizeof(struct dw_bind_key) == 16, "dw_bind_key layout");
_Static_assert(sizeof(struct dw_guard_policy) == 32, "dw_guard_policy layout");

#endif /* DW_ENFORCE_H */
