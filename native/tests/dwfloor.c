/* SPDX-License-Identifier: Apache-2.0 */
/* dwfloor: attaches empty programs (bpf/floor.bpf.c) and waits for SIGTERM/SIGINT; the overhead
 * benchmark's floor configurations (root; prints "ready N" once N programs are attached):
 *   dwfloor [hooks]       every hook the agent's fast programs use ("tracepoints-only"): the cost
 *                         of the hooks themselves, before any program does work
 *   dwfloor slow-path     one tracepoint on a syscall the loops never make (getppid): the slow
 *                         syscall path every task takes while any syscall tracepoint is attached
 *   dwfloor raw-sys-exit  one raw tracepoint program called at the exit of every syscall */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* the programs of a mode: the named one, or (hooks) all but the two single-program modes' */
static bool dw_floor_wanted(const char *mode, const char *prog)
{
	bool single = !strcmp(prog, "floor_slow_getppid") || !strcmp(prog, "floor_raw_sys_exit");
	if (!strcmp(mode, "hooks"))
		return !single;
	if (!strcmp(mode, "slow-path"))
		return !strcmp(prog, "floor_slow_getppid");
	return !strcmp(prog, "floor_raw_sys_exit");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "hooks";
	if (strcmp(mode, "hooks") && strcmp(mode, "slow-path") && strcmp(mode, "raw-sys-exit")) {
		fprintf(stderr, "usage: dwfloor [hooks|slow-path|raw-sys-exit]\n");
		return 2;
	}
	struct floor_bpf *skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "dwfloor: opening the programs failed: %s\n", strerror(errno));
		return 1;
	}
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, dw_floor_wanted(mode, bpf_program__name(prog)));
	int err = floor_bpf__load(skel);
	if (err) {
		fprintf(stderr, "dwfloor: loading the programs failed: %s\n", strerror(-err));
		floor_bpf__destroy(skel);
		return 1;
	}
	struct bpf_link *links[32];
	int n = 0;
	bpf_object__for_each_program(prog, skel->obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		struct bpf_link *l = bpf_program__attach(prog);
		if (!l) {
			fprintf(stderr, "dwfloor: %s not attached: %s\n", bpf_program__name(prog), strerror(errno));
			continue;
		}
		if (n < 32)
			links[n++] = l;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready %d\n", n);
	fflush(stdout);
	while (!stop)
		pause();
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	floor_bpf__destroy(skel);
	return 0;
}
