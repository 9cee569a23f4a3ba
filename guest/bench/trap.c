// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the trap path, IOMMU_HWPT_INVALIDATE through a vIOMMU in batches
 * of 1 to 4096 commands, on the mock vIOMMU and on the real SMMUv3; the
 * JSON's "trap" rows.
 */
#include <errno.h>

#include "bench.h"
#include "smmuv3.h"

const __u32 batches[NR_BATCHES] = { 1, 8, 64, 512, 4096 };

/* The mock: one device, its nesting parent, a vIOMMU, one virtual ID. */
int mock_setup(struct bench *b)
{
	if (vmm_ioas_alloc(fd, &b->ioas_id) ||
	    mock_dev_add(fd, b->ioas_id, 0, &b->devs[0], NULL, NULL) ||
	    vmm_hwpt_alloc(fd, b->devs[0], b->ioas_id,
			   IOMMU_HWPT_ALLOC_NEST_PARENT, IOMMU_HWPT_DATA_NONE,
			   NULL, 0, &b->parent_id) ||
	    mock_viommu(b->devs[0], b->parent_id, false,
			&b->viommu_id) ||
	    vmm_viommu_set_dev_id(fd, b->viommu_id, b->devs[0],
				  VID_BASE))
		return -1;
	return 0;
}

/* Batches on the mock; the commands reach the device's cache. */
bool trap_mock(struct bench *b)
{
	struct op op;
	bool ok;
	int i, k;

	mock_cmds_fill(1, 1);
	ok = mock_cache(b->devs[0], 0) == IOMMU_TEST_DEV_CACHE_DEFAULT;
	fprintf(js, "\"trap\": [\n");
	for (i = 0; i < NR_BATCHES; i++) {
		op = mock_op(b->viommu_id, batches[i]);
		ok = ok && !measure(&op, &b->mock_t[i]);
		json_trap("mock", batches[i], &b->mock_t[i], !i);
	}
	/* The commands did reach the device: its cache entries are gone. */
	for (k = 0; k < MOCK_DEV_CACHE_NUM; k++)
		ok = ok && mock_cache(b->devs[0], k) == 0;
	return ok;
}

/* Batches of TLBI_NH_VA on the SMMUv3 behind QEMU, if it is there. */
bool trap_smmu(struct bench *b)
{
	struct op op;
	bool ok;
	int i;

	b->smmu_err = smmu_setup(&b->vm);
	b->have_smmu = !b->smmu_err;
	for (i = 0; i < MAX_BATCH; i++)
		smmu_cmd_tlbi_nh_va(smmu_cmds[i].cmd, 1,
				    0x10000000ull + i * 4096ull, true);
	ok = b->have_smmu;
	for (i = 0; b->have_smmu && i < NR_BATCHES; i++) {
		op = smmu_op(b->vm.viommu_id, batches[i]);
		ok = ok && !measure(&op, &b->smmu_t[i]);
		json_trap("smmuv3", batches[i], &b->smmu_t[i], false);
	}
	if (b->have_smmu) {
		/* It validates: a CMD_SYNC from the guest stops the call. */
		__u32 num = 3;
		vcmd_t bad[3] = { smmu_cmds[0], smmu_cmds[1] };

		smmu_cmd_op(bad[2].cmd, SMMU_CMD_SYNC);
		ok = ok && vmm_viommu_invalidate(fd, b->vm.viommu_id,
						 SMMU_INV_DATA, bad,
						 sizeof(bad[0]), &num) ==
				   -EIO && num == 2;
	}
	fprintf(js, "],\n");
	return ok;
}
