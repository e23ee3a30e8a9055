/* SPDX-License-Identifier: Apache-2.0 */
/* Internal state of libdriftwatch.so, shared by dw_bridge.c, dw_ringbuf.c and dw_fanotify.c. */
#ifndef DW_INTERNAL_H
#define DW_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "dw_bridge.h"

#define DW_DETAIL_LEN 512

struct exec_bpf;
struct file_bpf;
struct net_bpf;
struct netguard_bpf;
struct bpf_link;

/* Consumer of the eBPF ring buffer, reading the mmapped ring directly (libbpf 1.1 has no
 * bounded consume): a record is copied to the caller and the consumer position advanced only
 * when it fits, so nothing is lost when the caller's buffer is full. */
struct dw_ring {
	int map_fd;
	size_t size;                 /* data area, power of two */
	size_t page;
	void *cons_page;             /* read-write: consumer position */
	void *prod_area;             /* read-only: producer position page + data mapped twice */
	uint32_t ncpu;
	uint32_t *expect_seq;        /* next sequence number per CPU */
	int64_t seq_gaps;
	uint64_t delivered, bad;
};

struct dw_decision {
	uint64_t dev, ino;
	uint32_t mask;
};

struct dw_watch {
	int active;
	int fd;
	int pid;
	uint32_t flags;
	uint64_t cgroup_id, cgroup_v1_id;
	int ndecisions;
	struct dw_decision decisions[DW_FAN_MAX_DECISIONS];
	/* exec allow table (DW_FAN_ALLOWLIST_EXEC): open addressing, linear probing; a slot with
	 * ino 0 is free (no file has inode 0). Allocated on first use. */
	uint64_t (*allowed)[2];
	int nallowed;
	int mounts_marked;           /* extra mounts marked for exec events (allow-list mode) */
};
#define DW_FAN_ALLOW_SLOTS (2 * DW_FAN_MAX_ALLOWED) /* power of two, load <= 1/2 */

/* one network guard: an instance of netguard.bpf.o attached to one cgroup v2 directory */
struct dw_guard_slot {
	int active;
	uint64_t id;                 /* inode of the cgroup directory */
	int cg_fd;
	struct netguard_bpf *skel;
	struct bpf_link *links[6];
	int nlinks;
};

struct dw_ctx {
	struct dw_config cfg;

	/* eBPF */
	int bpf_state;
	char bpf_detail[DW_DETAIL_LEN];
	struct exec_bpf *exec;
	struct file_bpf *file;
	struct net_bpf *net;
	struct bpf_link **links;
	int nlinks;
	int stats_fd;
	/* dw_supp and dw_host_cg, mapped (dw_tables.c); NULL without eBPF */
	pthread_mutex_t table_lock;  /* writers of both tables; the programs read without it */
	struct dw_supp_bucket *supp;
	struct dw_host_bucket *host;
	__u32 supp_buckets;          /* a power of two */
	__u32 supp_victim, host_victim;
	__u64 table_seed;
	struct dw_ring ring;
	int poll_epfd;               /* ring map fd + fanotify eventfd */

	/* fanotify */
	int fan_state;
	char fan_detail[DW_DETAIL_LEN];
	pthread_mutex_t fan_lock;    /* watches and decisions; held briefly, never across I/O */
	struct dw_watch *watches;    /* DW_FAN_MAX_WATCHES slots */
	int fan_epfd;
	int fan_stop_fd;             /* eventfd: stops the listener thread */
	int fan_ready_fd;            /* eventfd: records queued for dw_poll */
	pthread_t fan_thread;
	int fan_thread_started;
	pthread_mutex_t q_lock;      /* the fanotify record queue */
	uint8_t *q;
	size_t q_cap, q_len;
	uint32_t fan_seq;
	_Atomic uint64_t fan_events, fan_denied, fan_overflow, fan_queue_full, fan_errors, fan_delivered;
	_Atomic uint64_t fan_not_allowed;
	_Atomic int fan_watches;

	/* enforcement (dw_enforce.c) */
	pthread_mutex_t enf_lock;    /* guards; held across loading and attaching a guard */
	struct dw_guard_slot *guards; /* DW_NET_MAX_GUARDS slots, allocated on first use */
	int guard_map_fd, connect_map_fd, bind_map_fd; /* shared by all guard instances; -1 until the first */
	_Atomic int nguards;
	int exec_enforce_fd, exec_allow_fd; /* maps of exec.bpf.c; -1 without eBPF */
};

/* dw_ringbuf.c */
int dw_ring_init(struct dw_ring *r, int map_fd);
void dw_ring_free(struct dw_ring *r);
/* copies whole records into buf[cap]; returns bytes */
size_t dw_ring_consume(struct dw_ring *r, uint8_t *buf, size_t cap);

/* dw_fanotify.c */
int dw_fan_start(struct dw_ctx *ctx);
void dw_fan_stop(struct dw_ctx *ctx);
size_t dw_fan_drain(struct dw_ctx *ctx, uint8_t *buf, size_t cap);

/* dw_tables.c */
int dw_tables_map(struct dw_ctx *ctx, int supp_fd, int host_fd);
void dw_tables_unmap(struct dw_ctx *ctx);

/* dw_enforce.c */
void dw_enforce_init(struct dw_ctx *ctx);
void dw_enforce_stop(struct dw_ctx *ctx);

void dw_detail(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* DW_INTERNAL_H */
