/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dw_bridge.c - libdriftwatch.so: loads the eBPF programs (libbpf skeletons), probes what the
 * kernel allows, and hands records to the agent in batches (dw_poll). See dw_bridge.h.
 *
 * Start-up never fails for a missing capability: each source gets a state and a reason
 * (dw_source_status) that the agent reports. The three program objects (exec, file, net) share
 * one ring, one stats map, one sequence map and one suppression map: exec is loaded first and
 * the others reuse its map fds. A program object that fails leaves the others running
 * (state DEGRADED). fentry and BPF-LSM are probed and reported; no program needs them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "dw_internal.h"
#include "exec.skel.h"
#include "file.skel.h"
#include "net.skel.h"
#include "probe.skel.h"

_Static_assert(sizeof(struct dw_config) == 32, "dw_config layout changed: bump DW_ABI_VERSION");

int dw_abi_version(void) { return DW_ABI_VERSION; }
int dw_sizeof_hdr(void) { return sizeof(struct dw_hdr); }
int dw_sizeof_exec(void) { return sizeof(struct dw_exec); }
int dw_sizeof_exit(void) { return sizeof(struct dw_exit); }
int dw_sizeof_fork(void) { return sizeof(struct dw_fork); }
int dw_sizeof_file(void) { return sizeof(struct dw_file); }
int dw_sizeof_net(void) { return sizeof(struct dw_net); }
int dw_sizeof_supp_key(void) { return sizeof(struct dw_supp_key); }
int dw_sizeof_config(void) { return sizeof(struct dw_config); }
int dw_max_record(void) { return DW_MAX_RECORD; }

void dw_detail(char *dst, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, DW_DETAIL_LEN, fmt, ap);
	va_end(ap);
}

/* libbpf's messages: the last warning is kept for the status report; printed to stderr only
 * with DRIFTWATCH_LIBBPF_DEBUG set. Not per-context: libbpf's print hook is global. */
static __thread char dw_libbpf_last[256];

static int dw_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (getenv("DRIFTWATCH_LIBBPF_DEBUG")) {
		va_list cp;
		va_copy(cp, ap);
		vfprintf(stderr, fmt, cp);
		va_end(cp);
	}
	if (level == LIBBPF_DEBUG)
		return 0;
	char line[256];
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = 0;
	if (n > 0)
		memcpy(dw_libbpf_last, line, n + 1);
	return 0;
}

static const char *dw_tracefs(void)
{
	if (access("/sys/kernel/tracing/events/syscalls", F_OK) == 0)
		return "/sys/kernel/tracing";
	if (access("/sys/kernel/debug/tracing/events/syscalls", F_OK) == 0)
		return "/sys/kernel/debug/tracing";
	return NULL;
}

/* Programs whose tracepoint does not exist here (e.g. sys_enter_open on arm64) are not loaded. */
static int dw_skip_missing_tracepoints(struct bpf_object *obj, const char *tracefs, char *missing, size_t cap)
{
	struct bpf_program *prog;
	int skipped = 0;
	bpf_object__for_each_program(prog, obj)
	{
		const char *sec = bpf_program__section_name(prog);
		if (!bpf_program__autoload(prog) || strncmp(sec, "tracepoint/", 11) != 0)
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/events/%s", tracefs, sec + 11);
		if (access(path, F_OK) != 0) {
			bpf_program__set_autoload(prog, false);
			size_t n = strlen(missing);
			snprintf(missing + n, cap - n, "%s%s", n ? "," : "", sec + 11);
			skipped++;
		}
	}
	return skipped;
}

/* Loads one set of argument-capturing programs (see dw_common.h): fast_* or compat_*; handle_*
 * load in both. */
static void dw_select_programs(struct bpf_object *obj, int fast)
{
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj)
	{
		const char *name = bpf_program__name(prog);
		if (strncmp(name, "fast_", 5) == 0)
			bpf_program__set_autoload(prog, fast);
		else if (strncmp(name, "compat_", 7) == 0)
			bpf_program__set_autoload(prog, !fast);
	}
}

/* Whether the fast programs can load here: 1, or 0 with the reason in why. */
static int dw_fast_args_available(char *why, size_t cap)
{
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_pt_regs, NULL) != 1) {
		snprintf(why, cap, "no bpf_task_pt_regs (kernel < 5.15)");
		return 0;
	}
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_current_task_btf, NULL) != 1) {
		snprintf(why, cap, "no bpf_get_current_task_btf for tracepoints");
		return 0;
	}
	struct btf *vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		snprintf(why, cap, "kernel BTF unreadable");
		return 0;
	}
	int found = btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
	btf__free(vmlinux);
	if (!found) {
		snprintf(why, cap, "no bpf_rdonly_cast kfunc (kernel < 6.2)");
		return 0;
	}
	return 1;
}

static int dw_attach_all(struct bpf_object *obj, struct bpf_link ***links, int *nlinks)
{
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		struct bpf_link *l = bpf_program__attach(prog);
		if (!l)
			return -errno;
		struct bpf_link **nl = realloc(*links, sizeof(*nl) * (*nlinks + 1));
		if (!nl) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		*links = nl;
		nl[(*nlinks)++] = l;
	}
	return 0;
}

static const char *dw_probe_one(int fentry)
{
	struct probe_bpf *p = probe_bpf__open();
	if (!p)
		return strerror(errno);
	bpf_program__set_autoload(p->progs.dw_probe_fentry, fentry);
	bpf_program__set_autoload(p->progs.dw_probe_lsm, !fentry);
	int err = probe_bpf__load(p);
	probe_bpf__destroy(p);
	if (err == 0)
		return "available (unused)";
	static __thread char buf[2][64];
	snprintf(buf[fentry], sizeof(buf[0]), "unavailable (%s)", err == -EPERM ? "EPERM" : strerror(-err));
	return buf[fentry];
}

#define SET_RODATA(skel, ctx)                                                                                          \
	do {                                                                                                           \
		(skel)->rodata->dw_self_tgid = (ctx)->cfg.self_tgid;                                                   \
		(skel)->rodata->dw_wakeup_bytes = (ctx)->cfg.wakeup_bytes;                                             \
		(skel)->rodata->dw_suppress_on = ((ctx)->cfg.flags & DW_CFG_SUPPRESS) ? 1 : 0;                         \
		(skel)->rodata->dw_table_seed = (ctx)->table_seed;                                                     \
		(skel)->rodata->dw_supp_mask = (ctx)->supp_buckets - 1;                                                \
	} while (0)

#define REUSE(dst, src, name)                                                                                          \
	do {                                                                                                           \
		int _e = bpf_map__reuse_fd((dst)->maps.name, bpf_map__fd((src)->maps.name));                         \
		if (_e)                                                                                                \
			return _e;                                                                                     \
	} while (0)

static int dw_reuse_file(struct file_bpf *f, struct exec_bpf *e)
{
	REUSE(f, e, dw_events);
	REUSE(f, e, dw_stats);
	REUSE(f, e, dw_seq);
	REUSE(f, e, dw_supp);
	REUSE(f, e, dw_stash_map);
	REUSE(f, e, dw_host_cg);
	REUSE(f, e, dw_heap_map);
	return 0;
}

static int dw_reuse_net(struct net_bpf *n, struct exec_bpf *e)
{
	REUSE(n, e, dw_events);
	REUSE(n, e, dw_stats);
	REUSE(n, e, dw_seq);
	REUSE(n, e, dw_supp);
	REUSE(n, e, dw_stash_map);
	REUSE(n, e, dw_host_cg);
	REUSE(n, e, dw_heap_map);
	return 0;
}

static void dw_links_truncate(struct dw_ctx *ctx, int n)
{
	while (ctx->nlinks > n)
		bpf_link__destroy(ctx->links[--ctx->nlinks]);
}

static void dw_bpf_unavailable(struct dw_ctx *ctx, const char *what, int err)
{
	ctx->bpf_state = DW_STATE_UNAVAILABLE;
	dw_detail(ctx->bpf_detail, "%s: %s%s%s", what, strerror(err < 0 ? -err : err), dw_libbpf_last[0] ? "; libbpf: " : "",
		  dw_libbpf_last);
}

static void dw_bpf_stop(struct dw_ctx *ctx);

/* Loads and attaches exec, file and net programs of one argument-capturing set. Returns 0, 1
 * when file or net programs failed (reasons in failed), -1 when exec failed (state set). */
static int dw_bpf_load(struct dw_ctx *ctx, int fast, const char *tracefs, char *missing, size_t missing_cap, char *failed,
		       size_t failed_cap)
{
	int err;

	ctx->exec = exec_bpf__open();
	if (!ctx->exec) {
		dw_bpf_unavailable(ctx, "opening exec programs", errno);
		return -1;
	}
	SET_RODATA(ctx->exec, ctx);
	bpf_map__set_max_entries(ctx->exec->maps.dw_events, ctx->cfg.ring_bytes);
	bpf_map__set_max_entries(ctx->exec->maps.dw_supp, ctx->supp_buckets);
	dw_select_programs(ctx->exec->obj, fast);
	dw_skip_missing_tracepoints(ctx->exec->obj, tracefs, missing, missing_cap);
	err = exec_bpf__load(ctx->exec);
	if (!err)
		err = dw_attach_all(ctx->exec->obj, &ctx->links, &ctx->nlinks);
	if (err) {
		dw_bpf_unavailable(ctx, "loading exec programs", err);
		return -1;
	}

	int mark = ctx->nlinks;
	ctx->file = file_bpf__open();
	err = ctx->file ? 0 : -errno;
	if (!err) {
		SET_RODATA(ctx->file, ctx);
		err = dw_reuse_file(ctx->file, ctx->exec);
	}
	if (!err) {
		dw_select_programs(ctx->file->obj, fast);
		dw_skip_missing_tracepoints(ctx->file->obj, tracefs, missing, missing_cap);
		err = file_bpf__load(ctx->file);
	}
	if (!err)
		err = dw_attach_all(ctx->file->obj, &ctx->links, &ctx->nlinks);
	if (err) {
		snprintf(failed + strlen(failed), failed_cap - strlen(failed), "file programs failed (%s: %s); ",
			 strerror(-err), dw_libbpf_last);
		dw_links_truncate(ctx, mark);
		file_bpf__destroy(ctx->file);
		ctx->file = NULL;
	}

	mark = ctx->nlinks;
	ctx->net = net_bpf__open();
	err = ctx->net ? 0 : -errno;
	if (!err) {
		SET_RODATA(ctx->net, ctx);
		err = dw_reuse_net(ctx->net, ctx->exec);
	}
	if (!err) {
		dw_select_programs(ctx->net->obj, fast);
		dw_skip_missing_tracepoints(ctx->net->obj, tracefs, missing, missing_cap);
		err = net_bpf__load(ctx->net);
	}
	if (!err)
		err = dw_attach_all(ctx->net->obj, &ctx->links, &ctx->nlinks);
	if (err) {
		snprintf(failed + strlen(failed), failed_cap - strlen(failed), "net programs failed (%s: %s); ",
			 strerror(-err), dw_libbpf_last);
		dw_links_truncate(ctx, mark);
		net_bpf__destroy(ctx->net);
		ctx->net = NULL;
	}

	return failed[0] ? 1 : 0;
}

static void dw_bpf_start(struct dw_ctx *ctx)
{
	dw_libbpf_last[0] = 0;
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		ctx->bpf_state = DW_STATE_UNAVAILABLE;
		dw_detail(ctx->bpf_detail, "kernel BTF unavailable (/sys/kernel/btf/vmlinux: %s): CO-RE programs cannot load",
			  strerror(errno));
		return;
	}
	/* privilege: a one-entry array map is the cheapest bpf() call that needs it */
	int pfd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "dw_probe", 4, 4, 1, NULL);
	if (pfd < 0) {
		int err = errno;
		ctx->bpf_state = DW_STATE_UNAVAILABLE;
		dw_detail(ctx->bpf_detail,
			  "bpf() not permitted (%s, uid %d): needs root or CAP_BPF+CAP_PERFMON+CAP_SYS_RESOURCE; "
			  "the agent runs on /proc alone",
			  err == EPERM ? "EPERM" : strerror(err), (int)geteuid());
		return;
	}
	close(pfd);
	const char *tracefs = dw_tracefs();
	if (!tracefs) {
		ctx->bpf_state = DW_STATE_UNAVAILABLE;
		dw_detail(ctx->bpf_detail, "tracefs is not mounted (/sys/kernel/tracing): run './driftwatch setup' "
					   "or 'mount -t tracefs tracefs /sys/kernel/tracing'");
		return;
	}
	char fentry[64], lsm[64];
	snprintf(fentry, sizeof(fentry), "%s", dw_probe_one(1));
	snprintf(lsm, sizeof(lsm), "%s", dw_probe_one(0));
	dw_libbpf_last[0] = 0;

	char missing[256] = "", failed[256] = "", why[160] = "";
	int err;
	int fast = (ctx->cfg.flags & DW_CFG_COMPAT_ARGS) ? 0 : dw_fast_args_available(why, sizeof(why));
	if (!fast && !why[0])
		snprintf(why, sizeof(why), "compat requested");
	int r = dw_bpf_load(ctx, fast, tracefs, missing, sizeof(missing), failed, sizeof(failed));
	if (fast && r != 0) {
		/* a kernel that passed the probe but rejects a fast program: the compat set */
		snprintf(why, sizeof(why), "fast programs failed: %.120s", r < 0 ? ctx->bpf_detail : failed);
		dw_bpf_stop(ctx);
		missing[0] = failed[0] = 0;
		dw_libbpf_last[0] = 0;
		fast = 0;
		r = dw_bpf_load(ctx, fast, tracefs, missing, sizeof(missing), failed, sizeof(failed));
	}
	if (r < 0)
		return;

	ctx->stats_fd = bpf_map__fd(ctx->exec->maps.dw_stats);
	ctx->exec_enforce_fd = bpf_map__fd(ctx->exec->maps.dw_exec_enforce);
	ctx->exec_allow_fd = bpf_map__fd(ctx->exec->maps.dw_exec_allow);
	err = dw_tables_map(ctx, bpf_map__fd(ctx->exec->maps.dw_supp), bpf_map__fd(ctx->exec->maps.dw_host_cg));
	if (err) {
		dw_bpf_unavailable(ctx, "mapping the suppression and host tables", err);
		return;
	}
	err = dw_ring_init(&ctx->ring, bpf_map__fd(ctx->exec->maps.dw_events));
	if (err) {
		dw_bpf_unavailable(ctx, "mapping the ring buffer", err);
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1};
	epoll_ctl(ctx->poll_epfd, EPOLL_CTL_ADD, ctx->ring.map_fd, &ev);

	ctx->bpf_state = failed[0] ? DW_STATE_DEGRADED : DW_STATE_RUNNING;
	dw_detail(ctx->bpf_detail,
		  "%stracepoints+tp_btf: exec exit fork%s%s; syscall arguments %s%s%s; ring %u KiB, wake-up at %u KiB; "
		  "suppression %s; fentry %s; lsm %s%s%s",
		  failed, ctx->file ? " open" : "", ctx->net ? " connect bind listen accept" : "",
		  fast ? "read at sys_exit (fast)" : "saved at sys_enter (compat: ", fast ? "" : why, fast ? "" : ")",
		  ctx->cfg.ring_bytes >> 10,
		  ctx->cfg.wakeup_bytes >> 10, (ctx->cfg.flags & DW_CFG_SUPPRESS) ? "on" : "off", fentry, lsm,
		  missing[0] ? "; tracepoints missing: " : "", missing);
}

static void dw_bpf_stop(struct dw_ctx *ctx)
{
	dw_enforce_stop(ctx); /* guards reuse the exec object's maps */
	ctx->exec_enforce_fd = ctx->exec_allow_fd = -1;
	for (int i = 0; i < ctx->nlinks; i++)
		bpf_link__destroy(ctx->links[i]);
	free(ctx->links);
	ctx->links = NULL;
	ctx->nlinks = 0;
	dw_ring_free(&ctx->ring);
	dw_tables_unmap(ctx);
	if (ctx->net)
		net_bpf__destroy(ctx->net);
	if (ctx->file)
		file_bpf__destroy(ctx->file);
	if (ctx->exec)
		exec_bpf__destroy(ctx->exec);
	ctx->net = NULL;
	ctx->file = NULL;
	ctx->exec = NULL;
}

static int dw_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* buckets of the suppression table for about `entries` keys: a power of two, at least 64 */
static __u32 dw_supp_buckets(__u32 entries)
{
	__u32 b = 64;
	while (b < (1u << 24) && (__u64)b * DW_SUPP_WAYS < entries)
		b <<= 1;
	return b;
}

/* a seed the table hashes depend on, so that keys cannot be chosen to share a bucket */
static void dw_table_seed(__u64 *seed)
{
	if (getrandom(seed, sizeof(*seed), GRND_NONBLOCK) == sizeof(*seed))
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	*seed = ((__u64)ts.tv_nsec ^ (__u64)ts.tv_sec << 32 ^ (__u64)getpid() << 16 ^ (__u64)(uintptr_t)seed) * DW_HASH_M2;
}

int dw_open(const struct dw_config *cfg, struct dw_ctx **out)
{
	if (!cfg || !out)
		return -EINVAL;
	*out = NULL;
	if (cfg->abi_version != DW_ABI_VERSION)
		return -EPROTO;
	struct dw_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->cfg = *cfg;
	struct dw_config *c = &ctx->cfg;
	if (!c->ring_bytes)
		c->ring_bytes = 16u << 20;
	if (!c->wakeup_bytes)
		c->wakeup_bytes = c->ring_bytes / 8;
	if (!c->suppress_entries)
		c->suppress_entries = 65536;
	if (!c->fan_queue_bytes)
		c->fan_queue_bytes = 4u << 20;
	if (!c->poll_tick_ms)
		c->poll_tick_ms = 10;
	if (!dw_pow2(c->ring_bytes) || c->ring_bytes < 4096 || c->fan_queue_bytes < DW_MAX_RECORD) {
		free(ctx);
		return -EINVAL;
	}
	ctx->stats_fd = -1;
	ctx->supp_buckets = dw_supp_buckets(c->suppress_entries);
	dw_table_seed(&ctx->table_seed);
	pthread_mutex_init(&ctx->table_lock, NULL);
	ctx->fan_epfd = ctx->fan_stop_fd = ctx->fan_ready_fd = -1;
	ctx->ring.map_fd = -1;
	pthread_mutex_init(&ctx->fan_lock, NULL);
	dw_enforce_init(ctx);
	pthread_mutex_init(&ctx->q_lock, NULL);
	ctx->poll_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctx->poll_epfd < 0) {
		int err = -errno;
		free(ctx);
		return err;
	}
	libbpf_set_print(dw_libbpf_print);

	if (c->flags & DW_CFG_BPF) {
		dw_bpf_start(ctx);
		if (ctx->bpf_state == DW_STATE_UNAVAILABLE)
			dw_bpf_stop(ctx);
	} else {
		ctx->bpf_state = DW_STATE_DISABLED;
		dw_detail(ctx->bpf_detail, "disabled by configuration (sources.bpf: off)");
	}
	if (c->flags & DW_CFG_FANOTIFY) {
		dw_fan_start(ctx);
	} else {
		ctx->fan_state = DW_STATE_DISABLED;
		dw_detail(ctx->fan_detail, "disabled by configuration (sources.fanotify: off)");
	}
	*out = ctx;
	return 0;
}

int dw_source_status(struct dw_ctx *ctx, __u32 source, char *detail, __u32 cap)
{
	if (!ctx)
		return -EINVAL;
	const char *d;
	int state;
	if (source == DW_POLL_BPF) {
		d = ctx->bpf_detail;
		state = ctx->bpf_state;
	} else if (source == DW_POLL_FANOTIFY) {
		pthread_mutex_lock(&ctx->fan_lock);
		d = ctx->fan_detail;
		state = ctx->fan_state;
		pthread_mutex_unlock(&ctx->fan_lock);
		if (detail && cap > 0 && (state == DW_STATE_RUNNING || state == DW_STATE_DEGRADED)) {
			snprintf(detail, cap, "%s; %d watches", d, atomic_load(&ctx->fan_watches));
			return state;
		}
	} else {
		return -EINVAL;
	}
	if (detail && cap > 0)
		snprintf(detail, cap, "%s", d);
	return state;
}

static int64_t dw_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dw_poll(struct dw_ctx *ctx, void *buf, __u32 cap, int timeout_ms, __u32 sources)
{
	if (!ctx || !buf)
		return -EINVAL;
	if (cap < DW_MAX_RECORD)
		return -EINVAL;
	int64_t deadline = dw_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int bpf = (sources & DW_POLL_BPF) && ctx->ring.prod_area;
	int fan = (sources & DW_POLL_FANOTIFY) && ctx->q;
	for (;;) {
		size_t n = 0;
		if (fan)
			n += dw_fan_drain(ctx, (uint8_t *)buf, cap);
		if (bpf)
			n += dw_ring_consume(&ctx->ring, (uint8_t *)buf + n, cap - n);
		if (n > 0)
			return (int)n;
		int64_t left = deadline - dw_now_ms();
		if (left <= 0)
			return 0;
		if (!bpf && !fan) {
			/* nothing to poll: sleep out the timeout, bounded */
			struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
			nanosleep(&ts, NULL);
			return 0;
		}
		/* wake-ups are batched in the kernel: never sleep longer than one tick */
		int wait = left < (int64_t)ctx->cfg.poll_tick_ms ? (int)left : (int)ctx->cfg.poll_tick_ms;
		struct epoll_event evs[4];
		int r = epoll_wait(ctx->poll_epfd, evs, 4, wait);
		for (int i = 0; i < r; i++) {
			if (evs[i].data.u32 == 2) {
				uint64_t v;
				if (read(ctx->fan_ready_fd, &v, sizeof(v)) < 0) { /* EAGAIN: already drained */
				}
			}
		}
	}
}

int dw_stats(struct dw_ctx *ctx, __u64 *out, __u32 n)
{
	if (!ctx || !out)
		return -EINVAL;
	__u64 s[DW_STAT_COUNT];
	memset(s, 0, sizeof(s));
	if (ctx->stats_fd >= 0 && ctx->ring.ncpu > 0) {
		__u64 *per = calloc(ctx->ring.ncpu, sizeof(__u64));
		if (!per)
			return -ENOMEM;
		for (__u32 k = 0; k < DW_BPF_STAT_COUNT; k++) {
			if (bpf_map_lookup_elem(ctx->stats_fd, &k, per))
				continue;
			__u64 sum = 0;
			for (__u32 c = 0; c < ctx->ring.ncpu; c++)
				sum += per[c];
			switch (k) {
			case DW_BPF_STAT_EMITTED: s[DW_STAT_BPF_EMITTED] = sum; break;
			case DW_BPF_STAT_RING_FULL: s[DW_STAT_RING_FULL] = sum; break;
			case DW_BPF_STAT_PATH_UNREADABLE: s[DW_STAT_PATH_UNREADABLE] = sum; break;
			case DW_BPF_STAT_SUPPRESSED: s[DW_STAT_SUPPRESSED] = sum; break;
			case DW_BPF_STAT_NO_ENTER: s[DW_STAT_NO_ENTER] = sum; break;
			case DW_BPF_STAT_NET_DENIED: s[DW_STAT_NET_DENIED] = sum; break;
			case DW_BPF_STAT_EXEC_KILLED: s[DW_STAT_EXEC_KILLED] = sum; break;
			case DW_BPF_STAT_HOST_DROPPED: s[DW_STAT_HOST_DROPPED] = sum; break;
			}
		}
		free(per);
	}
	s[DW_STAT_BPF_DELIVERED] = ctx->ring.delivered;
	s[DW_STAT_SEQ_GAPS] = ctx->ring.seq_gaps > 0 ? (__u64)ctx->ring.seq_gaps : 0;
	s[DW_STAT_BAD_RECORDS] = ctx->ring.bad;
	s[DW_STAT_FAN_EVENTS] = atomic_load(&ctx->fan_events);
	s[DW_STAT_FAN_DENIED] = atomic_load(&ctx->fan_denied);
	s[DW_STAT_FAN_OVERFLOW] = atomic_load(&ctx->fan_overflow);
	s[DW_STAT_FAN_QUEUE_FULL] = atomic_load(&ctx->fan_queue_full);
	s[DW_STAT_FAN_ERRORS] = atomic_load(&ctx->fan_errors);
	s[DW_STAT_FAN_DELIVERED] = atomic_load(&ctx->fan_delivered);
	s[DW_STAT_FAN_WATCHES] = atomic_load(&ctx->fan_watches);
	s[DW_STAT_FAN_NOT_ALLOWED] = atomic_load(&ctx->fan_not_allowed);
	s[DW_STAT_NET_GUARDS] = atomic_load(&ctx->nguards);
	__u32 m = n < DW_STAT_COUNT ? n : DW_STAT_COUNT;
	memcpy(out, s, m * sizeof(__u64));
	return DW_STAT_COUNT;
}

void dw_close(struct dw_ctx *ctx)
{
	if (!ctx)
		return;
	dw_fan_stop(ctx);
	dw_bpf_stop(ctx);
	if (ctx->poll_epfd >= 0)
		close(ctx->poll_epfd);
	pthread_mutex_destroy(&ctx->fan_lock);
	pthread_mutex_destroy(&ctx->q_lock);
	pthread_mutex_destroy(&ctx->enf_lock);
	pthread_mutex_destroy(&ctx->table_lock);
	free(ctx);
}
