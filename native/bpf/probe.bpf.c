// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * probe.bpf.c - capability probes, loaded (one at a time) and unloaded at start-up. They tell
 * whether this kernel lets us load trampoline programs (fentry) and BPF-LSM programs; the report
 * names the result. The event programs use tracepoints, tp_btf and raw tracepoints, which work
 * where these fail (e.g. with ftrace locked down: EPERM).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("fentry/do_sys_openat2")
int BPF_PROG(dw_probe_fentry)
{
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(dw_probe_lsm, struct file *file)
{
	return 0;
}
