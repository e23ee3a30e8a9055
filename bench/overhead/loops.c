/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Syscall-heavy loops for the overhead benchmark: the same work is timed with no agent, with
 * the agent in each mode and with peer tools, and the ratios are reported.
 *
 *   loops openclose N     open("/etc/hostname") + close, N times
 *   loops forkexec N      fork + execve("/bin/true") + waitpid, N times
 *   loops connect N [PORT] TCP connect to a loopback listener of this process + close, N times
 *                        (PORT: listen on that port, default any; a fixed port keeps the
 *                        connect/accept values the same from run to run for a learned profile)
 *   loops openrate RATE SECONDS [PATH]
 *                        open(PATH, default /etc/hostname) + close paced at RATE per second for
 *                        SECONDS (catching up in 1 ms slices; never faster than RATE)
 *
 * Prints one line: "<name> <iterations> <total_ns> <ns_per_op>"; openrate prints
 * "openrate <target_rate> <iterations> <total_ns> <achieved_rate>".
 * Statically linkable (gcc -static) so the same binary runs on the host and in a busybox rootfs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int listen_fd;

static void *acceptor(void *arg)
{
	long n = (long)arg;
	for (long i = 0; i < n; i++) {
		int c = accept(listen_fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		close(c);
	}
	return NULL;
}

static int openrate(long rate, long secs, const char *path)
{
	if (rate <= 0 || rate > 10000000 || secs <= 0 || secs > 600) {
		fprintf(stderr, "RATE must be 1..10000000 and SECONDS 1..600\n");
		return 2;
	}
	long long t0 = now_ns(), end = t0 + secs * 1000000000LL, done = 0, t;
	while ((t = now_ns()) < end) {
		long long due = (long long)((double)(t - t0) * rate / 1e9) + 1;
		while (done < due) {
			int fd = open(path, O_RDONLY);
			if (fd < 0) {
				perror("open");
				return 1;
			}
			close(fd);
			done++;
		}
		struct timespec ts = {0, 1000000}; /* 1 ms slices */
		nanosleep(&ts, NULL);
	}
	long long t1 = now_ns();
	printf("openrate %ld %lld %lld %.0f\n", rate, done, t1 - t0, done * 1e9 / (double)(t1 - t0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "openrate"))
		return openrate(atol(argv[2]), atol(argv[3]), argc > 4 ? argv[4] : "/etc/hostname");
	if (argc != 3 && !(argc == 4 && !strcmp(argv[1], "connect"))) {
		fprintf(stderr, "usage: %s openclose|forkexec N | connect N [PORT] | openrate RATE SECONDS [PATH]\n", argv[0]);
		return 2;
	}
	long n = atol(argv[2]);
	if (n <= 0 || n > 100000000) {
		fprintf(stderr, "N must be 1..100000000\n");
		return 2;
	}
	long long t0, t1;
	if (!strcmp(argv[1], "openclose")) {
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			int fd = open("/etc/hostname", O_RDONLY);
			if (fd < 0) {
				perror("open");
				return 1;
			}
			close(fd);
		}
		t1 = now_ns();
	} else if (!strcmp(argv[1], "forkexec")) {
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			if (p < 0) {
				perror("fork");
				return 1;
			}
			int st;
			waitpid(p, &st, 0);
		}
		t1 = now_ns();
	} else if (!strcmp(argv[1], "connect")) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
					.sin_port = htons(argc == 4 ? (unsigned short)atoi(argv[3]) : 0)};
		socklen_t len = sizeof(a);
		listen_fd = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) || listen(listen_fd, 4096) ||
		    getsockname(listen_fd, (struct sockaddr *)&a, &len)) {
			perror("listen");
			return 1;
		}
		pthread_t th;
		pthread_create(&th, NULL, acceptor, (void *)n);
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			int s = socket(AF_INET, SOCK_STREAM, 0);
			struct linger lg = {1, 0}; /* RST on close: no TIME_WAIT pile-up */
			setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
				perror("connect");
				return 1;
			}
			close(s);
		}
		t1 = now_ns();
		pthread_join(th, NULL);
		close(listen_fd);
	} else {
		fprintf(stderr, "unknown loop %s\n", argv[1]);
		return 2;
	}
	printf("%s %ld %lld %.1f\n", argv[1], n, t1 - t0, (double)(t1 - t0) / n);
	return 0;
}
