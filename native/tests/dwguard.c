// SPDX-License-Identifier: Apache-2.0
/*
 * dwguard: a stand-in agent for the fail-open test. Opens a bridge, guards one cgroup v2
 * directory (default deny, nothing allowed) and turns exec kill on for its cgroup id with one
 * allowed file, prints "guarded" and waits to be killed. The test kills it with SIGKILL and checks
 * that the kernel dropped the programs' attachments with the process (bpf links are not pinned).
 *   dwguard <cgroup-v2-dir> <cgroup-id> <allowed-dev> <allowed-ino> [allow-127/8]
 * With the fifth argument, connects and sends to 127.0.0.0/8 are allowed (the allowed-path
 * cost measurement in docs/enforcement.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dw_bridge.h"

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: dwguard <cgroup-v2-dir> <cgroup-id> <allowed-dev> <allowed-ino>\n");
		return 2;
	}
	struct dw_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.abi_version = DW_ABI_VERSION;
	cfg.flags = DW_CFG_BPF;
	cfg.ring_bytes = 1 << 20;
	struct dw_ctx *ctx;
	int rc = dw_open(&cfg, &ctx);
	if (rc) {
		fprintf(stderr, "dw_open: %s\n", strerror(-rc));
		return 1;
	}
	int h = dw_net_enforce(ctx, argv[1], DW_NET_ALL);
	if (h < 0) {
		fprintf(stderr, "dw_net_enforce: %s\n", strerror(-h));
		return 1;
	}
	if (argc == 6) {
		__u8 lo[4] = {127, 0, 0, 0};
		rc = dw_net_allow_connect(ctx, h, 2, lo, 8, 0, 0);
		if (rc) {
			fprintf(stderr, "dw_net_allow_connect: %s\n", strerror(-rc));
			return 1;
		}
	}
	unsigned long long cg = strtoull(argv[2], NULL, 10);
	rc = dw_exec_allow(ctx, cg, strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
	if (!rc)
		rc = dw_exec_enforce(ctx, cg, 1);
	if (rc) {
		fprintf(stderr, "dw_exec_enforce: %s\n", strerror(-rc));
		return 1;
	}
	printf("guarded\n");
	fflush(stdout);
	for (int i = 0; i < 600; i++) /* bounded: 60 s */
		usleep(100000);
	return 0;
}
