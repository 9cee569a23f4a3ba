// SPDX-License-Identifier: GPL-2.0
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

__u32 pattern_run_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((__u32)ts.tv_nsec ^ (__u32)ts.tv_sec * 2654435761u ^
		(__u32)getpid() << 16) | 1;
}

__u32 pattern_seed(__u32 run_seed, int dev, __u32 tag)
{
	__u32 s = run_seed ^ (dev + 1) * 0x9e3779b9u ^ tag * 0x85ebca6bu;

	return s ? s : 0x1badcafe;
}

void pattern_fill(void *buf, size_t len, __u32 seed)
{
	__u8 *p = buf;
	__u32 x = seed ? seed : 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x >> 24;
	}
}

long pattern_diff(const void *a, const void *b, size_t len)
{
	const __u8 *x = a, *y = b;
	size_t i;

	for (i = 0; i < len; i++)
		if (x[i] != y[i])
			return i;
	return -1;
}

void *pattern_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}
