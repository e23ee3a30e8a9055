// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * file.bpf.c - open, openat, openat2 and creat, as dw_file records.
 *
 * The record is built at sys_exit, because only then are the result, the opened file (dev, ino)
 * and a resident filename page known. About 2% of filenames cannot be read at sys_enter (the
 * page is not faulted in and tracepoints cannot fault); at sys_exit the kernel has just copied
 * the name, so the read succeeds, and when it still fails on a successful open the path is
 * rebuilt from the opened file's dentry chain. A path that cannot be had is sent empty with
 * DW_F_PATH_UNREADABLE and counted (DW_BPF_STAT_PATH_UNREADABLE), never guessed.
 *
 * The steady state is an open the agent already knows: the host filter (dw_host_cg) or the
 * suppression map (dw_supp) drops it before the path is read. The fast programs reach that
 * point with no map update and plain loads (see dw_common.h); the compat programs save the
 * arguments at sys_enter.
 *
 * Relative names are made absolute: a successful open takes the opened file's own path (as
 * seen from the task's root, so a container sees its own paths); a failed one joins the name
 * to the directory of dfd (or the cwd). Paths are not normalised beyond that.
 */
#include "dw_common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define DW_O_ACCMODE 3
#define DW_O_WRONLY 1
#define DW_O_RDWR 2
#define DW_O_CREAT 0100
#define DW_O_TRUNC 01000
#define DW_O_APPEND 02000
#define DW_O_DIRECTORY 0200000

static __always_inline __u32 dw_access(__u32 flags)
{
	__u32 acc;
	switch (flags & DW_O_ACCMODE) {
	case DW_O_WRONLY:
		acc = DW_ACC_WRITE;
		break;
	case DW_O_RDWR:
		acc = DW_ACC_READ | DW_ACC_WRITE;
		break;
	default:
		acc = DW_ACC_READ;
	}
	if (flags & DW_O_CREAT)
		acc |= DW_ACC_CREATE;
	if (flags & DW_O_TRUNC)
		acc |= DW_ACC_TRUNC;
	if (flags & DW_O_APPEND)
		acc |= DW_ACC_APPEND;
	if (flags & DW_O_DIRECTORY)
		acc |= DW_ACC_DIRECTORY;
	return acc;
}

/* compat: saves the arguments for the sys_exit program */
static __always_inline int dw_open_enter(int dfd, const char *filename, __u64 flags, bool openat2)
{
	if (dw_is_self())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct dw_stash st = {.op = DW_OP_OPEN, .fd = dfd, .uptr = (__u64)filename, .aux = flags, .is_openat2 = openat2};
	bpf_map_update_elem(&dw_stash_map, &id, &st, BPF_ANY);
	return 0;
}

/*
 * The record of one open by task (the current one: bpf_get_current_task_btf() when fast, else
 * bpf_get_current_task()). dfd, uptr (the filename) and aux (the flags, or openat2's struct
 * open_how) are the syscall's arguments; fast: they come from the registers and the opened
 * file's fields are read with plain loads (dw_common.h).
 */
static __always_inline int dw_open_record(struct task_struct *task, long ret, int dfd, __u64 uptr, __u64 aux,
					  bool openat2, __u64 cgid, const bool fast)
{
	__u32 oflags = (__u32)aux;
	if (openat2) {
		__u64 f = 0;
		bpf_probe_read_user(&f, sizeof(f), (void *)aux); /* struct open_how.flags */
		oflags = (__u32)f;
	}
	__u32 access = dw_access(oflags);

	struct file *file = ret >= 0 ? dw_fd_file_any(task, (int)ret, fast) : NULL;
	__u64 dev = 0, ino = 0;
	if (file) {
		if (fast) {
			struct inode *inode = file->f_inode;
			dev = inode->i_sb->s_dev;
			ino = inode->i_ino;
		} else {
			struct inode *inode = BPF_CORE_READ(file, f_inode);
			dev = BPF_CORE_READ(inode, i_sb, s_dev);
			ino = BPF_CORE_READ(inode, i_ino);
		}
		if (dw_suppress_on) {
			struct dw_supp_key k = {.cgroup_id = cgid,
						.op = DW_OP_OPEN,
						.k0 = access & DW_SUPP_ACC_MASK,
						.k1 = dev,
						.k2 = ino};
			if (dw_suppressed(&k))
				return 0;
		}
	}

	struct dw_heap *hp = dw_heap();
	if (!hp)
		return 0;
	dw_fill_hdr(&hp->hdr, DW_OP_OPEN, task);
	char *out = hp->file.path;
	long fl = bpf_probe_read_user_str(out, DW_PATH_MAX, (const char *)uptr);
	int len = -1;
	if (fl > 1 && out[0] == '/') {
		len = fl - 1;
		if (len >= DW_PATH_MAX - 1)
			hp->hdr.flags |= DW_F_PATH_TRUNCATED;
	} else if (file) {
		/* relative or unreadable name of an opened file: the file's own path */
		len = dw_dentry_path(hp, task, BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt),
				     &hp->hdr.flags);
	} else if (fl > 1) {
		/* relative name, failed open: join it to the directory it was relative to */
		struct dentry *dd = NULL;
		struct vfsmount *dm = NULL;
		if (dfd == DW_AT_FDCWD) {
			dd = BPF_CORE_READ(task, fs, pwd.dentry);
			dm = BPF_CORE_READ(task, fs, pwd.mnt);
		} else {
			struct file *df = dw_fd_file(task, dfd);
			if (df) {
				dd = BPF_CORE_READ(df, f_path.dentry);
				dm = BPF_CORE_READ(df, f_path.mnt);
			}
		}
		int n = dd ? dw_dentry_path(hp, task, dd, dm, &hp->hdr.flags) : -1;
		if (n > 0 && n < DW_PATH_MAX - 2) {
			if (n > 1)
				out[n++ & (DW_PATH_MAX - 1)] = '/';
			__u32 pos = n, room = DW_PATH_MAX - n;
			barrier_var(pos);
			barrier_var(room);
			pos &= DW_PATH_MAX - 1;
			room &= DW_PATH_MAX - 1;
			long rl = bpf_probe_read_user_str(out + pos, room, (const char *)uptr);
			if (rl > 1) {
				len = n + rl - 1;
				if (n + rl >= DW_PATH_MAX)
					hp->hdr.flags |= DW_F_PATH_TRUNCATED;
			}
		}
		if (len < 0) {
			/* no directory: keep the name as given, flagged */
			fl = bpf_probe_read_user_str(out, DW_PATH_MAX, (const char *)uptr);
			if (fl > 1) {
				len = fl - 1;
				hp->hdr.flags |= DW_F_PATH_RELATIVE;
			}
		}
	}
	if (len < 0) {
		len = 0;
		hp->hdr.flags |= DW_F_PATH_UNREADABLE;
		dw_stat_inc(DW_BPF_STAT_PATH_UNREADABLE);
	}
	len &= DW_PATH_MAX - 1;
	hp->file.ret = ret;
	hp->file.open_flags = oflags;
	hp->file.access = access;
	hp->file.path_len = len;
	hp->file.dev = dev;
	hp->file.ino = ino;
	dw_emit(hp, DW_ALIGN8(sizeof(struct dw_file) + len));
	return 0;
}

/* compat: the arguments saved at sys_enter */
static __always_inline int dw_open_exit_compat(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct dw_stash *stp = bpf_map_lookup_elem(&dw_stash_map, &id);
	if (!stp) {
		if (!dw_is_self())
			dw_stat_inc(DW_BPF_STAT_NO_ENTER);
		return 0;
	}
	if (stp->op != DW_OP_OPEN)
		return 0;
	struct dw_stash st = *stp;
	bpf_map_delete_elem(&dw_stash_map, &id);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 cgid = bpf_get_current_cgroup_id();
	if (dw_is_self() || dw_host_dropped(task, cgid, false))
		return 0;
	return dw_open_record(task, ret, st.fd, st.uptr, st.aux, st.is_openat2, cgid, false);
}

/* fast: open(filename, flags), creat(filename, mode), openat(dfd, filename, flags),
 * openat2(dfd, filename, how) */
#define DW_FAST_OPEN(name, dfd, fname, aux, openat2)                                                                   \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                                      \
	int fast_exit_##name(struct trace_event_raw_sys_exit *ctx)                                                      \
	{                                                                                                              \
		if (dw_is_self())                                                                                      \
			return 0;                                                                                      \
		struct task_struct *task = bpf_get_current_task_btf();                                                 \
		__u64 cgid = dw_cgroup_id_fast(task);                                                                  \
		if (dw_host_dropped(task, cgid, true))                                                                 \
			return 0;                                                                                      \
		struct dw_args a;                                                                                      \
		dw_regs_args(task, &a);                                                                                \
		return dw_open_record(task, ctx->ret, dfd, fname, aux, openat2, cgid, true);                           \
	}

DW_FAST_OPEN(open, DW_AT_FDCWD, a.a0, a.a1, false)
DW_FAST_OPEN(creat, DW_AT_FDCWD, a.a0, DW_O_CREAT | DW_O_WRONLY | DW_O_TRUNC, false)
DW_FAST_OPEN(openat, (int)a.a0, a.a1, a.a2, false)
DW_FAST_OPEN(openat2, (int)a.a0, a.a1, a.a2, true)

SEC("tracepoint/syscalls/sys_enter_open")
int compat_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return dw_open_enter(DW_AT_FDCWD, (const char *)ctx->args[0], ctx->args[1], false);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int compat_enter_creat(struct trace_event_raw_sys_enter *ctx)
{
	return dw_open_enter(DW_AT_FDCWD, (const char *)ctx->args[0], DW_O_CREAT | DW_O_WRONLY | DW_O_TRUNC, false);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int compat_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return dw_open_enter((int)ctx->args[0], (const char *)ctx->args[1], ctx->args[2], false);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int compat_enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	return dw_open_enter((int)ctx->args[0], (const char *)ctx->args[1], ctx->args[2], true);
}

SEC("tracepoint/syscalls/sys_exit_open")
int compat_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return dw_open_exit_compat(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int compat_exit_creat(struct trace_event_raw_sys_exit *ctx)
{
	return dw_open_exit_compat(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int compat_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return dw_open_exit_compat(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int compat_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return dw_open_exit_compat(ctx->ret);
}
