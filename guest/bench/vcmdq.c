// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the direct path. A TLBI_NH_VA + CMD_SYNC that the guest writes
 * into its Tegra241 VCMDQ and publishes with one write of PROD to the
 * mmapped VINTF page (then polls CONS), against the same TLBI_NH_VA
 * through IOMMU_HWPT_INVALIDATE (which ends it with a CMD_SYNC), on the
 * same SMMU in the same run, each timed against the floor right next to
 * it. The JSON's "vcmdq".
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "smmuv3.h"
#include "vcmdq.h"

#ifdef VMM_HAVE_HW_QUEUE
/*
 * A vIOMMU of type TEGRA241_CMDQV on the SMMU's parent, its VINTF page0
 * mapped, and queue 0 in a page of "guest RAM" mapped in the IOAS at
 * VCMDQ_IPA.
 */
#define VCMDQ_IPA	0x40000000ull

struct vcmdq_vm {
	struct iommu_viommu_tegra241_cmdqv data;
	__u32 viommu_id, hwq_id;
	void *page0, *ram;
	struct vcmdq q;
};

static int vcmdq_setup(struct smmu_vm *vm, struct vcmdq_vm *v)
{
	v->ram = aligned_alloc(4096, 4096);
	if (!v->ram)
		return -ENOMEM;
	memset(v->ram, 0, 4096);
	if (vmm_ioas_map(fd, vm->ioas_id, v->ram, 4096, VCMDQ_IPA,
			 IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE) ||
	    vmm_viommu_alloc(fd, vm->dev.dev_id, vm->parent_id,
			     IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, &v->data,
			     sizeof(v->data), &v->viommu_id))
		return -errno;
	v->page0 = vmm_iommufd_mmap(fd, v->data.out_vintf_mmap_offset,
				    v->data.out_vintf_mmap_length);
	if (!v->page0)
		return -errno;
	if (vmm_hw_queue_alloc(fd, v->viommu_id,
			       IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 0, VCMDQ_IPA,
			       4096, &v->hwq_id))
		return -errno;
	vcmdq_init(&v->q, v->page0, 0, v->ram, 8);
	return vcmdq_enable(&v->q);
}

static struct vcmdq_vm vcmdq_vm;

/* What a guest does to invalidate one page: no system call. */
static int vcmdq_tlbi(struct op *op)
{
	__le64 cmds[2][2];
	int ret;

	(void)op;
	smmu_cmd_tlbi_nh_va(cmds[0], 1, 0x123400200000ull, true);
	smmu_cmd_op(cmds[1], SMMU_CMD_SYNC);
	ret = vcmdq_submit(&vcmdq_vm.q, cmds, 2, NULL);
	if (ret)
		errno = -ret;
	return ret;
}

/* 1 if measured (b->vcmdq_*), 0 if not. */
int vcmdq(struct bench *b)
{
	struct op vq_op = { .fn = vcmdq_tlbi, .what = "VCMDQ TLBI" };
	struct op io_op = smmu_op(b->vm.viommu_id, 1);
	struct timing vq_t, io_t;
	int err = b->have_smmu ? vcmdq_setup(&b->vm, &vcmdq_vm) : b->smmu_err;
	bool ok;

	smmu_cmd_tlbi_nh_va(smmu_cmds[0].cmd, 1, 0x123400200000ull, true);
	ok = !err && !measure(&vq_op, &vq_t) && !measure(&io_op, &io_t);
	if (!ok) {
		fprintf(js, "\"vcmdq\": {\"status\": \"failed\"},\n");
		return 0;
	}
	b->vcmdq_ns = vq_t.ns;
	b->vcmdq_ioctl_ns = io_t.ns;
	b->vcmdq_ratio = vq_t.ratio / io_t.ratio;
	fprintf(js, "\"vcmdq\": {");
	json_num("ns", vq_t.ns, true);
	json_num("ratio_to_floor", vq_t.ratio, true);
	json_num("ioctl_ns", io_t.ns, true);
	json_num("ioctl_ratio_to_floor", io_t.ratio, true);
	json_num("ratio_to_ioctl", b->vcmdq_ratio, false);
	fprintf(js, "},\n");
	return 1;
}
#else
int vcmdq(struct bench *b)
{
	(void)b;
	fprintf(js, "\"vcmdq\": {\"status\": \"no HW queue uAPI\"},\n");
	return VCMDQ_NO_UAPI;
}
#endif
