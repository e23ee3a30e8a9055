// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netguard.bpf.c - the network guard of enforce mode: cgroup/connect4|6, bind4|6 and
 * sendmsg4|6 programs attached to ONE container's cgroup v2 directory. Default deny: a connect
 * (TCP or UDP) or a UDP sendmsg with a destination passes iff (proto, peer address within an
 * allowed prefix, port) is in dw_connect_allow; a bind passes iff (proto, port) is in
 * dw_bind_allow. Returning 0 makes the syscall fail with EPERM before anything is sent.
 *
 * One instance of this object is loaded per guarded cgroup, with the guard id (the inode of the
 * cgroup directory) in rodata: cgroup programs run for the attach point and its descendants, and
 * a process in a nested cgroup must still find its guard's policy. The allow maps, the ring, the
 * counters and the sequence are shared by all instances (bpf_map__reuse_fd by the bridge).
 *
 * Records are built on the stack, not in dw_heap: cgroup programs run preemptible (migration
 * disabled only), so a tracepoint program on the same CPU could reuse the per-CPU heap under
 * us; the per-CPU sequence is taken with an atomic add for the same reason (a record may then
 * arrive after a later one; the bridge counts it as late, not lost).
 */
#include "dw_common.h"
#include "dw_enforce.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define DW_EPERM 1
#define DW_NET_CONNECT_F (1u << 0)
#define DW_NET_BIND_F (1u << 1)
#define DW_NET_SENDMSG_F (1u << 2)
#define DW_NET_LOOPBACK_F (1u << 3)

const volatile __u64 dw_guard_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DW_GUARD_MAX);
	__type(key, __u64);
	__type(value, struct dw_guard_policy);
} dw_guard SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, DW_CONNECT_ALLOW_MAX);
	__type(key, struct dw_connect_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} dw_connect_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DW_BIND_ALLOW_MAX);
	__type(key, struct dw_bind_key);
	__type(value, __u8);
} dw_bind_allow SEC(".maps");

/* the peer or local address of the hook, normalised: a v4-mapped IPv6 address becomes IPv4 */
struct dw_addr {
	__u8 a[DW_ADDR_LEN];
	__u16 family;
	__u16 port; /* host order */
};

static __always_inline void dw_addr4(struct dw_addr *x, struct bpf_sock_addr *ctx)
{
	__u32 ip = ctx->user_ip4;
	__builtin_memcpy(x->a, &ip, 4);
	x->family = DW_AF_INET;
	x->port = bpf_ntohs((__u16)ctx->user_port);
}

static __always_inline void dw_addr6(struct dw_addr *x, struct bpf_sock_addr *ctx)
{
	__u32 w0 = ctx->user_ip6[0], w1 = ctx->user_ip6[1], w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];
	x->port = bpf_ntohs((__u16)ctx->user_port);
	if (w0 == 0 && w1 == 0 && w2 == bpf_htonl(0x0000ffff)) {
		__builtin_memcpy(x->a, &w3, 4);
		x->family = DW_AF_INET;
		return;
	}
	__builtin_memcpy(x->a, &w0, 4);
	__builtin_memcpy(x->a + 4, &w1, 4);
	__builtin_memcpy(x->a + 8, &w2, 4);
	__builtin_memcpy(x->a + 12, &w3, 4);
	x->family = DW_AF_INET6;
}

static __always_inline bool dw_loopback(struct dw_addr *x)
{
	if (x->family == DW_AF_INET)
		return x->a[0] == 127;
	for (int i = 0; i < 15; i++)
		if (x->a[i])
			return false;
	return x->a[15] == 1;
}

static __always_inline bool dw_bind_allowed(__u8 proto, __u16 port)
{
	struct dw_bind_key k = {.guard = dw_guard_id, .proto = proto, .port = port};
	if (bpf_map_lookup_elem(&dw_bind_allow, &k))
		return true;
	k.proto = 0;
	return bpf_map_lookup_elem(&dw_bind_allow, &k) != NULL;
}

static __always_inline bool dw_connect_lookup(struct dw_connect_key *k, __u8 proto, __u16 port)
{
	k->proto = proto;
	k->port = port;
	return bpf_map_lookup_elem(&dw_connect_allow, k) != NULL;
}

static __always_inline bool dw_connect_allowed(struct dw_addr *x, __u8 proto, __u32 flags)
{
	struct dw_connect_key k = {.prefixlen = DW_CONNECT_FIXED_BITS + (x->family == DW_AF_INET ? 32 : 128),
				   .family = (__u8)x->family,
				   .guard = dw_guard_id};
	__builtin_memcpy(k.addr, x->a, DW_ADDR_LEN);
	if (dw_connect_lookup(&k, proto, x->port) || dw_connect_lookup(&k, proto, 0) || dw_connect_lookup(&k, 0, x->port) ||
	    dw_connect_lookup(&k, 0, 0))
		return true;
	if ((flags & DW_NET_LOOPBACK_F) && dw_loopback(x) && dw_bind_allowed(proto, x->port))
		return true;
	return false;
}

/* a per-CPU counter, atomically: a tracepoint program may run between our load and store */
static __always_inline void dw_stat_inc_atomic(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&dw_stats, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* one DW_F_DENIED record, built on the stack */
static __always_inline void dw_deny_record(__u32 op, struct dw_addr *x, __u8 proto)
{
	struct dw_net n = {};
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	n.hdr.op = op;
	n.hdr.source = DW_SRC_BPF;
	n.hdr.flags = DW_F_DENIED;
	n.hdr.size = sizeof(struct dw_net);
	n.hdr.ktime_ns = bpf_ktime_get_ns();
	n.hdr.cgroup_id = bpf_get_current_cgroup_id();
	n.hdr.cgroup_v1_id = dw_cgroup_v1_id(task);
	n.hdr.pid = (__u32)pid_tgid;
	n.hdr.tgid = pid_tgid >> 32;
	n.hdr.ppid = BPF_CORE_READ(task, real_parent, tgid);
	n.hdr.uid = (__u32)bpf_get_current_uid_gid();
	n.hdr.cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(n.hdr.comm, sizeof(n.hdr.comm));
	n.family = x->family;
	n.proto = proto;
	n.ret = -DW_EPERM;
	if (op == DW_OP_BIND) {
		n.lport = x->port;
		__builtin_memcpy(n.laddr, x->a, DW_ADDR_LEN);
	} else {
		n.rport = x->port;
		__builtin_memcpy(n.raddr, x->a, DW_ADDR_LEN);
	}
	__u32 zero = 0;
	__u32 *seq = bpf_map_lookup_elem(&dw_seq, &zero);
	if (!seq)
		return;
	n.hdr.seq = __sync_fetch_and_add(seq, 1) + 1;
	__u64 avail = bpf_ringbuf_query(&dw_events, BPF_RB_AVAIL_DATA);
	__u64 fl = avail + sizeof(n) >= dw_wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&dw_events, &n, sizeof(n), fl) == 0)
		dw_stat_inc_atomic(DW_BPF_STAT_EMITTED);
	else
		dw_stat_inc_atomic(DW_BPF_STAT_RING_FULL);
}

/* 1: allow, 0: deny (EPERM). kind: DW_NET_*_F of the hook */
static __always_inline int dw_guard_check(struct bpf_sock_addr *ctx, bool v6, __u32 kind)
{
	struct dw_guard_policy *pol = bpf_map_lookup_elem(&dw_guard, (__u64 *)&dw_guard_id);
	if (!pol || !(pol->flags & kind))
		return 1; /* guard being set up or torn down, or this hook not enforced: fail open */
	struct dw_addr x = {};
	if (v6)
		dw_addr6(&x, ctx);
	else
		dw_addr4(&x, ctx);
	__u8 proto = (__u8)ctx->protocol;
	bool ok = kind == DW_NET_BIND_F ? dw_bind_allowed(proto, x.port) : dw_connect_allowed(&x, proto, pol->flags);
	if (ok)
		return 1;
	if (kind == DW_NET_BIND_F)
		__sync_fetch_and_add(&pol->bind_denied, 1);
	else if (kind == DW_NET_CONNECT_F)
		__sync_fetch_and_add(&pol->connect_denied, 1);
	else
		__sync_fetch_and_add(&pol->sendmsg_denied, 1);
	dw_stat_inc_atomic(DW_BPF_STAT_NET_DENIED);
	dw_deny_record(kind == DW_NET_BIND_F ? DW_OP_BIND : DW_OP_CONNECT, &x, proto);
	return 0;
}

SEC("cgroup/connect4")
int dw_guard_connect4(struct bpf_sock_addr *ctx)
{
	return dw_guard_check(ctx, false, DW_NET_CONNECT_F);
}

SEC("cgroup/connect6")
int dw_guard_connect6(struct bpf_sock_addr *ctx)
{
	return dw_guard_check(ctx, true, DW_NET_CONNECT_F);
}

SEC("cgroup/bind4")
int dw_guard_bind4(struct bpf_sock_addr *ctx)
{
	return dw_guard_check(ctx, false, DW_NET_BIND_F);
}

SEC("cgroup/bind6")
int dw_guard_bind6(struct bpf_sock_addr *ctx)
{
	return dw_guard_check(ctx, true, DW_NET_BIND_F);
}

SEC("cgroup/sendmsg4")
int dw_guard_sendmsg4(struct bpf_sock_addr *ctx)
{
	return dw_guard_check(ctx, false, DW_NET_SENDMSG_F);
}

SEC("cgroup/sendmsg6")
int dw_guard_sendmsg6(struct bpf_sock_addr *ctx)
{
	return dw_guard_check(ctx, true, DW_NET_SENDMSG_F);
}
