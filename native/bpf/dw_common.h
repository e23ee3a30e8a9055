/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dw_common.h - maps and helpers shared by exec.bpf.c, file.bpf.c and net.bpf.c.
 *
 * Each object declares the same maps; the bridge loads exec first and makes the others reuse
 * its map fds (bpf_map__reuse_fd), so all programs write one ring (dw_events), one set of
 * per-CPU counters (dw_stats), one per-CPU sequence (dw_seq) and one suppression map (dw_supp).
 *
 * Records are built in a per-CPU scratch area (dw_heap) and copied into the ring with
 * bpf_ringbuf_output, because their size varies with the path. Wake-ups are batched: a record
 * is submitted with BPF_RB_NO_WAKEUP unless the ring holds more than wakeup_bytes, and the
 * bridge polls the ring every few milliseconds (MACHINE-NOTES: waking on every record tripled
 * the cost of open+close).
 *
 * Loss accounting: every record takes the next per-CPU sequence number just before it is
 * output; a failed output increments DW_BPF_STAT_RING_FULL, so the bridge sees exactly as many
 * sequence gaps as lost records. Suppressed and filtered records take no sequence number.
 */
#ifndef DW_COMMON_H
#define DW_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "dw_event.h"

#define DW_AT_FDCWD -100
#define DW_EINPROGRESS 115
#define DW_S_IFMT 00170000
#define DW_S_IFSOCK 0140000
#define DW_AF_INET 2
#define DW_AF_INET6 10
#define DW_CGROUP_V2_ROOT 1 /* id of the cgroup v2 root (kernfs root inode) */
#define DW_KEY_V1_BIT (1ULL << 63)

/* bytes of the scratch path area: twice DW_PATH_MAX so that a write at any offset below
 * DW_PATH_MAX of up to DW_PATH_MAX bytes stays inside (verifier-friendly bounds) */
#define DW_PATH_AREA (2 * DW_PATH_MAX)
#define DW_MAX_DEPTH 64 /* path components walked; deeper paths are reported unreadable */

/* set by the bridge before load */
const volatile __u32 dw_self_tgid = 0;       /* the agent: never reported */
const volatile __u32 dw_wakeup_bytes = 1 << 20;
const volatile __u32 dw_suppress_on = 0;
const volatile __u64 dw_table_seed = 0;       /* seeds dw_supp_hash and dw_host_bucket_of */
const volatile __u32 dw_supp_mask = 0;        /* buckets of dw_supp - 1 (a power of two) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by the bridge */
} dw_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DW_BPF_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} dw_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dw_seq SEC(".maps");

/* known keys, written by the bridge (see struct dw_supp_bucket) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16384); /* buckets; resized by the bridge */
	__type(key, __u32);
	__type(value, struct dw_supp_bucket);
} dw_supp SEC(".maps");

/*
 * cgroups the agent has classified as outside any container (key: see dw_host_dropped): their
 * file and network records are dropped here (DW_BPF_STAT_HOST_DROPPED), before any other work.
 * Exec, fork and exit records of host processes are always sent (the agent's process table
 * needs them). Written by the bridge (struct dw_host_bucket); host cgroups come and go
 * (sessions, transient units) and are never removed by the agent: a full bucket's oldest way
 * makes room.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, DW_HOST_BUCKETS);
	__type(key, __u32);
	__type(value, struct dw_host_bucket);
} dw_host_cg SEC(".maps");

/*
 * Two ways to have a syscall's arguments at its sys_exit:
 *
 *  - fast (programs named fast_*): read them from the task's saved user registers
 *    (bpf_task_pt_regs), which the syscalls traced here leave untouched; no sys_enter program,
 *    no map update per call. The struct file of an fd is read through bpf_rdonly_cast, so its
 *    fields are plain loads instead of one bpf_probe_read_kernel each. Needs kernel 6.2+.
 *  - compat (programs named compat_*): a sys_enter program saves them per thread in
 *    dw_stash_map for the sys_exit program (an LRU hash update, lookup and delete per call).
 *
 * The bridge loads one set: fast when the kernel has bpf_task_pt_regs and bpf_rdonly_cast
 * (and DW_CFG_COMPAT_ARGS is not set), else compat. Programs named handle_* load in both.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

struct dw_args {
	__u64 a0, a1, a2;
};

/* arguments 1-3 of the current syscall from the current task's saved user registers (fast path
 * only; task = bpf_get_current_task_btf(), fetched once by the caller) */
static __always_inline void dw_regs_args(struct task_struct *task, struct dw_args *a)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	a->a0 = PT_REGS_PARM1_SYSCALL(regs);
	a->a1 = PT_REGS_PARM2_SYSCALL(regs);
	a->a2 = PT_REGS_PARM3_SYSCALL(regs);
}

/* syscall arguments saved at sys_enter_* for the matching sys_exit_*, per thread (compat) */
struct dw_stash {
	__u32 op;
	__s32 fd;        /* dfd of openat, socket fd of connect/bind/listen */
	__u64 uptr;      /* user pointer: filename or sockaddr */
	__u64 aux;       /* open flags, or user pointer to struct open_how, or addrlen */
	__u32 is_openat2;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct dw_stash);
} dw_stash_map SEC(".maps");

/* state of a path walk, kept in the per-CPU heap (not on the stack): values loaded from a map
 * are unknown to the verifier, so the bpf_loop callbacks converge at once instead of being
 * explored once per distinct offset */
struct dw_walk {
	struct dentry *d;
	struct vfsmount *vmnt;
	struct mount *mnt;
	struct dentry *root_d;
	struct vfsmount *root_m;
	__u32 n;    /* components collected in dw_heap.dents */
	__u32 off;  /* bytes written to the path */
	__u32 done; /* reached the root */
	__u32 fail;
	__u16 flags;
};

/* per-CPU scratch: the record being built (exec.data / file.path lie inside rec[]) */
#define DW_HEAP_REC (sizeof(struct dw_file) + DW_PATH_AREA + DW_ARGV_MAX + 8)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-variable-sized-type-not-at-end"
struct dw_heap {
	union {
		struct dw_hdr hdr;
		struct dw_exec exec;
		struct dw_file file;
		struct dw_net net;
		__u8 rec[DW_HEAP_REC];
	};
	struct dentry *dents[DW_MAX_DEPTH];
	struct dw_walk walk;
};
#pragma clang diagnostic pop

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dw_heap);
} dw_heap_map SEC(".maps");

static __always_inline void dw_stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&dw_stats, &idx);
	if (v)
		*v += 1;
}

static __always_inline struct dw_heap *dw_heap(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&dw_heap_map, &zero);
}

static __always_inline bool dw_is_self(void)
{
	return dw_self_tgid != 0 && (bpf_get_current_pid_tgid() >> 32) == dw_self_tgid;
}

/* index of the memory controller in task->cgroups->subsys[], or -1 when the kernel has none */
static __always_inline int dw_memcg_index(void)
{
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return -1;
	int idx = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	return idx >= 0 && idx < CGROUP_SUBSYS_COUNT ? idx : -1;
}

/* inode of the task's v1 memory cgroup directory (0 when the kernel has no memcg) */
static __always_inline __u64 dw_cgroup_v1_id(struct task_struct *task)
{
	int idx = dw_memcg_index();
	if (idx < 0)
		return 0;
	struct cgroup_subsys_state *css = BPF_CORE_READ(task, cgroups, subsys[idx]);
	if (!css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id);
}

static __always_inline void dw_fill_hdr(struct dw_hdr *h, __u8 op, struct task_struct *task)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	h->op = op;
	h->source = DW_SRC_BPF;
	h->flags = 0;
	h->size = 0;
	h->ktime_ns = bpf_ktime_get_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->cgroup_v1_id = dw_cgroup_v1_id(task);
	h->pid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->cpu = bpf_get_smp_processor_id();
	h->seq = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	/* runc's set-up processes (runc:[0:PARENT], runc:[1:CHILD], runc:[2:INIT]) act inside the
	 * container's cgroup before its first exec: the runtime's work, not the container's */
	if (h->comm[0] == 'r' && h->comm[1] == 'u' && h->comm[2] == 'n' && h->comm[3] == 'c' && h->comm[4] == ':' &&
	    h->comm[5] == '[')
		h->flags |= DW_F_RUNTIME;
}

/* true (and counted) when the agent already knows this key */
static __always_inline bool dw_suppressed(struct dw_supp_key *k)
{
	if (!dw_suppress_on)
		return false;
	__u64 h = dw_supp_hash(k, dw_table_seed);
	__u32 idx = dw_supp_bucket_of(h, dw_supp_mask);
	struct dw_supp_bucket *b = bpf_map_lookup_elem(&dw_supp, &idx);
	if (!b)
		return false;
	for (int i = 0; i < DW_SUPP_WAYS; i++) {
		if (b->check[i] == h && dw_supp_key_eq(&b->key[i], k)) {
			dw_stat_inc(DW_BPF_STAT_SUPPRESSED);
			return true;
		}
	}
	return false;
}

/* Takes a sequence number and writes the record to the ring; a failure is counted. */
static __always_inline void dw_emit(struct dw_heap *hp, __u32 size)
{
	__u32 zero = 0;
	__u32 *seq = bpf_map_lookup_elem(&dw_seq, &zero);
	if (!seq)
		return;
	*seq += 1;
	hp->hdr.seq = *seq;
	hp->hdr.size = size;
	if (size < sizeof(struct dw_hdr) || size > sizeof(struct dw_exec) + DW_PATH_MAX + DW_ARGV_MAX)
		return;
	__u64 avail = bpf_ringbuf_query(&dw_events, BPF_RB_AVAIL_DATA);
	__u64 flags = avail + size >= dw_wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&dw_events, hp, size, flags) == 0)
		dw_stat_inc(DW_BPF_STAT_EMITTED);
	else
		dw_stat_inc(DW_BPF_STAT_RING_FULL);
}

/* The struct file of fd in the current task, or NULL. */
static __always_inline struct file *dw_fd_file(struct task_struct *task, int fd)
{
	if (fd < 0)
		return NULL;
	struct files_struct *files = BPF_CORE_READ(task, files);
	if (!files)
		return NULL;
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	if (!fdt)
		return NULL;
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

/*
 * The struct file of fd in task (bpf_get_current_task_btf()), or NULL; its fields can be read with plain loads
 * (fast path only: bpf_rdonly_cast). The fd-table slot itself is read with a plain load too,
 * through a kernel type whose first member is a struct file * (struct kiocb.ki_filp); on a
 * kernel where that member is not first, with bpf_probe_read_kernel.
 */
static __always_inline struct file *dw_fd_file_fast(struct task_struct *task, int fd)
{
	if (fd < 0)
		return NULL;
	struct fdtable *fdt = task->files->fdt;
	if (!fdt || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	struct file **slot = (struct file **)&fdt->fd[fd];
	struct file *f = NULL;
	if (bpf_core_field_offset(struct kiocb, ki_filp) == 0) {
		struct kiocb *k = bpf_rdonly_cast(slot, bpf_core_type_id_kernel(struct kiocb));
		f = k->ki_filp;
	} else if (bpf_probe_read_kernel(&f, sizeof(f), slot)) {
		return NULL;
	}
	if (!f)
		return NULL;
	return bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
}

/* task: bpf_get_current_task_btf() when fast, else bpf_get_current_task() */
static __always_inline struct file *dw_fd_file_any(struct task_struct *task, int fd, const bool fast)
{
	return fast ? dw_fd_file_fast(task, fd) : dw_fd_file(task, fd);
}

/* dw_cgroup_v1_id with plain loads (fast path only; task = bpf_get_current_task_btf()) */
static __always_inline __u64 dw_cgroup_v1_id_fast(struct task_struct *task)
{
	int idx = dw_memcg_index();
	if (idx < 0)
		return 0;
	return task->cgroups->subsys[idx]->cgroup->kn->id;
}

/* cgroup v2 id of task (bpf_get_current_task_btf()), as bpf_get_current_cgroup_id() gives it:
 * plain loads, about 30 ns less than the helper on the open path (fast programs only) */
static __always_inline __u64 dw_cgroup_id_fast(struct task_struct *task)
{
	return task->cgroups->dfl_cgrp->kn->id;
}

/*
 * True (and counted) for the current task (bpf_get_current_task_btf() when fast, else
 * bpf_get_current_task()), of cgroup v2 id cgid, when the agent classified it as the host's.
 * The key is the agent's attribution key (dw_host_cgroup): the cgroup v2 id, or for a process in
 * the v2 root (v1 and hybrid hosts) its v1 memory cgroup id with bit 63 set.
 */
static __always_inline bool dw_host_dropped(struct task_struct *task, __u64 cgid, const bool fast)
{
	__u64 key = cgid;
	if (key == DW_CGROUP_V2_ROOT) {
		__u64 v1 = fast ? dw_cgroup_v1_id_fast(task) : dw_cgroup_v1_id(task);
		if (!v1)
			return false;
		key = v1 | DW_KEY_V1_BIT;
	}
	__u32 idx = dw_host_bucket_of(key, dw_table_seed);
	struct dw_host_bucket *b = bpf_map_lookup_elem(&dw_host_cg, &idx);
	if (!b)
		return false;
	for (int i = 0; i < DW_HOST_WAYS; i++) {
		if (b->key[i] == key) {
			dw_stat_inc(DW_BPF_STAT_HOST_DROPPED);
			return true;
		}
	}
	return false;
}

/* one step up: collects dentries leaf-first, crossing mount points */
static long dw_walk_up(__u32 i, void *arg)
{
	struct dw_heap *hp = dw_heap();
	if (!hp)
		return 1;
	struct dw_walk *w = &hp->walk;
	struct dentry *d = w->d;
	struct vfsmount *vm = w->vmnt;
	struct mount *mnt = w->mnt;
	if (d == w->root_d && vm == w->root_m) {
		w->done = 1;
		return 1;
	}
	struct dentry *mnt_root = BPF_CORE_READ(vm, mnt_root);
	if (d == mnt_root) {
		struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);
		if (parent == mnt || !parent) {
			w->done = 1;
			return 1;
		}
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = parent;
		w->vmnt = &parent->mnt;
		return 0;
	}
	struct dentry *p = BPF_CORE_READ(d, d_parent);
	if (p == d || !p) {
		w->done = 1;
		return 1;
	}
	if (w->n >= DW_MAX_DEPTH)
		return 1; /* too deep: not done */
	hp->dents[w->n & (DW_MAX_DEPTH - 1)] = d;
	w->n++;
	w->d = p;
	return 0;
}

/* one component down: appends "/name" to the path in dw_heap.file.path */
static long dw_walk_down(__u32 i, void *arg)
{
	struct dw_heap *hp = dw_heap();
	if (!hp)
		return 1;
	struct dw_walk *w = &hp->walk;
	if (i >= w->n)
		return 1;
	struct dentry *c = hp->dents[(w->n - 1 - i) & (DW_MAX_DEPTH - 1)];
	const unsigned char *name = BPF_CORE_READ(c, d_name.name);
	__u32 off = w->off;
	if (off >= DW_PATH_MAX - 2) {
		w->flags |= DW_F_PATH_TRUNCATED;
		return 1;
	}
	char *out = hp->file.path;
	out[off & (DW_PATH_MAX - 1)] = '/';
	off++;
	__u32 room = DW_PATH_MAX - 1 - off;
	__u32 pos = off;
	barrier_var(room);
	barrier_var(pos);
	room &= DW_PATH_MAX - 1;
	pos &= DW_PATH_MAX - 1;
	long len = bpf_probe_read_kernel_str(out + pos, room, name);
	if (len <= 0) {
		w->fail = 1;
		return 1;
	}
	off += len - 1;
	w->off = off;
	if ((__u32)len >= room) {
		w->flags |= DW_F_PATH_TRUNCATED;
		return 1;
	}
	return 0;
}

/*
 * Writes the absolute path of (dentry, vfsmount) as seen from the task's root (so a container
 * process sees its own paths) into hp->file.path, NUL-terminated, and returns its length, or -1
 * when the path is deeper than DW_MAX_DEPTH components or unreadable (never a wrong path). Sets
 * DW_F_PATH_TRUNCATED in *flags when it does not fit DW_PATH_MAX. The walks run in bpf_loop
 * callbacks, which the verifier checks once rather than once per iteration.
 */
static __always_inline int dw_dentry_path(struct dw_heap *hp, struct task_struct *task, struct dentry *d,
					  struct vfsmount *vmnt, __u16 *flags)
{
	struct dw_walk *w = &hp->walk;
	w->d = d;
	w->vmnt = vmnt;
	w->mnt = container_of(vmnt, struct mount, mnt);
	w->root_d = BPF_CORE_READ(task, fs, root.dentry);
	w->root_m = BPF_CORE_READ(task, fs, root.mnt);
	w->n = w->off = w->done = w->fail = 0;
	w->flags = 0;
	bpf_loop(DW_MAX_DEPTH + 16, dw_walk_up, NULL, 0);
	if (!w->done || w->fail)
		return -1;
	bpf_loop(DW_MAX_DEPTH, dw_walk_down, NULL, 0);
	if (w->fail)
		return -1;
	*flags |= w->flags;
	char *out = hp->file.path;
	__u32 off = w->off;
	if (off == 0) {
		out[0] = '/';
		off = 1;
	}
	off &= DW_PATH_MAX - 1;
	out[off] = 0;
	return off;
}

#endif /* DW_COMMON_H */
