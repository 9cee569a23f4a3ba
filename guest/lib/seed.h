/* SPDX-License-Identifier: GPL-2.0 */
/*
 * seed.h: the random numbers of the seeded tests (guest/fuzz-viommu,
 * guest/race-viommu.c): xorshift64*, one stream per seed, and a seed from
 * the clock.
 */
#ifndef SEED_H
#define SEED_H

#include <time.h>
#include <unistd.h>
#include <linux/types.h>

/* The next number of the stream whose state is *@s (never 0). */
static inline __u64 xorshift64s(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/*
 * An odd seed that differs per run. The guest has no RTC: the monotonic
 * clock's nanoseconds differ per boot.
 */
static inline __u64 clock_seed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((__u64)now.tv_nsec << 20 ^ now.tv_sec ^ (__u64)getpid() << 48) | 1;
}

#endif
