// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * floor.bpf.c - empty programs on every hook the agent's fast set uses, for the overhead
 * benchmark (tests/dwfloor.c): what attaching to these tracepoints costs on this kernel before
 * a program does any work. Not loaded by the agent.
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
