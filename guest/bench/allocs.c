// SPDX-License-Identifier: GPL-2.0
/*
 * bench: heap allocations per invalidation ioctl, batches 1, 8 and 64.
 * The SLUB_STATS counters of every cache and the page allocator's
 * pgalloc_* around a loop of ALLOC_CALLS calls, against a loop of null
 * ioctls; an IOAS allocated and destroyed per call shows that the counters
 * do see an allocation (the positive control).
 */
#include <math.h>

#include "bench.h"

struct alloc_count {
	double slab, pages;	/* per call */
	struct slab_snap a, b;
};

/* What reading the counters allocates itself (sysfs buffers). */
static long long snap_slab, snap_pages;

/* Allocations per call of @op over @calls calls (0: calibrate). */
static int count_allocs(struct op *op, long calls, struct alloc_count *c)
{
	long long slab, pages;
	long i;

	if (slab_snapshot(&c->a))
		return -1;
	for (i = 0; i < calls; i++)
		if (op->fn(op))
			return -1;
	if (slab_snapshot(&c->b))
		return -1;
	slab = slab_total(&c->b, false) - slab_total(&c->a, false);
	pages = c->b.pgalloc - c->a.pgalloc;
	if (!calls) {
		snap_slab = slab;
		snap_pages = pages;
		return 0;
	}
	c->slab = (double)(slab - snap_slab) / calls;
	c->pages = (double)(pages - snap_pages) / calls;
	return 0;
}

/* The positive control: an IOAS allocated and destroyed per call. */
static int ioas_churn(struct op *op)
{
	__u32 id;

	(void)op;
	if (vmm_ioas_alloc(fd, &id))
		return -1;
	return vmm_destroy(fd, id);
}

/*
 * Sets b->alloc_worst, the most slab objects or pages an invalidation
 * allocates above a null ioctl, and b->alloc_control, the control's.
 */
bool allocs(struct bench *b)
{
	static struct alloc_count ac;
	struct op churn = { .fn = ioas_churn, .what = "IOAS alloc + destroy" };
	struct op op;
	double null_allocs, null_pages, worst = 0;
	bool ok;
	int i;

	/* First reads create the sysfs inodes; then the reads' own cost. */
	ok = !count_allocs(&floor_op, 0, &ac) &&
	     !count_allocs(&floor_op, 0, &ac);
	ok = ok && !count_allocs(&floor_op, ALLOC_CALLS, &ac);
	null_allocs = ac.slab;
	null_pages = ac.pages;
	fprintf(js, "\"allocs\": {\"calls\": %d, \"snapshot\": {\"slab\": %lld, \"pages\": %lld},\n",
		ALLOC_CALLS, snap_slab, snap_pages);
	fprintf(js, "  \"null\": {\"slab\": %.4f, \"pages\": %.4f},\n",
		ac.slab, ac.pages);
	ok = ok && !count_allocs(&churn, ALLOC_CALLS, &ac);
	b->alloc_control = ac.slab - null_allocs;
	fprintf(js, "  \"control_ioas_alloc_destroy\": {\"slab\": %.4f, \"pages\": %.4f, ",
		ac.slab, ac.pages);
	json_top_caches("caches", &ac.a, &ac.b, false, ALLOC_CALLS);
	fprintf(js, "},\n  \"invalidate\": [");
	for (i = 0; i < 3; i++) {
		op = mock_op(b->viommu_id, batches[i]);
		ok = ok && !count_allocs(&op, ALLOC_CALLS, &ac);
		worst = fmax(worst, fmax(ac.slab - null_allocs,
					 ac.pages - null_pages));
		fprintf(js, "%s\n    {\"backend\": \"mock\", \"batch\": %u, \"slab\": %.4f, \"pages\": %.4f}",
			i ? "," : "", batches[i], ac.slab, ac.pages);
	}
	for (i = 0; b->have_smmu && i < 3; i++) {
		op = smmu_op(b->vm.viommu_id, batches[i]);
		ok = ok && !count_allocs(&op, ALLOC_CALLS, &ac);
		worst = fmax(worst, fmax(ac.slab - null_allocs,
					 ac.pages - null_pages));
		fprintf(js, ",\n    {\"backend\": \"smmuv3\", \"batch\": %u, \"slab\": %.4f, \"pages\": %.4f}",
			batches[i], ac.slab, ac.pages);
	}
	fprintf(js, "]},\n");
	ok = ok && b->alloc_control >= 0.9;
	b->allocs_ok = ok;
	b->alloc_worst = worst;
	return ok;
}
