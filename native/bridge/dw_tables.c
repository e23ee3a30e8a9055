// SPDX-License-Identifier: Apache-2.0
/*
 * dw_tables.c - the suppression table (dw_supp) and the host-cgroup table (dw_host_cg).
 *
 * Both are BPF array maps the programs only read; the bridge maps them into its own memory and
 * writes them directly, under table_lock (a store, not a syscall, per added key). Their layout,
 * hashing and the way a way is published are in dw_event.h (struct dw_supp_bucket).
 *
 * A key goes into its bucket's first empty way; when all ways are taken, the next way of a
 * per-table rotation is overwritten. The record of an overwritten key reaches the agent again,
 * which adds it again: a full table costs events, never correctness.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "dw_internal.h"

static size_t dw_table_bytes(size_t value_size, uint32_t entries)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = value_size * entries;
	return (n + page - 1) / page * page;
}

static void *dw_table_map(int fd, size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

int dw_tables_map(struct dw_ctx *ctx, int supp_fd, int host_fd)
{
	size_t sb = dw_table_bytes(sizeof(struct dw_supp_bucket), ctx->supp_buckets);
	size_t hb = dw_table_bytes(sizeof(struct dw_host_bucket), DW_HOST_BUCKETS);
	struct dw_supp_bucket *supp = dw_table_map(supp_fd, sb);
	if (!supp)
		return -errno;
	struct dw_host_bucket *host = dw_table_map(host_fd, hb);
	if (!host) {
		int err = -errno;
		munmap(supp, sb);
		return err;
	}
	pthread_mutex_lock(&ctx->table_lock);
	ctx->supp = supp;
	ctx->host = host;
	pthread_mutex_unlock(&ctx->table_lock);
	return 0;
}

void dw_tables_unmap(struct dw_ctx *ctx)
{
	pthread_mutex_lock(&ctx->table_lock);
	if (ctx->supp)
		munmap(ctx->supp, dw_table_bytes(sizeof(struct dw_supp_bucket), ctx->supp_buckets));
	if (ctx->host)
		munmap(ctx->host, dw_table_bytes(sizeof(struct dw_host_bucket), DW_HOST_BUCKETS));
	ctx->supp = NULL;
	ctx->host = NULL;
	pthread_mutex_unlock(&ctx->table_lock);
}

/* the bodies below run under table_lock with the table mapped */

static int dw_supp_put(struct dw_ctx *ctx, const struct dw_supp_key *k)
{
	__u64 h = dw_supp_hash(k, ctx->table_seed);
	struct dw_supp_bucket *b = &ctx->supp[dw_supp_bucket_of(h, ctx->supp_buckets - 1)];
	int way = -1;
	for (int i = 0; i < DW_SUPP_WAYS; i++) {
		if (b->check[i] == h && dw_supp_key_eq(&b->key[i], k))
			return 0; /* already there */
		if (way < 0 && b->check[i] == 0)
			way = i;
	}
	if (way < 0)
		way = ctx->supp_victim++ % DW_SUPP_WAYS;
	/* unpublish, write, publish: see struct dw_supp_bucket */
	__atomic_store_n(&b->check[way], 0, __ATOMIC_RELEASE);
	b->key[way] = *k;
	__atomic_store_n(&b->check[way], h, __ATOMIC_RELEASE);
	return 0;
}

static int dw_supp_drop(struct dw_ctx *ctx, __u64 cgroup_id)
{
	int removed = 0;
	for (__u32 i = 0; i < ctx->supp_buckets; i++) {
		struct dw_supp_bucket *b = &ctx->supp[i];
		for (int w = 0; w < DW_SUPP_WAYS; w++) {
			if (b->check[w] != 0 && (cgroup_id == 0 || b->key[w].cgroup_id == cgroup_id)) {
				__atomic_store_n(&b->check[w], 0, __ATOMIC_RELEASE);
				removed++;
			}
		}
	}
	return removed;
}

static int dw_host_set(struct dw_ctx *ctx, __u64 key, __u32 add)
{
	struct dw_host_bucket *b = &ctx->host[dw_host_bucket_of(key, ctx->table_seed)];
	int way = -1;
	for (int i = 0; i < DW_HOST_WAYS; i++) {
		if (b->key[i] == key) {
			if (!add)
				__atomic_store_n(&b->key[i], 0, __ATOMIC_RELEASE);
			return 0;
		}
		if (way < 0 && b->key[i] == 0)
			way = i;
	}
	if (!add)
		return -ENOENT;
	if (way < 0)
		way = ctx->host_victim++ % DW_HOST_WAYS;
	__atomic_store_n(&b->key[way], key, __ATOMIC_RELEASE);
	return 0;
}

int dw_suppress_add(struct dw_ctx *ctx, __u64 cgroup_id, __u32 op, __u32 k0, __u64 k1, __u64 k2)
{
	if (!ctx || op == 0 || op > DW_OP_MAX)
		return -EINVAL;
	struct dw_supp_key k = {.cgroup_id = cgroup_id, .op = op, .k0 = k0, .k1 = k1, .k2 = k2};
	pthread_mutex_lock(&ctx->table_lock);
	int ret = ctx->supp ? dw_supp_put(ctx, &k) : -ENODEV;
	pthread_mutex_unlock(&ctx->table_lock);
	return ret;
}

int dw_suppress_clear(struct dw_ctx *ctx, __u64 cgroup_id)
{
	if (!ctx)
		return -EINVAL;
	pthread_mutex_lock(&ctx->table_lock);
	int ret = ctx->supp ? dw_supp_drop(ctx, cgroup_id) : -ENODEV;
	pthread_mutex_unlock(&ctx->table_lock);
	return ret;
}

int dw_host_cgroup(struct dw_ctx *ctx, __u64 key, __u32 add)
{
	if (!ctx || key == 0 || key == 1)
		return -EINVAL;
	pthread_mutex_lock(&ctx->table_lock);
	int ret = ctx->host ? dw_host_set(ctx, key, add) : -ENODEV;
	pthread_mutex_unlock(&ctx->table_lock);
	return ret;
}
