// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the timing method. An operation is timed in chunks of calls
 * against the floor, a null ioctl on /dev/iommu (IOMMU_OPTION get): the
 * cheapest any ioctl path can be.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <kselftest.h>
#include "bench.h"

double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[REPS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ns per call over @n calls, or -1 if a call failed. */
double run_ns(struct op *op, long n)
{
	double t0 = now_ns();
	long i;

	for (i = 0; i < n; i++)
		if (op->fn(op))
			return -1;
	return (now_ns() - t0) / n;
}

/* Calls per chunk so that one takes about CHUNK_NS; 0 on failure. */
long calibrate(struct op *op)
{
	long n = 1;
	double t;

	for (;;) {
		t = run_ns(op, n);
		if (t < 0)
			return 0;
		if (t * n >= CHUNK_NS / 4 || n >= 1L << 24)
			break;
		n *= 2;
	}
	n = CHUNK_NS / t;
	return n < 3 ? 3 : n;
}

static int null_ioctl(struct op *op)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_GET,
	};

	(void)op;
	return ioctl(fd, IOMMU_OPTION, &cmd);
}

struct op floor_op = { .fn = null_ioctl, .what = "null ioctl" };

/*
 * Time @op against the floor. A repetition alternates CHUNKS chunks of
 * floor calls with CHUNKS chunks of @op calls, about 1 ms each, and keeps
 * the fastest chunk of each: the VM's vCPU threads share the host's cores
 * with other work, and CLOCK_MONOTONIC keeps running while the host has a
 * vCPU descheduled, so a chunk that spans such a gap measures the host's
 * scheduler. The figures are the medians over the repetitions of these
 * per-repetition times and of their ratios. On failure, says why (a "#"
 * line) and returns -1.
 */
int measure(struct op *op, struct timing *t)
{
	double ns[REPS], fl[REPS], ratio[REPS], lo, hi, a, b;
	long n = calibrate(op), nf = calibrate(&floor_op);
	int r, c;

	if (!n || !nf) {
		ksft_print_msg("%s: %s\n", op->what, strerror(errno));
		return -1;
	}
	for (r = 0; r < REPS; r++) {
		fl[r] = ns[r] = INFINITY;
		for (c = 0; c < CHUNKS; c++) {
			a = run_ns(&floor_op, nf);
			b = run_ns(op, n);
			if (a < 0 || b < 0) {
				ksft_print_msg("%s: %s\n", op->what,
					       strerror(errno));
				return -1;
			}
			fl[r] = fmin(fl[r], a);
			ns[r] = fmin(ns[r], b);
		}
		ratio[r] = ns[r] / fl[r];
	}
	t->ns = median(ns, REPS);
	t->floor_ns = median(fl, REPS);
	t->ratio = median(ratio, REPS);
	lo = hi = ratio[0];
	for (r = 1; r < REPS; r++) {
		lo = fmin(lo, ratio[r]);
		hi = fmax(hi, ratio[r]);
	}
	t->spread = (hi - lo) / t->ratio;
	return 0;
}

/* IOMMU_HWPT_INVALIDATE of @op; its result, cmd->entry_num what it did. */
static int invalidate_op(struct op *op, struct iommu_hwpt_invalidate *cmd)
{
	*cmd = (struct iommu_hwpt_invalidate){
		.size = sizeof(*cmd),
		.hwpt_id = op->id,
		.data_uptr = (uintptr_t)op->entries,
		.data_type = op->data_type,
		.entry_len = op->entry_len,
		.entry_num = op->num,
	};
	return ioctl(fd, IOMMU_HWPT_INVALIDATE, cmd);
}

/* IOMMU_HWPT_INVALIDATE of op->num entries; all must be handled. */
int invalidate(struct op *op)
{
	struct iommu_hwpt_invalidate cmd;

	if (invalidate_op(op, &cmd))
		return -1;
	if (cmd.entry_num != op->num) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* IOMMU_HWPT_INVALIDATE that must fail with op->err, handling nothing. */
int invalidate_fails(struct op *op)
{
	struct iommu_hwpt_invalidate cmd;

	if (!invalidate_op(op, &cmd) || errno != op->err ||
	    cmd.entry_num) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}
