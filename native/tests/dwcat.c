/* SPDX-License-Identifier: Apache-2.0 */
/* dwcat: prints what libdriftwatch.so delivers, for debugging the bridge by hand.
 *   dwcat [seconds] [fanotify-pid]   (root) */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dw_bridge.h"

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 5;
	int fpid = argc > 2 ? atoi(argv[2]) : 0;
	int quiet = argc > 3; /* count only */
	long count = 0;
	struct dw_config cfg = {.abi_version = DW_ABI_VERSION, .flags = DW_CFG_BPF | DW_CFG_FANOTIFY};
	struct dw_ctx *ctx;
	int err = dw_open(&cfg, &ctx);
	if (err) {
		fprintf(stderr, "dw_open: %s\n", strerror(-err));
		return 1;
	}
	char d[512];
	int st = dw_source_status(ctx, DW_POLL_BPF, d, sizeof(d));
	printf("bpf: state %d: %s\n", st, d);
	st = dw_source_status(ctx, DW_POLL_FANOTIFY, d, sizeof(d));
	printf("fanotify: state %d: %s\n", st, d);
	if (fpid > 0)
		printf("watch: %d\n", dw_fan_watch(ctx, fpid, 0, 0, DW_FAN_PERM | DW_FAN_NOTIFY));
	static char buf[1 << 20];
	time_t end = time(NULL) + secs;
	while (time(NULL) < end) {
		int n = dw_poll(ctx, buf, sizeof(buf), 100, DW_POLL_BPF | DW_POLL_FANOTIFY);
		for (int off = 0; off < n;) {
			struct dw_hdr *h = (void *)(buf + off);
			count++;
			if (quiet) {
				off += h->size;
				continue;
			}
			printf("op=%d src=%d fl=%#x cg=%llu cg1=%llu pid=%u tgid=%u ppid=%u cpu=%u seq=%u comm=%.16s", h->op,
			       h->source, h->flags, (unsigned long long)h->cgroup_id, (unsigned long long)h->cgroup_v1_id,
			       h->pid, h->tgid, h->ppid, h->cpu, h->seq, h->comm);
			if (h->op == DW_OP_EXEC) {
				struct dw_exec *e = (void *)h;
				printf(" exec=%.*s argc=%u ret=%d", e->filename_len, e->data, e->argc, e->ret);
			} else if (h->op == DW_OP_OPEN) {
				struct dw_file *f = (void *)h;
				printf(" open=%.*s acc=%#x ret=%d dev=%llx ino=%llu", f->path_len, f->path, f->access, f->ret,
				       (unsigned long long)f->dev, (unsigned long long)f->ino);
			} else if (h->op == DW_OP_EXIT) {
				printf(" exit=%d", ((struct dw_exit *)h)->exit_code);
			} else if (h->op == DW_OP_FORK) {
				printf(" child=%u", ((struct dw_fork *)h)->child_tgid);
			} else {
				struct dw_net *nn = (void *)h;
				char l[64], r[64];
				inet_ntop(nn->family, nn->laddr, l, sizeof(l));
				inet_ntop(nn->family, nn->raddr, r, sizeof(r));
				printf(" fam=%u proto=%u ret=%d local=%s:%u remote=%s:%u", nn->family, nn->proto, nn->ret, l,
				       nn->lport, r, nn->rport);
			}
			printf("\n");
			off += h->size;
		}
	}
	__u64 s[DW_STAT_COUNT];
	dw_stats(ctx, s, DW_STAT_COUNT);
	printf("records: %ld\nstats:", count);
	for (int i = 0; i < DW_STAT_COUNT; i++)
		printf(" %llu", (unsigned long long)s[i]);
	printf("\n");
	dw_close(ctx);
	return 0;
}
