/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dw_enforce.c - the kernel-side prevention primitives of enforce mode that live in eBPF:
 *
 * - network guards (dw_net_*): one instance of netguard.bpf.o per guarded cgroup, its six
 *   cgroup/sock_addr programs attached with bpf_link (BPF_LINK_CREATE on the cgroup directory's
 *   fd). A link-based cgroup attachment always runs alongside other programs on the cgroup
 *   (BPF_F_ALLOW_MULTI semantics), and is detached when its last fd is closed: on
 *   dw_net_release, dw_close, or when the agent exits for any reason (the links are never
 *   pinned). The allow maps are shared by every instance, keyed by guard id.
 * - exec kill (dw_exec_*): entries in exec.bpf.c's dw_exec_enforce / dw_exec_allow maps.
 *
 * The fanotify exec allow-list is in dw_fanotify.c. Every function returns -errno on failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dw_internal.h"
#include "dw_enforce.h"
#include "exec.skel.h"
#include "netguard.skel.h"

#define DW_CGROUP2_MAGIC 0x63677270
#define DW_CGROUP_ROOT_ID 1

void dw_enforce_init(struct dw_ctx *ctx)
{
	pthread_mutex_init(&ctx->enf_lock, NULL);
	ctx->guard_map_fd = ctx->connect_map_fd = ctx->bind_map_fd = -1;
	ctx->exec_enforce_fd = ctx->exec_allow_fd = -1;
}

static void dw_guard_free(struct dw_guard_slot *g)
{
	for (int i = 0; i < g->nlinks; i++)
		bpf_link__destroy(g->links[i]);
	g->nlinks = 0;
	if (g->skel)
		netguard_bpf__destroy(g->skel);
	g->skel = NULL;
	if (g->cg_fd >= 0)
		close(g->cg_fd);
	g->cg_fd = -1;
	g->active = 0;
}

/* deletes every key of a hash or LPM map whose guard/cgroup field (at byte offset off) is id */
static int dw_map_purge(int fd, size_t key_size, size_t off, uint64_t id, size_t max)
{
	uint8_t *keys = malloc(key_size * (max + 1));
	uint8_t cur[64], next[64];
	if (!keys || key_size > sizeof(cur)) {
		free(keys);
		return -ENOMEM;
	}
	size_t n = 0;
	void *prev = NULL;
	for (size_t steps = 0; steps <= 2 * max && bpf_map_get_next_key(fd, prev, next) == 0; steps++) {
		uint64_t k;
		memcpy(&k, next + off, sizeof(k));
		if (k == id && n <= max)
			memcpy(keys + key_size * n++, next, key_size);
		memcpy(cur, next, key_size);
		prev = cur;
	}
	int removed = 0;
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + key_size * i) == 0)
			removed++;
	free(keys);
	return removed;
}

void dw_enforce_stop(struct dw_ctx *ctx)
{
	pthread_mutex_lock(&ctx->enf_lock);
	if (ctx->guards) {
		for (int i = 0; i < DW_NET_MAX_GUARDS; i++)
			if (ctx->guards[i].active)
				dw_guard_free(&ctx->guards[i]);
		free(ctx->guards);
		ctx->guards = NULL;
	}
	atomic_store(&ctx->nguards, 0);
	int *fds[] = {&ctx->guard_map_fd, &ctx->connect_map_fd, &ctx->bind_map_fd};
	for (int i = 0; i < 3; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	pthread_mutex_unlock(&ctx->enf_lock);
}

#define REUSE_FD(skel, name, fd)                                                                                       \
	do {                                                                                                           \
		int _e = bpf_map__reuse_fd((skel)->maps.name, (fd));                                                 \
		if (_e)                                                                                                \
			return _e;                                                                                     \
	} while (0)

/* makes the guard instance share the exec object's ring/counters/sequence and the allow maps */
static int dw_guard_reuse(struct dw_ctx *ctx, struct netguard_bpf *g)
{
	struct exec_bpf *e = ctx->exec;
	REUSE_FD(g, dw_events, bpf_map__fd(e->maps.dw_events));
	REUSE_FD(g, dw_stats, bpf_map__fd(e->maps.dw_stats));
	REUSE_FD(g, dw_seq, bpf_map__fd(e->maps.dw_seq));
	REUSE_FD(g, dw_supp, bpf_map__fd(e->maps.dw_supp));
	REUSE_FD(g, dw_host_cg, bpf_map__fd(e->maps.dw_host_cg));
	REUSE_FD(g, dw_stash_map, bpf_map__fd(e->maps.dw_stash_map));
	REUSE_FD(g, dw_heap_map, bpf_map__fd(e->maps.dw_heap_map));
	if (ctx->guard_map_fd >= 0) {
		REUSE_FD(g, dw_guard, ctx->guard_map_fd);
		REUSE_FD(g, dw_connect_allow, ctx->connect_map_fd);
		REUSE_FD(g, dw_bind_allow, ctx->bind_map_fd);
	}
	return 0;
}

static struct dw_guard_slot *dw_guard_get(struct dw_ctx *ctx, int handle)
{
	if (!ctx->guards || handle < 0 || handle >= DW_NET_MAX_GUARDS || !ctx->guards[handle].active)
		return NULL;
	return &ctx->guards[handle];
}

static int dw_guard_set_policy(struct dw_ctx *ctx, uint64_t id, uint32_t flags, int create)
{
	struct dw_guard_policy pol;
	if (!create && bpf_map_lookup_elem(ctx->guard_map_fd, &id, &pol) == 0) {
		pol.flags = flags; /* counters kept (a racing increment may be lost: counters, not state) */
	} else {
		memset(&pol, 0, sizeof(pol));
		pol.flags = flags;
	}
	return bpf_map_update_elem(ctx->guard_map_fd, &id, &pol, BPF_ANY) ? -errno : 0;
}

int dw_net_enforce(struct dw_ctx *ctx, const char *cgroup_path, __u32 flags)
{
	if (!ctx || !cgroup_path || (flags & ~(DW_NET_ALL | DW_NET_ALLOW_LOOPBACK)))
		return -EINVAL;
	if (!ctx->exec)
		return -ENODEV;
	int cg = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return -errno;
	struct statfs sfs;
	struct stat st;
	if (fstatfs(cg, &sfs) != 0 || fstat(cg, &st) != 0 || (uint32_t)sfs.f_type != DW_CGROUP2_MAGIC ||
	    st.st_ino == DW_CGROUP_ROOT_ID) {
		close(cg);
		return -EINVAL; /* not a cgroup2 directory, or the root: it would guard the whole host */
	}
	uint64_t id = st.st_ino;

	pthread_mutex_lock(&ctx->enf_lock);
	int rc = 0, slot = -1;
	if (!ctx->guards) {
		ctx->guards = calloc(DW_NET_MAX_GUARDS, sizeof(*ctx->guards));
		if (!ctx->guards) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (int i = 0; i < DW_NET_MAX_GUARDS; i++) {
		if (ctx->guards[i].active && ctx->guards[i].id == id) {
			rc = -EEXIST;
			goto out;
		}
		if (!ctx->guards[i].active && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		rc = -ENOSPC;
		goto out;
	}
	struct dw_guard_slot *g = &ctx->guards[slot];
	memset(g, 0, sizeof(*g));
	g->cg_fd = cg;
	g->id = id;
	cg = -1;
	g->skel = netguard_bpf__open();
	if (!g->skel) {
		rc = -errno;
		goto fail;
	}
	g->skel->rodata->dw_guard_id = id;
	g->skel->rodata->dw_wakeup_bytes = ctx->cfg.wakeup_bytes;
	g->skel->rodata->dw_self_tgid = ctx->cfg.self_tgid;
	rc = dw_guard_reuse(ctx, g->skel);
	if (!rc)
		rc = netguard_bpf__load(g->skel);
	if (rc)
		goto fail;
	if (ctx->guard_map_fd < 0) {
		ctx->guard_map_fd = dup(bpf_map__fd(g->skel->maps.dw_guard));
		ctx->connect_map_fd = dup(bpf_map__fd(g->skel->maps.dw_connect_allow));
		ctx->bind_map_fd = dup(bpf_map__fd(g->skel->maps.dw_bind_allow));
		if (ctx->guard_map_fd < 0 || ctx->connect_map_fd < 0 || ctx->bind_map_fd < 0) {
			rc = -errno;
			goto fail;
		}
	}
	/* stale entries of an earlier guard of a cgroup with the same inode number */
	dw_map_purge(ctx->connect_map_fd, sizeof(struct dw_connect_key), offsetof(struct dw_connect_key, guard), id,
		     DW_CONNECT_ALLOW_MAX);
	dw_map_purge(ctx->bind_map_fd, sizeof(struct dw_bind_key), offsetof(struct dw_bind_key, guard), id,
		     DW_BIND_ALLOW_MAX);
	/* the policy goes in before the programs are attached: they fail open without one */
	rc = dw_guard_set_policy(ctx, id, flags, 1);
	if (rc)
		goto fail;
	struct bpf_program *progs[] = {g->skel->progs.dw_guard_connect4, g->skel->progs.dw_guard_connect6,
				       g->skel->progs.dw_guard_bind4,    g->skel->progs.dw_guard_bind6,
				       g->skel->progs.dw_guard_sendmsg4, g->skel->progs.dw_guard_sendmsg6};
	for (int i = 0; i < 6; i++) {
		struct bpf_link *l = bpf_program__attach_cgroup(progs[i], g->cg_fd);
		if (!l) {
			rc = -errno;
			goto fail;
		}
		g->links[g->nlinks++] = l;
	}
	g->active = 1;
	atomic_fetch_add(&ctx->nguards, 1);
	rc = slot;
	goto out;
fail:
	if (ctx->guard_map_fd >= 0)
		bpf_map_delete_elem(ctx->guard_map_fd, &id);
	dw_guard_free(g);
out:
	pthread_mutex_unlock(&ctx->enf_lock);
	if (cg >= 0)
		close(cg);
	return rc;
}

int dw_net_mode(struct dw_ctx *ctx, int handle, __u32 flags)
{
	if (!ctx || (flags & ~(DW_NET_ALL | DW_NET_ALLOW_LOOPBACK)))
		return -EINVAL;
	pthread_mutex_lock(&ctx->enf_lock);
	struct dw_guard_slot *g = dw_guard_get(ctx, handle);
	int rc = g ? dw_guard_set_policy(ctx, g->id, flags, 0) : -ENOENT;
	pthread_mutex_unlock(&ctx->enf_lock);
	return rc;
}

static int dw_proto_ok(uint32_t proto)
{
	return proto == 0 || proto == DW_PROTO_TCP || proto == DW_PROTO_UDP;
}

/* Adds key (whose guard field is *guard, filled in here) to an allow map of the guard handle. */
static int dw_guard_allow(struct dw_ctx *ctx, int handle, int map_fd, void *key, __u64 *guard)
{
	uint8_t one = 1;
	pthread_mutex_lock(&ctx->enf_lock);
	struct dw_guard_slot *g = dw_guard_get(ctx, handle);
	int rc = -ENOENT;
	if (g) {
		*guard = g->id;
		rc = bpf_map_update_elem(map_fd, key, &one, BPF_ANY) ? -errno : 0;
		if (rc == -E2BIG)
			rc = -ENOSPC;
	}
	pthread_mutex_unlock(&ctx->enf_lock);
	return rc;
}

int dw_net_allow_connect(struct dw_ctx *ctx, int handle, __u32 family, const __u8 *addr, __u32 prefix_len,
			 __u32 port, __u32 proto)
{
	if (!ctx || !addr || port > 65535 || !dw_proto_ok(proto))
		return -EINVAL;
	uint32_t bits = family == 2 ? 32 : family == 10 ? 128 : 0;
	if (!bits || prefix_len > bits)
		return -EINVAL;
	struct dw_connect_key k;
	memset(&k, 0, sizeof(k));
	k.prefixlen = DW_CONNECT_FIXED_BITS + prefix_len;
	k.proto = (uint8_t)proto;
	k.family = (uint8_t)family;
	k.port = (uint16_t)port;
	uint8_t a[DW_ADDR_LEN] = {0};
	memcpy(a, addr, bits / 8);
	/* a v4-mapped IPv6 prefix is an IPv4 prefix (the programs look such peers up as IPv4) */
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (family == 10 && prefix_len >= 96 && memcmp(a, mapped, 12) == 0) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		k.family = 2;
		k.prefixlen -= 96;
		prefix_len -= 96;
	}
	for (uint32_t b = prefix_len; b < DW_ADDR_LEN * 8; b++) /* bits past the prefix are zero */
		a[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	memcpy(k.addr, a, DW_ADDR_LEN);
	return dw_guard_allow(ctx, handle, ctx->connect_map_fd, &k, &k.guard);
}

int dw_net_allow_bind(struct dw_ctx *ctx, int handle, __u32 port, __u32 proto)
{
	if (!ctx || port > 65535 || !dw_proto_ok(proto))
		return -EINVAL;
	struct dw_bind_key k;
	memset(&k, 0, sizeof(k));
	k.proto = (uint8_t)proto;
	k.port = (uint16_t)port;
	return dw_guard_allow(ctx, handle, ctx->bind_map_fd, &k, &k.guard);
}

int dw_net_denied(struct dw_ctx *ctx, int handle, __u64 *out, __u32 n)
{
	if (!ctx || !out)
		return -EINVAL;
	pthread_mutex_lock(&ctx->enf_lock);
	struct dw_guard_slot *g = dw_guard_get(ctx, handle);
	int rc = -ENOENT;
	struct dw_guard_policy pol;
	if (g)
		rc = bpf_map_lookup_elem(ctx->guard_map_fd, &g->id, &pol) ? -errno : 3;
	pthread_mutex_unlock(&ctx->enf_lock);
	if (rc == 3) {
		__u64 v[3] = {pol.connect_denied, pol.bind_denied, pol.sendmsg_denied};
		memcpy(out, v, (n < 3 ? n : 3) * sizeof(__u64));
	}
	return rc;
}

int dw_net_release(struct dw_ctx *ctx, int handle)
{
	if (!ctx)
		return -EINVAL;
	pthread_mutex_lock(&ctx->enf_lock);
	struct dw_guard_slot *g = dw_guard_get(ctx, handle);
	if (!g) {
		pthread_mutex_unlock(&ctx->enf_lock);
		return -ENOENT;
	}
	uint64_t id = g->id;
	dw_guard_free(g); /* links destroyed: the programs are detached from the cgroup now */
	bpf_map_delete_elem(ctx->guard_map_fd, &id);
	dw_map_purge(ctx->connect_map_fd, sizeof(struct dw_connect_key), offsetof(struct dw_connect_key, guard), id,
		     DW_CONNECT_ALLOW_MAX);
	dw_map_purge(ctx->bind_map_fd, sizeof(struct dw_bind_key), offsetof(struct dw_bind_key, guard), id,
		     DW_BIND_ALLOW_MAX);
	atomic_fetch_sub(&ctx->nguards, 1);
	pthread_mutex_unlock(&ctx->enf_lock);
	return 0;
}

/* ---- exec kill ------------------------------------------------------------------------------ */

int dw_exec_enforce(struct dw_ctx *ctx, __u64 cgroup_id, __u32 on)
{
	if (!ctx || cgroup_id == 0 || cgroup_id == DW_CGROUP_ROOT_ID)
		return -EINVAL; /* never the host's root cgroup */
	if (ctx->exec_enforce_fd < 0)
		return -ENODEV;
	pthread_mutex_lock(&ctx->enf_lock);
	struct dw_exec_policy pol;
	if (bpf_map_lookup_elem(ctx->exec_enforce_fd, &cgroup_id, &pol) != 0)
		memset(&pol, 0, sizeof(pol));
	pol.on = on ? 1 : 0;
	int rc = bpf_map_update_elem(ctx->exec_enforce_fd, &cgroup_id, &pol, BPF_ANY) ? -errno : 0;
	pthread_mutex_unlock(&ctx->enf_lock);
	return rc == -E2BIG ? -ENOSPC : rc;
}

int dw_exec_allow(struct dw_ctx *ctx, __u64 cgroup_id, __u64 dev, __u64 ino)
{
	if (!ctx || cgroup_id == 0 || ino == 0)
		return -EINVAL;
	if (ctx->exec_allow_fd < 0)
		return -ENODEV;
	struct dw_exec_allow_key k = {.cgroup_id = cgroup_id, .dev = dev, .ino = ino};
	uint8_t one = 1;
	int rc = bpf_map_update_elem(ctx->exec_allow_fd, &k, &one, BPF_ANY) ? -errno : 0;
	return rc == -E2BIG ? -ENOSPC : rc;
}

int dw_exec_clear(struct dw_ctx *ctx, __u64 cgroup_id)
{
	if (!ctx || cgroup_id == 0)
		return -EINVAL;
	if (ctx->exec_allow_fd < 0)
		return -ENODEV;
	pthread_mutex_lock(&ctx->enf_lock);
	/* the policy first: an empty allow set with kill on would kill every exec */
	bpf_map_delete_elem(ctx->exec_enforce_fd, &cgroup_id);
	int removed = dw_map_purge(ctx->exec_allow_fd, sizeof(struct dw_exec_allow_key),
				   offsetof(struct dw_exec_allow_key, cgroup_id), cgroup_id, DW_EXEC_ALLOW_MAX);
	pthread_mutex_unlock(&ctx->enf_lock);
	return removed;
}

int dw_exec_killed(struct dw_ctx *ctx, __u64 cgroup_id, __u64 *out)
{
	if (!ctx || !out)
		return -EINVAL;
	if (ctx->exec_enforce_fd < 0)
		return -ENODEV;
	struct dw_exec_policy pol;
	if (bpf_map_lookup_elem(ctx->exec_enforce_fd, &cgroup_id, &pol) != 0)
		return -ENOENT;
	*out = pol.killed;
	return 0;
}
