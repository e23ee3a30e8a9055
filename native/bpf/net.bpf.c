// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * net.bpf.c - connect, bind, listen and accept of AF_INET/AF_INET6 sockets, as dw_net records.
 *
 * connect/bind take the address from the caller's sockaddr, read at sys_exit (the kernel has
 * copied it by then, so the page is resident); listen and accept read the socket itself. Accept
 * uses sys_exit_accept(4): inet_sock_set_state runs in softirq for passive opens, with another
 * task's pid and cgroup. Other address families (unix sockets, netlink) are not reported.
 */
#include "dw_common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline struct sock *dw_fd_sock(struct task_struct *task, int fd, const bool fast)
{
	struct file *f = dw_fd_file_any(task, fd, fast);
	if (!f)
		return NULL;
	if (fast) {
		if ((f->f_inode->i_mode & DW_S_IFMT) != DW_S_IFSOCK)
			return NULL;
		struct socket *sock = bpf_rdonly_cast(f->private_data, bpf_core_type_id_kernel(struct socket));
		return sock ? sock->sk : NULL;
	}
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & DW_S_IFMT) != DW_S_IFSOCK)
		return NULL;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/* compat: saves the arguments for the sys_exit program */
static __always_inline int dw_net_enter(__u32 op, int fd, const void *uaddr, __u64 addrlen)
{
	if (dw_is_self())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct dw_stash st = {.op = op, .fd = fd, .uptr = (__u64)uaddr, .aux = addrlen};
	bpf_map_update_elem(&dw_stash_map, &id, &st, BPF_ANY);
	return 0;
}

/* local address and port of sk into the record */
static __always_inline void dw_sock_local(struct dw_net *n, struct sock *sk, __u16 family)
{
	n->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	/* a connection reset before accept returned is already unhashed, which clears its
	 * inet_num (skc_num); its source port (inet_sport) stays */
	if (!n->lport)
		n->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	/* the destination's type sizes the read: 16 bytes of an IPv6 address, or the 4 of an IPv4
	 * one (the rest stays zero; reading 16 from skc_rcv_saddr would copy the socket's hash and
	 * ports into the address, which the suppression key covers) */
	if (family == DW_AF_INET6)
		BPF_CORE_READ_INTO((struct in6_addr *)n->laddr, sk, __sk_common.skc_v6_rcv_saddr);
	else
		BPF_CORE_READ_INTO((__be32 *)n->laddr, sk, __sk_common.skc_rcv_saddr);
}

static __always_inline void dw_sock_remote(struct dw_net *n, struct sock *sk, __u16 family)
{
	n->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == DW_AF_INET6)
		BPF_CORE_READ_INTO((struct in6_addr *)n->raddr, sk, __sk_common.skc_v6_daddr);
	else
		BPF_CORE_READ_INTO((__be32 *)n->raddr, sk, __sk_common.skc_daddr);
}

static __always_inline bool dw_net_suppressed(struct dw_net *n, __u32 op, __u64 cgid, bool remote, bool with_port)
{
	if (!dw_suppress_on)
		return false;
	__u16 port = remote && with_port ? n->rport : n->lport;
	__u8 *a = remote ? n->raddr : n->laddr;
	struct dw_supp_key k = {.cgroup_id = cgid,
				.op = op,
				.k0 = (__u32)n->family << 24 | (__u32)n->proto << 16 | port};
	__builtin_memcpy(&k.k1, a, 8);
	__builtin_memcpy(&k.k2, a + 8, 8);
	return dw_suppressed(&k);
}

/* The record of one connect, bind, listen or accept on socket fd by task (the current one:
 * bpf_get_current_task_btf() when fast) of cgroup cgid; uptr/aux: the caller's sockaddr and its
 * length (connect, bind). The header is filled only for a record that is sent: a known one is
 * dropped on its socket fields alone. */
static __always_inline int dw_net_record(struct task_struct *task, __u32 op, long ret, int fd, __u64 uptr, __u64 aux,
					 __u64 cgid, const bool fast)
{
	if (op == DW_OP_ACCEPT && ret < 0)
		return 0; /* nothing accepted: no peer to report */
	struct sock *sk = dw_fd_sock(task, fd, fast);
	struct dw_heap *hp = dw_heap();
	if (!hp)
		return 0;
	struct dw_net *n = &hp->net;
	n->ret = ret;
	n->pad = 0;
	n->pad2 = 0;
	n->lport = 0;
	n->rport = 0;
	__builtin_memset(n->laddr, 0, sizeof(n->laddr));
	__builtin_memset(n->raddr, 0, sizeof(n->raddr));
	n->proto = sk ? (__u8)BPF_CORE_READ(sk, sk_protocol) : 0;

	__u16 family = 0;
	if (op == DW_OP_CONNECT || op == DW_OP_BIND) {
		/* struct sockaddr_in / sockaddr_in6 from the caller */
		__u8 sa[28] = {};
		__u64 alen = aux;
		if (alen > sizeof(sa))
			alen = sizeof(sa);
		if (alen < 8 || bpf_probe_read_user(sa, alen & 31, (void *)uptr))
			return 0;
		family = *(__u16 *)sa;
		__u16 port = bpf_ntohs(*(__u16 *)(sa + 2));
		__u8 *dst = op == DW_OP_CONNECT ? n->raddr : n->laddr;
		if (family == DW_AF_INET) {
			__builtin_memcpy(dst, sa + 4, 4);
		} else if (family == DW_AF_INET6) {
			if (alen < 24)
				return 0;
			__builtin_memcpy(dst, sa + 8, 16);
		} else {
			return 0;
		}
		if (op == DW_OP_CONNECT) {
			n->rport = port;
			if (sk && (ret == 0 || ret == -DW_EINPROGRESS))
				dw_sock_local(n, sk, family);
		} else {
			n->lport = port;
		}
	} else {
		if (!sk)
			return 0;
		family = BPF_CORE_READ(sk, __sk_common.skc_family);
		if (family != DW_AF_INET && family != DW_AF_INET6)
			return 0;
		dw_sock_local(n, sk, family);
		if (op == DW_OP_ACCEPT)
			dw_sock_remote(n, sk, family);
	}
	n->family = family;
	if (ret >= 0 || ret == -DW_EINPROGRESS) {
		bool remote = op == DW_OP_CONNECT || op == DW_OP_ACCEPT;
		if (dw_net_suppressed(n, op, cgid, remote, op == DW_OP_CONNECT))
			return 0;
	}
	dw_fill_hdr(&n->hdr, op, task);
	dw_emit(hp, sizeof(struct dw_net));
	return 0;
}

/* compat: the arguments saved at sys_enter (accept needs none) */
static __always_inline int dw_net_exit_compat(__u32 op, long ret)
{
	if (dw_is_self())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct dw_stash st = {};
	if (op != DW_OP_ACCEPT) {
		struct dw_stash *stp = bpf_map_lookup_elem(&dw_stash_map, &id);
		if (!stp) {
			dw_stat_inc(DW_BPF_STAT_NO_ENTER);
			return 0;
		}
		if (stp->op != op)
			return 0;
		st = *stp;
		bpf_map_delete_elem(&dw_stash_map, &id);
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 cgid = bpf_get_current_cgroup_id();
	if (dw_host_dropped(task, cgid, false))
		return 0;
	return dw_net_record(task, op, ret, op == DW_OP_ACCEPT ? ret : st.fd, st.uptr, st.aux, cgid, false);
}

/* fast: connect/bind(fd, addr, addrlen), listen(fd, backlog), accept(4)(fd, ...) -> new fd */
static __always_inline int dw_net_exit_fast(__u32 op, long ret)
{
	if (dw_is_self())
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cgid = dw_cgroup_id_fast(task);
	if (dw_host_dropped(task, cgid, true))
		return 0;
	if (op == DW_OP_ACCEPT)
		return dw_net_record(task, op, ret, ret, 0, 0, cgid, true);
	struct dw_args a;
	dw_regs_args(task, &a);
	return dw_net_record(task, op, ret, (int)a.a0, a.a1, op == DW_OP_LISTEN ? 0 : a.a2, cgid, true);
}

#define DW_NET_PROGS(name, op)                                                                                         \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                                      \
	int fast_exit_##name(struct trace_event_raw_sys_exit *ctx)                                                      \
	{                                                                                                              \
		return dw_net_exit_fast(op, ctx->ret);                                                                 \
	}                                                                                                              \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                                      \
	int compat_exit_##name(struct trace_event_raw_sys_exit *ctx)                                                    \
	{                                                                                                              \
		return dw_net_exit_compat(op, ctx->ret);                                                               \
	}

DW_NET_PROGS(connect, DW_OP_CONNECT)
DW_NET_PROGS(bind, DW_OP_BIND)
DW_NET_PROGS(listen, DW_OP_LISTEN)
DW_NET_PROGS(accept, DW_OP_ACCEPT)
DW_NET_PROGS(accept4, DW_OP_ACCEPT)

SEC("tracepoint/syscalls/sys_enter_connect")
int compat_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	return dw_net_enter(DW_OP_CONNECT, (int)ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_bind")
int compat_enter_bind(struct trace_event_raw_sys_enter *ctx)
{
	return dw_net_enter(DW_OP_BIND, (int)ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_listen")
int compat_enter_listen(struct trace_event_raw_sys_enter *ctx)
{
	return dw_net_enter(DW_OP_LISTEN, (int)ctx->args[0], NULL, 0);
}
