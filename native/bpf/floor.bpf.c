// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * floor.bpf.c - empty programs for the overhead benchmark (tests/dwfloor.c), never loaded by
 * the agent:
 *  - floor_exit_*, floor_exec, floor_fork, floor_exit: every hook the agent's fast set uses: what
 *    attaching to these tracepoints costs on this kernel before a program does any work;
 *  - floor_slow_getppid: one syscall tracepoint the loops never hit: the slow syscall entry and
 *    exit every task takes while any syscall tracepoint is attached, alone;
 *  - floor_raw_sys_exit: one raw tracepoint at the exit of every syscall: the other way to see
 *    syscalls (one program called for all of them, which then picks its own).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define DW_EMPTY_EXIT(name)                                                                                            \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                                      \
	int floor_exit_##name(void *ctx)                                                                               \
	{                                                                                                              \
		return 0;                                                                                              \
	}

DW_EMPTY_EXIT(open)
DW_EMPTY_EXIT(creat)
DW_EMPTY_EXIT(openat)
DW_EMPTY_EXIT(openat2)
DW_EMPTY_EXIT(connect)
DW_EMPTY_EXIT(bind)
DW_EMPTY_EXIT(listen)
DW_EMPTY_EXIT(accept)
DW_EMPTY_EXIT(accept4)
DW_EMPTY_EXIT(execve)
DW_EMPTY_EXIT(execveat)

SEC("tp_btf/sched_process_exec")
int BPF_PROG(floor_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_fork, struct task_struct *parent, struct task_struct *child)
{
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int floor_exit(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_getppid")
int floor_slow_getppid(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_exit")
int floor_raw_sys_exit(void *ctx)
{
	return 0;
}
