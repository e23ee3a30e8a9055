// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * exec.bpf.c - process lifecycle: exec (successful and failed), exit of a process, fork of a
 * process (threads are skipped).
 *
 * The exec filename is bprm->filename, the path as the caller executed it: a busybox applet
 * run as /bin/cat stays /bin/cat although the file is /bin/busybox. The container runtime's
 * own re-execs while a container starts (runc runs /proc/self/exe, then re-execs a memfd copy
 * of itself) are flagged DW_F_RUNTIME so the agent does not learn them as the container's.
 *
 * Exec kill (enforce mode): for a cgroup in dw_exec_enforce, a successful exec whose file
 * (dev, ino) is not in dw_exec_allow gets bpf_send_signal(SIGKILL). The signal is delivered on
 * the return of execve to user space, so the new image never runs an instruction; the exec
 * itself (opening and mapping the file) has happened. The file checked is bprm->file after the
 * binfmt handlers: for a script that is its interpreter, not the script.
 */
#include "dw_common.h"
#include "dw_enforce.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define DW_SIGKILL 9

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DW_EXEC_POLICY_MAX);
	__type(key, __u64);
	__type(value, struct dw_exec_policy);
} dw_exec_enforce SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DW_EXEC_ALLOW_MAX);
	__type(key, struct dw_exec_allow_key);
	__type(value, __u8);
} dw_exec_allow SEC(".maps");

/* true when the exec is not allowed in an exec-kill cgroup: the caller is then killed */
static __always_inline bool dw_exec_denied(__u64 cgid, __u64 dev, __u64 ino)
{
	struct dw_exec_policy *pol = bpf_map_lookup_elem(&dw_exec_enforce, &cgid);
	if (!pol || !pol->on)
		return false;
	struct dw_exec_allow_key k = {.cgroup_id = cgid, .dev = dev, .ino = ino};
	if (bpf_map_lookup_elem(&dw_exec_allow, &k))
		return false;
	__sync_fetch_and_add(&pol->killed, 1);
	return true;
}

static __always_inline bool dw_prefix(const char *s, const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] != p[i])
			return false;
	return true;
}

/* runc's start-up re-exec: /proc/self/exe, an fd path, or a memfd */
static __always_inline bool dw_runtime_exec(struct dw_heap *hp, __u32 fnlen, struct file *file)
{
	const char *fn = hp->exec.data;
	if (fnlen == 14 && dw_prefix(fn, "/proc/self/exe", 14))
		return true;
	if (fnlen > 8 && dw_prefix(fn, "/dev/fd/", 8))
		return true;
	char name[8] = {};
	const unsigned char *dn = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (dn && bpf_probe_read_kernel(name, 6, dn) == 0 && dw_prefix(name, "memfd:", 6))
		return true;
	return false;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (dw_is_self())
		return 0;
	struct dw_heap *hp = dw_heap();
	if (!hp)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	dw_fill_hdr(&hp->hdr, DW_OP_EXEC, task);

	const char *filename = BPF_CORE_READ(bprm, filename);
	long fl = bpf_probe_read_kernel_str(hp->exec.data, DW_PATH_MAX, filename);
	__u32 fnlen = fl > 0 ? fl - 1 : 0;
	if (fl <= 0)
		hp->hdr.flags |= DW_F_PATH_UNREADABLE;
	else if (fnlen >= DW_PATH_MAX - 1)
		hp->hdr.flags |= DW_F_PATH_TRUNCATED;
	fnlen &= DW_PATH_MAX - 1;

	struct file *file = BPF_CORE_READ(bprm, file);
	if (dw_runtime_exec(hp, fnlen, file))
		hp->hdr.flags |= DW_F_RUNTIME;

	/* argv from the new image's stack: just written by the kernel, so resident */
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long a0 = BPF_CORE_READ(mm, arg_start), a1 = BPF_CORE_READ(mm, arg_end);
	__u32 alen = 0;
	if (a1 > a0) {
		unsigned long want = a1 - a0;
		if (want > DW_ARGV_MAX) {
			want = DW_ARGV_MAX;
			hp->hdr.flags |= DW_F_ARGV_TRUNCATED;
		}
		alen = want & (DW_ARGV_MAX * 2 - 1);
		if (alen > DW_ARGV_MAX)
			alen = DW_ARGV_MAX;
		if (bpf_probe_read_user(hp->exec.data + fnlen, alen, (void *)a0))
			alen = 0;
		else if (hp->hdr.flags & DW_F_ARGV_TRUNCATED)
			hp->exec.data[(fnlen + alen - 1) & (DW_PATH_AREA - 1)] = 0;
	}
	hp->exec.filename_len = fnlen;
	hp->exec.argv_len = alen;
	hp->exec.argc = BPF_CORE_READ(bprm, argc);
	hp->exec.ret = 0;
	hp->exec.exe_ino = BPF_CORE_READ(file, f_inode, i_ino);
	hp->exec.exe_dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	if (dw_exec_denied(hp->hdr.cgroup_id, hp->exec.exe_dev, hp->exec.exe_ino)) {
		bpf_send_signal(DW_SIGKILL);
		hp->hdr.flags |= DW_F_KILLED;
		dw_stat_inc(DW_BPF_STAT_EXEC_KILLED);
	}
	dw_emit(hp, DW_ALIGN8(sizeof(struct dw_exec) + fnlen + alen));
	return 0;
}

/* failed execs: sched_process_exec only fires on success */
static __always_inline int dw_exec_failed(long ret, __u64 uptr)
{
	/* success is reported by sched_process_exec; ENOENT/ENOTDIR are PATH-search misses */
	if (ret >= 0 || ret == -2 || ret == -20)
		return 0;
	struct dw_heap *hp = dw_heap();
	if (!hp)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	dw_fill_hdr(&hp->hdr, DW_OP_EXEC, task);
	long fl = bpf_probe_read_user_str(hp->exec.data, DW_PATH_MAX, (const char *)uptr);
	__u32 fnlen = fl > 0 ? fl - 1 : 0;
	if (fl <= 0) {
		hp->hdr.flags |= DW_F_PATH_UNREADABLE;
		dw_stat_inc(DW_BPF_STAT_PATH_UNREADABLE);
	} else if (fnlen >= DW_PATH_MAX - 1) {
		hp->hdr.flags |= DW_F_PATH_TRUNCATED;
	}
	fnlen &= DW_PATH_MAX - 1;
	if (fnlen > 0 && hp->exec.data[0] != '/')
		hp->hdr.flags |= DW_F_PATH_RELATIVE;
	hp->exec.filename_len = fnlen;
	hp->exec.argv_len = 0;
	hp->exec.argc = 0;
	hp->exec.ret = ret;
	hp->exec.exe_ino = 0;
	hp->exec.exe_dev = 0;
	dw_emit(hp, DW_ALIGN8(sizeof(struct dw_exec) + fnlen));
	return 0;
}

/* compat: the filename saved at sys_enter */
static __always_inline int dw_exec_enter(const char *filename)
{
	if (dw_is_self())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct dw_stash st = {.op = DW_OP_EXEC, .uptr = (__u64)filename};
	bpf_map_update_elem(&dw_stash_map, &id, &st, BPF_ANY);
	return 0;
}

static __always_inline int dw_exec_exit_compat(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct dw_stash *st = bpf_map_lookup_elem(&dw_stash_map, &id);
	if (!st || st->op != DW_OP_EXEC)
		return 0;
	__u64 uptr = st->uptr;
	bpf_map_delete_elem(&dw_stash_map, &id);
	return dw_exec_failed(ret, uptr);
}

SEC("tracepoint/syscalls/sys_enter_execve")
int compat_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	return dw_exec_enter((const char *)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int compat_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	return dw_exec_enter((const char *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int compat_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	return dw_exec_exit_compat(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int compat_exit_execveat(struct trace_event_raw_sys_exit *ctx)
{
	return dw_exec_exit_compat(ctx->ret);
}

/* fast: a failed exec returns to the caller with its registers as they were: the filename is
 * execve's first argument (arg 0), execveat's second (arg 1) */
static __always_inline int dw_exec_exit_fast(long ret, const int arg)
{
	if (ret >= 0 || dw_is_self())
		return 0;
	struct dw_args a;
	dw_regs_args(bpf_get_current_task_btf(), &a);
	return dw_exec_failed(ret, arg == 0 ? a.a0 : a.a1);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int fast_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	return dw_exec_exit_fast(ctx->ret, 0);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int fast_exit_execveat(struct trace_event_raw_sys_exit *ctx)
{
	return dw_exec_exit_fast(ctx->ret, 1);
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	if (dw_is_self())
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	/* one record per process: when its last thread exits */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	struct dw_heap *hp = dw_heap();
	if (!hp)
		return 0;
	dw_fill_hdr(&hp->hdr, DW_OP_EXIT, task);
	struct dw_exit *e = (struct dw_exit *)hp;
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->pad = 0;
	dw_emit(hp, sizeof(struct dw_exit));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	if (dw_is_self())
		return 0;
	__u32 cpid = BPF_CORE_READ(child, pid), ctgid = BPF_CORE_READ(child, tgid);
	if (cpid != ctgid)
		return 0; /* a thread */
	struct dw_heap *hp = dw_heap();
	if (!hp)
		return 0;
	dw_fill_hdr(&hp->hdr, DW_OP_FORK, (struct task_struct *)bpf_get_current_task());
	struct dw_fork *f = (struct dw_fork *)hp;
	f->child_pid = cpid;
	f->child_tgid = ctgid;
	dw_emit(hp, sizeof(struct dw_fork));
	return 0;
}
