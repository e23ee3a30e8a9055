/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dw_ringbuf.c - a bounded consumer of the BPF ring buffer.
 *
 * libbpf's ring_buffer__poll/consume hand every available sample to a callback and advance the
 * consumer position before calling it, so a callback cannot say "batch full" without losing a
 * record (and libbpf 1.1 has no ring_buffer__consume_n). We map the ring ourselves, as libbpf
 * does: page 0 (read-write) holds the consumer position; from page 1 on (read-only) the producer
 * position and then the data area, mapped twice in a row so a record that wraps is contiguous.
 * Each sample has an 8-byte header {u32 len | BUSY | DISCARD bits, u32 page offset} and is
 * padded to 8 bytes. We copy a sample only when it fits the caller's buffer and advance the
 * consumer position past what we copied.
 *
 * Every record is checked (size, header, op) before it is handed on; bad ones are counted and
 * skipped. Per-CPU sequence numbers are checked here too: a gap means a record the programs
 * numbered but could not write (DW_BPF_STAT_RING_FULL counts the same losses from the kernel
 * side), so the two counts can be compared.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dw_internal.h"

#define RB_BUSY_BIT (1U << 31)
#define RB_DISCARD_BIT (1U << 30)
#define RB_HDR_SZ 8

int dw_ring_init(struct dw_ring *r, int map_fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	memset(r, 0, sizeof(*r));
	r->map_fd = map_fd;
	r->size = info.max_entries;
	r->page = sysconf(_SC_PAGESIZE);
	r->cons_page = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (r->cons_page == MAP_FAILED) {
		r->cons_page = NULL;
		return -errno;
	}
	r->prod_area = mmap(NULL, r->page + 2 * r->size, PROT_READ, MAP_SHARED, map_fd, r->page);
	if (r->prod_area == MAP_FAILED) {
		int err = -errno;
		r->prod_area = NULL;
		dw_ring_free(r);
		return err;
	}
	int n = libbpf_num_possible_cpus();
	r->ncpu = n > 0 ? n : 1;
	r->expect_seq = calloc(r->ncpu, sizeof(uint32_t));
	if (!r->expect_seq) {
		dw_ring_free(r);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < r->ncpu; i++)
		r->expect_seq[i] = 1;
	return 0;
}

void dw_ring_free(struct dw_ring *r)
{
	if (r->prod_area)
		munmap(r->prod_area, r->page + 2 * r->size);
	if (r->cons_page)
		munmap(r->cons_page, r->page);
	free(r->expect_seq);
	r->prod_area = r->cons_page = NULL;
	r->expect_seq = NULL;
}

static int dw_record_ok(const struct dw_hdr *h, uint32_t len)
{
	if (len < sizeof(struct dw_hdr) || (len & 7) || len > DW_MAX_RECORD || h->size != len)
		return 0;
	if (h->op == 0 || h->op > DW_OP_MAX || h->source != DW_SRC_BPF)
		return 0;
	switch (h->op) {
	case DW_OP_EXEC: {
		const struct dw_exec *e = (const void *)h;
		return len >= sizeof(*e) && (uint64_t)sizeof(*e) + e->filename_len + e->argv_len <= len;
	}
	case DW_OP_OPEN: {
		const struct dw_file *f = (const void *)h;
		return len >= sizeof(*f) && (uint64_t)sizeof(*f) + f->path_len <= len;
	}
	case DW_OP_EXIT:
		return len >= sizeof(struct dw_exit);
	case DW_OP_FORK:
		return len >= sizeof(struct dw_fork);
	default:
		return len >= sizeof(struct dw_net);
	}
}

static void dw_check_seq(struct dw_ring *r, const struct dw_hdr *h)
{
	if (h->cpu >= r->ncpu)
		return;
	uint32_t want = r->expect_seq[h->cpu];
	int32_t d = (int32_t)(h->seq - want);
	if (d >= 0) {
		r->seq_gaps += d;
		r->expect_seq[h->cpu] = h->seq + 1;
	} else {
		r->seq_gaps -= 1; /* a late record, counted as a gap before */
	}
}

size_t dw_ring_consume(struct dw_ring *r, uint8_t *buf, size_t cap)
{
	if (!r->prod_area)
		return 0;
	unsigned long *cons_pos_p = r->cons_page;
	unsigned long *prod_pos_p = r->prod_area;
	uint8_t *data = (uint8_t *)r->prod_area + r->page;
	unsigned long mask = r->size - 1;
	unsigned long cons = __atomic_load_n(cons_pos_p, __ATOMIC_ACQUIRE);
	size_t out = 0;

	for (;;) {
		unsigned long prod = __atomic_load_n(prod_pos_p, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		uint32_t *hdr = (uint32_t *)(data + (cons & mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (len & RB_BUSY_BIT)
			break; /* being written: next time */
		int discard = len & RB_DISCARD_BIT;
		len &= ~(RB_BUSY_BIT | RB_DISCARD_BIT);
		unsigned long step = (len + RB_HDR_SZ + 7) & ~7UL;
		if (!discard) {
			const struct dw_hdr *h = (const void *)(hdr + 2);
			if (!dw_record_ok(h, len)) {
				r->bad++;
			} else {
				if (out + len > cap)
					break; /* does not fit: stays in the ring */
				memcpy(buf + out, h, len);
				out += len;
				r->delivered++;
				dw_check_seq(r, h);
			}
		}
		cons += step;
		__atomic_store_n(cons_pos_p, cons, __ATOMIC_RELEASE);
	}
	return out;
}
