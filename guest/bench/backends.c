// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the two vIOMMUs it invalidates through. The mock driver's
 * (IOMMUFD_TEST: pure software; its devices, made by the thousand, come
 * from lib/testdev's mock_dev_add()) and the real SMMUv3's (an edu on
 * vfio-pci behind QEMU's arm-smmuv3, nested).
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "bench.h"
#include "smmuv3.h"

/* ---- the mock driver ---------------------------------------------------- */

/* The mock device's cache entry @cache_id: 0 once invalidated. */
long mock_cache(__u32 idev_id, __u32 cache_id)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_DEV_READ_CACHE,
		.id = idev_id,
		.read_cache = { .cache_id = cache_id },
	};

	if (ioctl(fd, IOMMU_TEST_CMD, &cmd))
		return -1;
	return cmd.read_cache.out_cache;
}

/* A mock vIOMMU: with the default 4 ID slots, or with no limit. */
int mock_viommu(__u32 dev_id, __u32 parent_id, bool no_slots,
		__u32 *viommu_id)
{
	struct iommu_viommu_selftest data = {
		.flags = MOCK_VIOMMU_FLAG_NO_ID_SLOTS,
	};

	return vmm_viommu_alloc(fd, dev_id, parent_id,
				IOMMU_VIOMMU_TYPE_SELFTEST,
				no_slots ? &data : NULL,
				no_slots ? sizeof(data) : 0, viommu_id);
}

struct iommu_viommu_invalidate_selftest mock_cmds[MAX_BATCH];

/* A simple generator: the same sequence in every run. */
static __u32 rnd_state = 0x2545f491;

static __u32 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/*
 * Commands naming @named of the virtual IDs VID_BASE..VID_BASE + @ids - 1,
 * evenly spread over them, in a random order; with @named = 1, the last.
 */
void mock_cmds_fill(__u32 ids, __u32 named)
{
	int i;

	for (i = 0; i < MAX_BATCH; i++) {
		mock_cmds[i].flags = 0;
		mock_cmds[i].vdev_id = VID_BASE + (named > 1 ?
			(rnd() % named) * (ids / named) : ids - 1);
		mock_cmds[i].cache_id = i % MOCK_DEV_CACHE_NUM;
	}
}

struct op mock_op(__u32 viommu_id, __u32 num)
{
	struct op op = {
		.fn = invalidate, .what = "mock invalidation",
		.id = viommu_id, .num = num,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
		.entry_len = sizeof(mock_cmds[0]), .entries = mock_cmds,
	};
	return op;
}

/* ---- the SMMUv3 -------------------------------------------------------- */

vcmd_t smmu_cmds[MAX_BATCH];

/* The edu behind SMMU 0, nested: parent, vIOMMU, vSID. 0 or -errno. */
int smmu_setup(struct smmu_vm *vm)
{
	struct vmm_pci pci[4];
	int n = vmm_find_pci(0x1234, 0x11e8, pci, 4);

	if (n < 1)
		return n < 0 ? n : -ENODEV;
	if (vmm_dev_open(&vm->dev, &pci[0]) || vmm_dev_bind(&vm->dev, fd) ||
	    vmm_ioas_alloc(fd, &vm->ioas_id) ||
	    vmm_hwpt_alloc(fd, vm->dev.dev_id, vm->ioas_id,
			   IOMMU_HWPT_ALLOC_NEST_PARENT, IOMMU_HWPT_DATA_NONE,
			   NULL, 0, &vm->parent_id) ||
	    vmm_viommu_alloc(fd, vm->dev.dev_id, vm->parent_id,
			     IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
			     &vm->viommu_id) ||
	    vmm_viommu_set_dev_id(fd, vm->viommu_id, vm->dev.dev_id, VSID))
		return -errno;
	return 0;
}

struct op smmu_op(__u32 viommu_id, __u32 num)
{
	struct op op = {
		.fn = invalidate, .what = "SMMUv3 invalidation",
		.id = viommu_id, .num = num, .data_type = SMMU_INV_DATA,
		.entry_len = sizeof(smmu_cmds[0]), .entries = smmu_cmds,
	};
	return op;
}
