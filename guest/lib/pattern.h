/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pattern.h: test data for DMA checks. Byte patterns that differ with every
 * seed, so data that lands in the wrong place is never mistaken for the
 * right data, and where two buffers first differ.
 */
#ifndef PATTERN_H
#define PATTERN_H

#include <stddef.h>
#include <linux/types.h>

/* A non-zero seed for this process, from the clock and the pid. */
__u32 pattern_run_seed(void);
/* The seed of one buffer: the run's seed, a device index and a tag. */
__u32 pattern_seed(__u32 run_seed, int dev, __u32 tag);
/* Fill @buf with the xorshift32 byte stream of @seed. */
void pattern_fill(void *buf, size_t len, __u32 seed);
/* First offset where @a and @b differ, -1 if they are equal. */
long pattern_diff(const void *a, const void *b, size_t len);
/* Page-aligned, zeroed anonymous memory (munmap() it), NULL on failure. */
void *pattern_alloc(size_t len);

#endif
