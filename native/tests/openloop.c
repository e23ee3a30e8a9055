/* SPDX-License-Identifier: Apache-2.0 */
/* openloop PATH N: open(PATH, O_RDONLY) + close, N times; prints the elapsed nanoseconds. The load
 * of the bridge's burst test (BpfSourceBurstTest). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: openloop PATH N\n");
		return 2;
	}
	long n = atol(argv[2]);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	long failed = 0;
	for (long i = 0; i < n; i++) {
		int fd = open(argv[1], O_RDONLY);
		if (fd < 0)
			failed++;
		else
			close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%ld %ld\n", (long)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec)), failed);
	return failed ? 1 : 0;
}
