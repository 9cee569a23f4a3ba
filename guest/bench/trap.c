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

/*
 * The mock's batch-1 call in parts, each against the floor: what the
 * ioctl costs before the vIOMMU is found (an ID that names nothing:
 * ENOENT); with the vIOMMU found, held and released and its driver called
 * for no command (entry_num 0); with the driver refusing the one command's
 * data type before reading it (EINVAL); with the command copied in and the
 * vIOMMU's virtual IDs locked, and the command refused for its flags
 * (EOPNOTSUPP); with the virtual ID looked up too, and found to name no
 * device (EIO); and the whole call, which adds the mock's cache write, timed
 * again here so that it sits next to its parts (trap_mock()'s batch 1 is
 * the first figure of the run). The JSON's "trap_parts".
 */
bool trap_parts(struct bench *b)
{
	static const char *const what[NR_PARTS] = {
		"no such object (ENOENT)", "no command (entry_num 0)",
		"bad data type (EINVAL)", "copied, IDs locked, bad flags (EOPNOTSUPP)",
		"+ ID looked up, no device (EIO)", "full call (batch 1)",
	};
	static struct iommu_viommu_invalidate_selftest bad_flags = {
		.flags = 1u << 31, .vdev_id = VID_BASE,
	}, no_dev = {
		.vdev_id = VID_BASE + 1,
	};
	struct op op[NR_PARTS];
	bool ok = true;
	int i;

	for (i = 0; i < NR_PARTS; i++)
		op[i] = mock_op(b->viommu_id, 1);
	op[0].fn = invalidate_fails;
	op[0].id = 0xfffffff0;		/* no object has this ID */
	op[0].err = ENOENT;
	op[1].num = 0;
	op[2].fn = invalidate_fails;
	op[2].data_type = 0xbad;
	op[2].err = EINVAL;
	op[3].fn = invalidate_fails;
	op[3].entries = &bad_flags;
	op[3].err = EOPNOTSUPP;
	op[4].fn = invalidate_fails;
	op[4].entries = &no_dev;
	op[4].err = EIO;
	fprintf(js, "\"trap_parts\": [\n");
	for (i = 0; i < NR_PARTS; i++) {
		op[i].what = what[i];
		ok = ok && !measure(&op[i], &b->part_t[i]);
		fprintf(js, "%s  {\"part\": \"%s\", ", i ? ",\n" : "", what[i]);
		json_timing(&b->part_t[i]);
		fprintf(js, "\"backend\": \"mock\"}");
	}
	fprintf(js, "\n],\n");
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
