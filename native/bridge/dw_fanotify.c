/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dw_fanotify.c - per-container fanotify watches, answered by one C thread, and their records.
 *
 * A watch is one fanotify group with a FAN_MARK_MOUNT mark on /proc/<pid>/root/: the
 * container's root mount, so it sees exactly that container's opens and execs and none of the
 * host's (the host reaches the same files through another mount). With DW_FAN_PERM the group is
 * FAN_CLASS_CONTENT with FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM; otherwise FAN_CLASS_NOTIF with
 * FAN_OPEN | FAN_OPEN_EXEC.
 *
 * Safety of the permission path (a process blocks until we answer):
 * - the listener thread answers every permission event at once: FAN_ALLOW unless the watch's
 *   decision table (dev, ino, mask) says deny; the table is only looked at when it is non-empty
 *   (one fstat of the event fd). Paths, comm and the record are made after the answer.
 * - fds are non-blocking; the thread waits only in epoll_wait; locks are held for table lookups
 *   and never across a read of a file.
 * - the thread never opens a file on a marked mount: it reads only /proc (not markable for
 *   permission events) and the event fds the kernel gives it.
 * - if the agent dies, the kernel closes the groups and releases every pending event.
 *
 * Exec allow-list (DW_FAN_ALLOWLIST_EXEC): an exec open (FAN_OPEN_EXEC_PERM) is denied unless
 * its (dev, ino) is in the watch's allow table (open addressing, at most DW_FAN_MAX_ALLOWED
 * entries: a lookup is a few probes, no allocation, made before the answer). The kernel raises
 * FAN_OPEN_EXEC_PERM for files opened by execve itself: the executable, a script's interpreter
 * (binfmt_script), and the ELF interpreter (ld.so) of a dynamic binary; shared libraries are
 * opened by ld.so with open(2) + mmap, so they raise only FAN_OPEN_PERM and are not checked.
 * A mount mark covers one mount, so switching the mode on also marks, for exec events only,
 * every mount of the container that allows exec (/dev, /dev/shm, volumes...), resolved under the
 * container's root without following symlinks (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS) and
 * checked against the mount id. Mounts made later are not covered.
 * Records go to a bounded queue that dw_poll drains; when it is full the record is counted
 * (DW_STAT_FAN_QUEUE_FULL) and dropped; the answer was already given.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include "dw_internal.h"

#define DW_EV_STOP 0xffffffffu
#define DW_FAN_BATCH 256

static int dw_mark_exec_mounts(int gfd, int pid);

static uint64_t dw_kdev(dev_t d)
{
	return ((uint64_t)major(d) << 20) | minor(d);
}

int dw_fan_start(struct dw_ctx *ctx)
{
	int fd = fanotify_init(FAN_CLOEXEC | FAN_NONBLOCK | FAN_CLASS_CONTENT, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	int perm = fd >= 0;
	if (fd < 0 && errno == EINVAL)
		fd = fanotify_init(FAN_CLOEXEC | FAN_NONBLOCK | FAN_CLASS_NOTIF, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		ctx->fan_state = DW_STATE_UNAVAILABLE;
		if (err == EPERM)
			dw_detail(ctx->fan_detail, "fanotify_init not permitted (EPERM, uid %d): needs CAP_SYS_ADMIN",
				  (int)geteuid());
		else
			dw_detail(ctx->fan_detail, "fanotify_init failed: %s", strerror(err));
		return -err;
	}
	close(fd);
	ctx->watches = calloc(DW_FAN_MAX_WATCHES, sizeof(struct dw_watch));
	ctx->q_cap = ctx->cfg.fan_queue_bytes;
	ctx->q = malloc(ctx->q_cap);
	ctx->fan_epfd = epoll_create1(EPOLL_CLOEXEC);
	ctx->fan_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ctx->fan_ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!ctx->watches || !ctx->q || ctx->fan_epfd < 0 || ctx->fan_stop_fd < 0 || ctx->fan_ready_fd < 0) {
		ctx->fan_state = DW_STATE_UNAVAILABLE;
		dw_detail(ctx->fan_detail, "fanotify listener set-up failed: %s", strerror(errno ? errno : ENOMEM));
		dw_fan_stop(ctx);
		return -ENOMEM;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = DW_EV_STOP};
	epoll_ctl(ctx->fan_epfd, EPOLL_CTL_ADD, ctx->fan_stop_fd, &ev);
	struct epoll_event rev = {.events = EPOLLIN, .data.u32 = 2};
	epoll_ctl(ctx->poll_epfd, EPOLL_CTL_ADD, ctx->fan_ready_fd, &rev);
	extern void *dw_fan_thread(void *);
	if (pthread_create(&ctx->fan_thread, NULL, dw_fan_thread, ctx) != 0) {
		ctx->fan_state = DW_STATE_UNAVAILABLE;
		dw_detail(ctx->fan_detail, "cannot start the fanotify thread");
		dw_fan_stop(ctx);
		return -EAGAIN;
	}
	ctx->fan_thread_started = 1;
	ctx->fan_state = perm ? DW_STATE_RUNNING : DW_STATE_DEGRADED;
	dw_detail(ctx->fan_detail,
		  perm ? "ready: per-container watches (FAN_MARK_MOUNT on /proc/<pid>/root), permission events "
			 "answered in C (deny table), records for notify watches"
		       : "notifications only: this kernel has no fanotify permission events (no deny)");
	return 0;
}

void dw_fan_stop(struct dw_ctx *ctx)
{
	if (ctx->fan_thread_started) {
		uint64_t one = 1;
		if (write(ctx->fan_stop_fd, &one, sizeof(one)) < 0) { /* eventfd: cannot fail short of overflow */
		}
		pthread_join(ctx->fan_thread, NULL);
		ctx->fan_thread_started = 0;
	}
	if (ctx->watches) {
		for (int i = 0; i < DW_FAN_MAX_WATCHES; i++)
			if (ctx->watches[i].active) {
				close(ctx->watches[i].fd); /* releases pending permission events */
				free(ctx->watches[i].allowed);
			}
		free(ctx->watches);
		ctx->watches = NULL;
	}
	if (ctx->fan_epfd >= 0)
		close(ctx->fan_epfd);
	if (ctx->fan_stop_fd >= 0)
		close(ctx->fan_stop_fd);
	if (ctx->fan_ready_fd >= 0)
		close(ctx->fan_ready_fd);
	ctx->fan_epfd = ctx->fan_stop_fd = ctx->fan_ready_fd = -1;
	free(ctx->q);
	ctx->q = NULL;
}

int dw_fan_watch(struct dw_ctx *ctx, int pid, __u64 cgroup_id, __u64 cgroup_v1_id, __u32 flags)
{
	if (!ctx)
		return -EINVAL;
	if (!ctx->watches)
		return -ENODEV;
	if (pid <= 0 || !(flags & (DW_FAN_PERM | DW_FAN_NOTIFY)) || (flags & ~(DW_FAN_PERM | DW_FAN_MODE_MASK)))
		return -EINVAL;
	if ((flags & DW_FAN_ALLOWLIST_EXEC) && !(flags & DW_FAN_PERM))
		return -EOPNOTSUPP;
	int perm = flags & DW_FAN_PERM;
	unsigned int init = FAN_CLOEXEC | FAN_NONBLOCK | (perm ? FAN_CLASS_CONTENT | FAN_UNLIMITED_QUEUE : FAN_CLASS_NOTIF);
	int fd = fanotify_init(init, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char root[64];
	snprintf(root, sizeof(root), "/proc/%d/root/", pid);
	uint64_t mask = perm ? (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM) : (FAN_OPEN | FAN_OPEN_EXEC);
	if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MOUNT, mask, AT_FDCWD, root) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	pthread_mutex_lock(&ctx->fan_lock);
	int id = -1;
	for (int i = 0; i < DW_FAN_MAX_WATCHES; i++)
		if (!ctx->watches[i].active) {
			id = i;
			break;
		}
	if (id < 0) {
		pthread_mutex_unlock(&ctx->fan_lock);
		close(fd);
		return -ENOSPC;
	}
	struct dw_watch *w = &ctx->watches[id];
	memset(w, 0, sizeof(*w));
	w->active = 1;
	w->fd = fd;
	w->pid = pid;
	w->flags = flags;
	w->cgroup_id = cgroup_id;
	w->cgroup_v1_id = cgroup_v1_id;
	if (flags & DW_FAN_ALLOWLIST_EXEC) {
		w->allowed = calloc(DW_FAN_ALLOW_SLOTS, sizeof(*w->allowed));
		w->mounts_marked = 1;
		if (!w->allowed) {
			w->active = 0;
			pthread_mutex_unlock(&ctx->fan_lock);
			close(fd);
			return -ENOMEM;
		}
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)id};
	if (epoll_ctl(ctx->fan_epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int err = -errno;
		w->active = 0;
		pthread_mutex_unlock(&ctx->fan_lock);
		close(fd);
		return err;
	}
	atomic_fetch_add(&ctx->fan_watches, 1);
	int gfd = (flags & DW_FAN_ALLOWLIST_EXEC) ? dup(fd) : -1;
	pthread_mutex_unlock(&ctx->fan_lock);
	if (gfd >= 0) {
		dw_mark_exec_mounts(gfd, pid); /* best effort: the root mount is marked in any case */
		close(gfd);
	}
	return id;
}

static struct dw_watch *dw_watch_get(struct dw_ctx *ctx, int watch)
{
	if (!ctx || !ctx->watches || watch < 0 || watch >= DW_FAN_MAX_WATCHES || !ctx->watches[watch].active)
		return NULL;
	return &ctx->watches[watch];
}

/* ---- the exec allow table ---------------------------------------------------------------- */

static uint32_t dw_allow_hash(uint64_t dev, uint64_t ino)
{
	uint64_t h = (ino ^ (dev << 32 | dev >> 32)) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & (DW_FAN_ALLOW_SLOTS - 1);
}

/* slot of (dev, ino), or of the free slot where it would go */
static uint32_t dw_allow_slot(struct dw_watch *w, uint64_t dev, uint64_t ino)
{
	uint32_t i = dw_allow_hash(dev, ino);
	for (uint32_t n = 0; n < DW_FAN_ALLOW_SLOTS; n++, i = (i + 1) & (DW_FAN_ALLOW_SLOTS - 1)) {
		if (w->allowed[i][1] == 0 || (w->allowed[i][0] == dev && w->allowed[i][1] == ino))
			return i;
	}
	return 0; /* unreachable: the table is at most half full */
}

static int dw_allow_has(struct dw_watch *w, uint64_t dev, uint64_t ino)
{
	if (!w->allowed || w->nallowed == 0)
		return 0;
	uint32_t i = dw_allow_slot(w, dev, ino);
	return w->allowed[i][1] == ino && w->allowed[i][0] == dev;
}

/* linear probing deletion by backward shift: no tombstones, lookups stay short */
static void dw_allow_remove_at(struct dw_watch *w, uint32_t i)
{
	uint32_t mask = DW_FAN_ALLOW_SLOTS - 1;
	w->allowed[i][0] = w->allowed[i][1] = 0;
	for (uint32_t j = (i + 1) & mask; w->allowed[j][1] != 0; j = (j + 1) & mask) {
		uint32_t home = dw_allow_hash(w->allowed[j][0], w->allowed[j][1]);
		/* move j back to i when its home is not cyclically within (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			w->allowed[i][0] = w->allowed[j][0];
			w->allowed[i][1] = w->allowed[j][1];
			w->allowed[j][0] = w->allowed[j][1] = 0;
			i = j;
		}
	}
	w->nallowed--;
}

/* Marks, for exec permission events, every exec-capable mount of the container other than its
 * root (already marked). Runs without fan_lock on a dup of the group fd: nothing here raises a
 * permission event (O_PATH opens and /proc reads do not). Returns the number of mounts marked. */
static int dw_mark_exec_mounts(int gfd, int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		int err = -errno;
		fclose(f);
		return err;
	}
	char line[4096];
	int marked = 0;
	for (int lines = 0; lines < 4 * DW_FAN_MAX_MOUNTS && marked < DW_FAN_MAX_MOUNTS && fgets(line, sizeof(line), f);
	     lines++) {
		/* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
		unsigned long long mnt_id;
		char mp[1024], opts[512];
		if (sscanf(line, "%llu %*u %*s %*s %1023s %511s", &mnt_id, mp, opts) != 3)
			continue;
		if (strcmp(mp, "/") == 0)
			continue;
		int noexec = 0;
		for (char *o = strtok(opts, ","); o; o = strtok(NULL, ","))
			if (strcmp(o, "noexec") == 0)
				noexec = 1;
		if (noexec)
			continue;
		/* unescape \ooo (mountinfo escapes space, tab, newline, backslash) */
		char un[1024];
		size_t k = 0;
		for (size_t j = 0; mp[j] && k < sizeof(un) - 1; j++) {
			if (mp[j] == '\\' && mp[j + 1] >= '0' && mp[j + 1] <= '3' && mp[j + 2] && mp[j + 3]) {
				un[k++] = (char)((mp[j + 1] - '0') * 64 + (mp[j + 2] - '0') * 8 + (mp[j + 3] - '0'));
				j += 3;
			} else {
				un[k++] = mp[j];
			}
		}
		un[k] = 0;
		struct open_how how = {.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
				       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
		int fd = (int)syscall(SYS_openat2, root, un + 1, &how, sizeof(how));
		if (fd < 0)
			continue;
		struct statx sx;
		if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID) &&
		    sx.stx_mnt_id == mnt_id) {
			char self[64];
			snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
			if (fanotify_mark(gfd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC_PERM, AT_FDCWD, self) == 0)
				marked++;
		}
		close(fd);
	}
	close(root);
	fclose(f);
	return marked;
}

int dw_fan_mode(struct dw_ctx *ctx, int watch, __u32 flags)
{
	if (!ctx || !ctx->watches)
		return -EINVAL;
	if (flags & ~(DW_FAN_MODE_MASK | DW_FAN_PERM))
		return -EINVAL;
	pthread_mutex_lock(&ctx->fan_lock);
	struct dw_watch *w = dw_watch_get(ctx, watch);
	int rc = 0, gfd = -1, pid = 0;
	if (!w) {
		rc = -ENOENT;
	} else if ((flags & DW_FAN_PERM) && !(w->flags & DW_FAN_PERM)) {
		rc = -EINVAL; /* the group's class is fixed at dw_fan_watch */
	} else if ((flags & DW_FAN_ALLOWLIST_EXEC) && !(w->flags & DW_FAN_PERM)) {
		rc = -EOPNOTSUPP;
	} else if (!(w->flags & DW_FAN_PERM) && !(flags & DW_FAN_NOTIFY)) {
		rc = -EINVAL; /* a notification watch that reports nothing: unwatch it */
	} else {
		if ((flags & DW_FAN_ALLOWLIST_EXEC) && !w->allowed) {
			w->allowed = calloc(DW_FAN_ALLOW_SLOTS, sizeof(*w->allowed));
			if (!w->allowed)
				rc = -ENOMEM;
		}
		if (!rc && (flags & DW_FAN_ALLOWLIST_EXEC) && !w->mounts_marked) {
			gfd = dup(w->fd);
			pid = w->pid;
			w->mounts_marked = 1;
		}
		if (!rc)
			w->flags = (w->flags & ~DW_FAN_MODE_MASK) | (flags & DW_FAN_MODE_MASK);
	}
	pthread_mutex_unlock(&ctx->fan_lock);
	if (gfd >= 0) {
		int n = dw_mark_exec_mounts(gfd, pid);
		close(gfd);
		if (n < 0 && n != -ENOENT && n != -ESRCH)
			rc = n;
	}
	return rc;
}

int dw_fan_allow_exec(struct dw_ctx *ctx, int watch, __u64 dev, __u64 ino)
{
	if (!ctx || !ctx->watches || ino == 0)
		return -EINVAL;
	pthread_mutex_lock(&ctx->fan_lock);
	struct dw_watch *w = dw_watch_get(ctx, watch);
	int rc = 0;
	if (!w) {
		rc = -ENOENT;
	} else if (!(w->flags & DW_FAN_PERM)) {
		rc = -EOPNOTSUPP;
	} else {
		if (!w->allowed)
			w->allowed = calloc(DW_FAN_ALLOW_SLOTS, sizeof(*w->allowed));
		if (!w->allowed) {
			rc = -ENOMEM;
		} else {
			uint32_t i = dw_allow_slot(w, dev, ino);
			if (w->allowed[i][1] == 0) {
				if (w->nallowed >= DW_FAN_MAX_ALLOWED) {
					rc = -ENOSPC;
				} else {
					w->allowed[i][0] = dev;
					w->allowed[i][1] = ino;
					w->nallowed++;
				}
			}
		}
	}
	pthread_mutex_unlock(&ctx->fan_lock);
	return rc;
}

int dw_fan_disallow_exec(struct dw_ctx *ctx, int watch, __u64 dev, __u64 ino)
{
	if (!ctx || !ctx->watches || ino == 0)
		return -EINVAL;
	pthread_mutex_lock(&ctx->fan_lock);
	struct dw_watch *w = dw_watch_get(ctx, watch);
	int rc = -ENOENT;
	if (w && w->allowed) {
		uint32_t i = dw_allow_slot(w, dev, ino);
		if (w->allowed[i][1] == ino && w->allowed[i][0] == dev) {
			dw_allow_remove_at(w, i);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&ctx->fan_lock);
	return rc;
}

int dw_fan_clear_exec(struct dw_ctx *ctx, int watch)
{
	if (!ctx || !ctx->watches)
		return -EINVAL;
	pthread_mutex_lock(&ctx->fan_lock);
	struct dw_watch *w = dw_watch_get(ctx, watch);
	int rc = w ? 0 : -ENOENT;
	if (w && w->allowed) {
		rc = w->nallowed;
		memset(w->allowed, 0, DW_FAN_ALLOW_SLOTS * sizeof(*w->allowed));
		w->nallowed = 0;
	}
	pthread_mutex_unlock(&ctx->fan_lock);
	return rc;
}

int dw_fan_unwatch(struct dw_ctx *ctx, int watch)
{
	if (!ctx || !ctx->watches)
		return -EINVAL;
	pthread_mutex_lock(&ctx->fan_lock);
	struct dw_watch *w = dw_watch_get(ctx, watch);
	if (!w) {
		pthread_mutex_unlock(&ctx->fan_lock);
		return -ENOENT;
	}
	epoll_ctl(ctx->fan_epfd, EPOLL_CTL_DEL, w->fd, NULL);
	close(w->fd); /* the kernel allows whatever is still pending */
	w->active = 0;
	free(w->allowed);
	w->allowed = NULL;
	w->nallowed = 0;
	atomic_fetch_sub(&ctx->fan_watches, 1);
	pthread_mutex_unlock(&ctx->fan_lock);
	return 0;
}

int dw_fan_deny(struct dw_ctx *ctx, int watch, __u64 dev, __u64 ino, __u32 mask)
{
	if (!ctx || !ctx->watches)
		return -EINVAL;
	if (!mask || (mask & ~(DW_FAN_DENY_OPEN | DW_FAN_DENY_EXEC)))
		return -EINVAL;
	pthread_mutex_lock(&ctx->fan_lock);
	struct dw_watch *w = dw_watch_get(ctx, watch);
	int rc = 0;
	if (!w) {
		rc = -ENOENT;
	} else if (!(w->flags & DW_FAN_PERM)) {
		rc = -EOPNOTSUPP; /* a notification watch cannot deny */
	} else {
		int i;
		for (i = 0; i < w->ndecisions; i++)
			if (w->decisions[i].dev == dev && w->decisions[i].ino == ino)
				break;
		if (i == w->ndecisions) {
			if (w->ndecisions == DW_FAN_MAX_DECISIONS)
				rc = -ENOSPC;
			else
				w->ndecisions++;
		}
		if (!rc)
			w->decisions[i] = (struct dw_decision){.dev = dev, .ino = ino, .mask = mask};
	}
	pthread_mutex_unlock(&ctx->fan_lock);
	return rc;
}

int dw_fan_allow(struct dw_ctx *ctx, int watch, __u64 dev, __u64 ino)
{
	if (!ctx || !ctx->watches)
		return -EINVAL;
	pthread_mutex_lock(&ctx->fan_lock);
	struct dw_watch *w = dw_watch_get(ctx, watch);
	int rc = -ENOENT;
	if (w) {
		for (int i = 0; i < w->ndecisions; i++)
			if (w->decisions[i].dev == dev && w->decisions[i].ino == ino) {
				w->decisions[i] = w->decisions[--w->ndecisions];
				rc = 0;
				break;
			}
	}
	pthread_mutex_unlock(&ctx->fan_lock);
	return rc;
}

int dw_fan_allow_all(struct dw_ctx *ctx, int watch)
{
	if (!ctx || !ctx->watches)
		return -EINVAL;
	pthread_mutex_lock(&ctx->fan_lock);
	struct dw_watch *w = dw_watch_get(ctx, watch);
	int rc = w ? 0 : -ENOENT;
	if (w)
		w->ndecisions = 0;
	pthread_mutex_unlock(&ctx->fan_lock);
	return rc;
}

/* ---- the listener thread ------------------------------------------------------------------ */

struct dw_pending {
	int fd;
	int pid;
	uint64_t mask;
	int denied;
	int have_stat;
	uint64_t dev, ino;
};

static void dw_queue_record(struct dw_ctx *ctx, const uint8_t *rec, size_t len)
{
	pthread_mutex_lock(&ctx->q_lock);
	int ok = ctx->q_len + len <= ctx->q_cap;
	if (ok) {
		memcpy(ctx->q + ctx->q_len, rec, len);
		ctx->q_len += len;
	}
	pthread_mutex_unlock(&ctx->q_lock);
	if (!ok) {
		atomic_fetch_add(&ctx->fan_queue_full, 1);
		return;
	}
	uint64_t one = 1;
	if (write(ctx->fan_ready_fd, &one, sizeof(one)) < 0) { /* non-blocking eventfd: ignore */
	}
}

static void dw_emit_fan(struct dw_ctx *ctx, struct dw_pending *p, int perm, uint64_t cgid, uint64_t cgid1,
			uint8_t *rec)
{
	struct dw_file *f = (struct dw_file *)rec;
	memset(f, 0, sizeof(*f));
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p->fd);
	ssize_t n = readlink(link, f->path, DW_PATH_MAX);
	if (n >= DW_PATH_MAX) {
		n = DW_PATH_MAX - 1;
		f->hdr.flags |= DW_F_PATH_TRUNCATED;
	}
	if (n < 0) {
		n = 0;
		f->hdr.flags |= DW_F_PATH_UNREADABLE;
	}
	if (!p->have_stat) {
		struct stat st;
		if (fstat(p->fd, &st) == 0) {
			p->dev = dw_kdev(st.st_dev);
			p->ino = st.st_ino;
		}
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint32_t size = DW_ALIGN8(sizeof(struct dw_file) + (uint32_t)n);
	f->hdr.op = DW_OP_OPEN;
	f->hdr.source = DW_SRC_FANOTIFY;
	f->hdr.flags |= (perm ? DW_F_PERM : 0) | (p->denied ? DW_F_DENIED : 0);
	f->hdr.size = size;
	f->hdr.ktime_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	f->hdr.cgroup_id = cgid;
	f->hdr.cgroup_v1_id = cgid1;
	f->hdr.pid = f->hdr.tgid = p->pid;
	f->hdr.seq = ++ctx->fan_seq;
	char cpath[64];
	snprintf(cpath, sizeof(cpath), "/proc/%d/comm", p->pid);
	int cfd = open(cpath, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (cfd >= 0) {
		ssize_t c = read(cfd, f->hdr.comm, DW_COMM_LEN - 1);
		close(cfd);
		if (c > 0 && f->hdr.comm[c - 1] == '\n')
			f->hdr.comm[c - 1] = 0;
	}
	f->ret = p->denied ? -EPERM : 0;
	f->access = (p->mask & (FAN_OPEN_EXEC | FAN_OPEN_EXEC_PERM)) ? DW_ACC_EXEC : 0;
	f->path_len = (uint32_t)n;
	f->dev = p->dev;
	f->ino = p->ino;
	memset(rec + sizeof(*f) + n, 0, size - sizeof(*f) - n);
	dw_queue_record(ctx, rec, size);
}

static void dw_handle_watch(struct dw_ctx *ctx, uint32_t id, uint8_t *rbuf, size_t rcap, uint8_t *rec)
{
	struct dw_pending pend[DW_FAN_BATCH];
	int np = 0, perm = 0, notify = 0;
	uint64_t cgid = 0, cgid1 = 0;

	pthread_mutex_lock(&ctx->fan_lock);
	struct dw_watch *w = dw_watch_get(ctx, (int)id);
	if (!w) {
		pthread_mutex_unlock(&ctx->fan_lock);
		return;
	}
	perm = w->flags & DW_FAN_PERM;
	notify = w->flags & DW_FAN_NOTIFY;
	cgid = w->cgroup_id;
	cgid1 = w->cgroup_v1_id;
	/* at most DW_FAN_BATCH events per read: metadata is 24 bytes */
	size_t want = rcap < DW_FAN_BATCH * sizeof(struct fanotify_event_metadata) ? rcap
										: DW_FAN_BATCH * sizeof(struct fanotify_event_metadata);
	ssize_t len = read(w->fd, rbuf, want);
	if (len < 0) {
		if (errno != EAGAIN && errno != EINTR)
			atomic_fetch_add(&ctx->fan_errors, 1);
		pthread_mutex_unlock(&ctx->fan_lock);
		return;
	}
	struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)rbuf;
	for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
		if (m->vers != FANOTIFY_METADATA_VERSION) {
			atomic_fetch_add(&ctx->fan_errors, 1);
			break;
		}
		atomic_fetch_add(&ctx->fan_events, 1);
		if (m->mask & FAN_Q_OVERFLOW) {
			atomic_fetch_add(&ctx->fan_overflow, 1);
			continue;
		}
		if (m->fd < 0)
			continue;
		struct dw_pending p = {.fd = m->fd, .pid = m->pid, .mask = m->mask};
		if (m->mask & (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM)) {
			int allowlist = (w->flags & DW_FAN_ALLOWLIST_EXEC) && (m->mask & FAN_OPEN_EXEC_PERM);
			if (w->ndecisions > 0 || allowlist) {
				struct stat st;
				if (fstat(m->fd, &st) != 0) {
					p.denied = allowlist; /* cannot tell what it is: not in the allow-list */
				} else {
					p.have_stat = 1;
					p.dev = dw_kdev(st.st_dev);
					p.ino = st.st_ino;
					if (allowlist && !dw_allow_has(w, p.dev, p.ino)) {
						p.denied = 1;
						atomic_fetch_add(&ctx->fan_not_allowed, 1);
					}
					for (int i = 0; i < w->ndecisions; i++) {
						struct dw_decision *d = &w->decisions[i];
						if (d->dev != p.dev || d->ino != p.ino)
							continue;
						if (((d->mask & DW_FAN_DENY_OPEN) && (m->mask & (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM))) ||
						    ((d->mask & DW_FAN_DENY_EXEC) && (m->mask & FAN_OPEN_EXEC_PERM)))
							p.denied = 1;
					}
				}
			}
			struct fanotify_response r = {.fd = m->fd, .response = p.denied ? FAN_DENY : FAN_ALLOW};
			if (write(w->fd, &r, sizeof(r)) != sizeof(r))
				atomic_fetch_add(&ctx->fan_errors, 1);
			if (p.denied)
				atomic_fetch_add(&ctx->fan_denied, 1);
		}
		if (np < DW_FAN_BATCH)
			pend[np++] = p;
		else
			close(m->fd);
	}
	pthread_mutex_unlock(&ctx->fan_lock);

	/* after every answer: the slow part */
	for (int i = 0; i < np; i++) {
		if (notify || pend[i].denied)
			dw_emit_fan(ctx, &pend[i], perm, cgid, cgid1, rec);
		close(pend[i].fd);
	}
}

void *dw_fan_thread(void *arg)
{
	struct dw_ctx *ctx = arg;
	size_t rcap = DW_FAN_BATCH * sizeof(struct fanotify_event_metadata);
	uint8_t *rbuf = malloc(rcap);
	uint8_t *rec = malloc(DW_MAX_RECORD);
	if (!rbuf || !rec) {
		free(rbuf);
		free(rec);
		return NULL;
	}
	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(ctx->fan_epfd, evs, 16, 1000);
		if (n < 0 && errno != EINTR)
			break;
		int stop = 0;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == DW_EV_STOP)
				stop = 1;
			else
				dw_handle_watch(ctx, evs[i].data.u32, rbuf, rcap, rec);
		}
		if (stop)
			break;
	}
	free(rbuf);
	free(rec);
	return NULL;
}

size_t dw_fan_drain(struct dw_ctx *ctx, uint8_t *buf, size_t cap)
{
	pthread_mutex_lock(&ctx->q_lock);
	size_t off = 0;
	while (off + sizeof(struct dw_hdr) <= ctx->q_len) {
		const struct dw_hdr *h = (const void *)(ctx->q + off);
		if (off + h->size > cap)
			break;
		off += h->size;
	}
	if (off > 0) {
		memcpy(buf, ctx->q, off);
		memmove(ctx->q, ctx->q + off, ctx->q_len - off);
		ctx->q_len -= off;
	}
	pthread_mutex_unlock(&ctx->q_lock);
	if (off > 0) {
		size_t count = 0;
		for (size_t o = 0; o < off; o += ((const struct dw_hdr *)(buf + o))->size)
			count++;
		atomic_fetch_add(&ctx->fan_delivered, count);
	}
	return off;
}
