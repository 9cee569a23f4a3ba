// SPDX-License-Identifier: GPL-2.0
/*
 * bench: memory and scale. Slab memory per vIOMMU (NR_VIOMMUS more on the
 * mock's parent) and per virtual ID; the mock's per-command cost with 1,
 * 1024 and 65536 virtual IDs set on one vIOMMU without the mock's ID slot
 * limit, like an SMMUv3's (NR_IDS mock devices: a device has one ID); and
 * SET_DEV_ID and UNSET_DEV_ID per ID at 65536 IDs. The JSON's "memory",
 * "scale" and "setup".
 */
#include <errno.h>
#include <math.h>
#include <unistd.h>

#include "bench.h"

const struct scale_cfg scale_cfg[NR_SCALE] = {
	{ 1, 1 }, { 1024, 1 }, { 1024, 1024 },
	{ NR_IDS, 1 }, { NR_IDS, 1024 }, { NR_IDS, NR_IDS },
};

/* Before and after: memory() and scale() each take a pair */
static struct slab_snap s0, s1;

/*
 * Slab memory per vIOMMU; then the vIOMMU without ID slots (b->have_flag)
 * and its NR_IDS mock devices, their memory and time each.
 */
bool memory(struct bench *b)
{
	__u32 vid[NR_VIOMMUS];
	long long m0, m1, f0, f1;
	double t0;
	bool ok;
	int i;

	/*
	 * The objects freed before go back to their caches after an RCU
	 * grace period: let that pass first, or it shows as negative memory.
	 */
	sleep(1);
	m0 = meminfo("Slab");
	ok = !slab_snapshot(&s0);
	for (i = 0; ok && i < NR_VIOMMUS; i++)
		ok = !mock_viommu(b->devs[0], b->parent_id, false,
				  &vid[i]);
	m1 = meminfo("Slab");
	ok = ok && !slab_snapshot(&s1);
	b->viommu_bytes = (double)(slab_total(&s1, true) -
				   slab_total(&s0, true)) / NR_VIOMMUS;
	fprintf(js, "\"memory\": {\"viommus\": %d, \"slab_per_viommu\": %.0f, \"slab_pages_per_viommu\": %.0f, ",
		NR_VIOMMUS, b->viommu_bytes, (double)(m1 - m0) / NR_VIOMMUS);
	json_top_caches("viommu_caches", &s0, &s1, true, NR_VIOMMUS);
	for (i = 0; ok && i < NR_VIOMMUS; i++)
		ok = !vmm_destroy(fd, vid[i]);

	b->have_flag = !mock_viommu(b->devs[0], b->parent_id, true,
				    &b->big_viommu);
	b->flag_err = errno;
	f0 = meminfo("MemAvailable");
	t0 = now_ns();
	for (b->nr_devs = 1; ok && b->have_flag && b->nr_devs < NR_IDS;
	     b->nr_devs++)
		if (mock_dev_add(fd, b->ioas_id, 0, &b->devs[b->nr_devs],
				 NULL, NULL))
			break;
	b->dev_err = errno;
	b->have_devs = b->nr_devs == NR_IDS;
	if (b->nr_devs > 1) {
		b->dev_ns = (now_ns() - t0) / (b->nr_devs - 1);
		f1 = meminfo("MemAvailable");
		b->dev_bytes = (double)(f0 - f1) / (b->nr_devs - 1);
	}
	fprintf(js, ", \"mock_devices\": %d, \"mem_per_mock_device\": %.0f, \"ns_per_mock_device\": %.0f",
		b->nr_devs, b->dev_bytes, b->dev_ns);
	return ok && b->have_devs;
}

/* One row of "scale": batches of SCALE_BATCH naming @named of @ids IDs. */
static void json_scale(__u32 ids, __u32 named, __u32 vid,
		       const struct timing *t)
{
	fprintf(js, "  {\"ids\": %u, \"named\": %u, \"batch\": %d, ", ids,
		named, SCALE_BATCH);
	if (named == 1)
		fprintf(js, "\"vid\": %u, ", vid);
	json_per_cmd(t, SCALE_BATCH);
	fprintf(js, "}");
}

/*
 * The lookup at the depth of NR_IDS IDs with one ID set (b->high_t), then
 * the IDs of scale_cfg set cumulatively on the vIOMMU without slots
 * (b->scale_t[]), and slab memory per ID.
 */
bool scale(struct bench *b)
{
	double id_bytes = NAN, id_pages = NAN;
	long long m0, m1;
	struct op op;
	bool ok;
	int i, k;

	/* devs[0] gives up its ID on the small vIOMMU: one ID per device */
	ok = b->have_devs &&
	     !vmm_viommu_unset_dev_id(fd, b->viommu_id, b->devs[0],
				      VID_BASE);
	/*
	 * One ID, but at the index of the 65536th: the xarray of the vIOMMU
	 * is as deep as for 65536 IDs (three levels, against one for ID 8).
	 */
	ok = ok && !vmm_viommu_set_dev_id(fd, b->viommu_id, b->devs[1],
					  VID_BASE + NR_IDS - 1);
	for (i = 0; i < MAX_BATCH; i++)
		mock_cmds[i] = (struct iommu_viommu_invalidate_selftest){
			.vdev_id = VID_BASE + NR_IDS - 1,
			.cache_id = i % MOCK_DEV_CACHE_NUM,
		};
	op = mock_op(b->viommu_id, SCALE_BATCH);
	ok = ok && !measure(&op, &b->high_t) &&
	     mock_cache(b->devs[1], 0) == 0 &&
	     !vmm_viommu_unset_dev_id(fd, b->viommu_id, b->devs[1],
				      VID_BASE + NR_IDS - 1);

	sleep(1);
	m0 = meminfo("Slab");
	ok = ok && !slab_snapshot(&s0);
	fprintf(js, ",\n");
	k = 0;
	for (i = 0; ok && i < NR_SCALE; i++) {
		int first = k;

		for (; ok && k < (int)scale_cfg[i].ids; k++)
			ok = !vmm_viommu_set_dev_id(fd, b->big_viommu,
						    b->devs[k],
						    VID_BASE + k);
		if (k == NR_IDS && first != k) {
			m1 = meminfo("Slab");
			ok = ok && !slab_snapshot(&s1);
			id_bytes = (double)(slab_total(&s1, true) -
					    slab_total(&s0, true)) / k;
			id_pages = (double)(m1 - m0) / k;
		}
		mock_cmds_fill(k, scale_cfg[i].named);
		op = mock_op(b->big_viommu, SCALE_BATCH);
		ok = ok && !measure(&op, &b->scale_t[i]);
		/* The last command's device lost that cache entry. */
		ok = ok && mock_cache(b->devs[mock_cmds[SCALE_BATCH - 1].vdev_id -
					      VID_BASE],
				      mock_cmds[SCALE_BATCH - 1].cache_id) == 0;
	}
	fprintf(js, "  \"ids\": %d, \"slab_per_id\": %.1f, \"slab_pages_per_id\": %.1f, ",
		k, id_bytes, id_pages);
	json_top_caches("id_caches", &s0, &s1, true, k ? k : 1);
	fprintf(js, "},\n\"scale\": [\n");
	for (i = 0; i < NR_SCALE; i++) {
		json_scale(scale_cfg[i].ids, scale_cfg[i].named,
			   VID_BASE + scale_cfg[i].ids - 1, &b->scale_t[i]);
		fprintf(js, ",\n");
	}
	/* The one ID at the depth of NR_IDS IDs */
	json_scale(1, 1, VID_BASE + NR_IDS - 1, &b->high_t);
	fprintf(js, "\n],\n");
	return ok;
}

/*
 * UNSET (@set false) or SET the NR_IDS IDs on the vIOMMU without slots, in
 * chunks of SETUP_CHUNK IDs, each next to a chunk of @nf null ioctls:
 * *@ns and *@fl keep the fastest of each, per ID and per null ioctl.
 */
static bool set_all(struct bench *b, bool set, long nf, double *ns,
		    double *fl)
{
	double t0 = 0;
	bool ok = true;
	int k;

	for (k = 0; ok && k < NR_IDS; k++) {
		if (!(k % SETUP_CHUNK)) {
			*fl = fmin(*fl, run_ns(&floor_op, nf));
			t0 = now_ns();
		}
		ok = !(set ? vmm_viommu_set_dev_id :
			     vmm_viommu_unset_dev_id)(fd, b->big_viommu,
						      b->devs[k], VID_BASE + k);
		if (k % SETUP_CHUNK == SETUP_CHUNK - 1)
			*ns = fmin(*ns, (now_ns() - t0) / SETUP_CHUNK);
	}
	return ok;
}

/*
 * UNSET all, then SET all again (if @ok: scale() passed): per-ID times at
 * NR_IDS, keeping the fastest chunk of each as measure() does.
 */
bool setup(struct bench *b, bool ok)
{
	double set_fl = INFINITY, unset_fl = INFINITY;
	struct op op;
	long nf;

	if (ok) {
		b->unset_ns = b->set_ns = INFINITY;
		nf = calibrate(&floor_op);
		ok = set_all(b, false, nf, &b->unset_ns, &unset_fl);
		/* Gone: an invalidation naming one fails at it. */
		op = mock_op(b->big_viommu, 1);
		ok = ok && invalidate(&op) && errno == EIO;
		ok = ok && set_all(b, true, nf, &b->set_ns, &set_fl);
		ok = ok && !invalidate(&op);
	}
	fprintf(js, "\"setup\": {\"ids\": %d, \"chunk\": %d, ", NR_IDS,
		SETUP_CHUNK);
	json_num("set_ns", b->set_ns, true);
	json_num("unset_ns", b->unset_ns, true);
	json_num("set_ratio_to_floor", b->set_ns / set_fl, true);
	json_num("unset_ratio_to_floor", b->unset_ns / unset_fl, false);
	fprintf(js, "},\n");
	return ok;
}
