/* SPDX-License-Identifier: Apache-2.0 */
/* dwfloor: attaches empty programs to every hook the agent's fast programs use
 * (bpf/floor.bpf.c) and waits for SIGTERM/SIGINT. The overhead benchmark's "tracepoints only"
 * configuration: the cost of the hooks themselves, before any program does work.
 *   dwfloor      (root; prints "ready N" once N programs are attached) */
#include <errno.h>
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

int main(void)
{
	struct floor_bpf *skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "dwfloor: loading the programs failed: %s\n", strerror(errno));
		return 1;
	}
	struct bpf_program *prog;
	struct bpf_link *links[32];
	int n = 0;
	bpf_object__for_each_program(prog, skel->obj)
	{
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
