// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the two shapes of a VM behind two physical SMMUs, as a guest
 * TLBI_NH_VA + CMD_SYNC costs the VMM that traps it, in the same run:
 *
 *  per SMMU   one vSMMU per physical SMMU (lib/vmm.h, viommu-demo, QEMU
 *             11.1): the command goes to the vIOMMU of its vSMMU, one
 *             IOMMU_HWPT_INVALIDATE (which the kernel ends with a
 *             CMD_SYNC, so the guest's CMD_SYNC is then complete);
 *  one vSMMU  one vSMMU over both SMMUs (lib/vsmmu1.[ch]): the guest's
 *             TLBI names an ASID of its one ASID space, so the layer
 *             broadcasts it, one call per vIOMMU (2), and completes the
 *             CMD_SYNC when both returned;
 *  layer, 1   the layer over SMMU 0's vIOMMU alone: its own cost, without
 *             the second call.
 *
 * Each against the floor next to it; the JSON's "onevsmmu".
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "bench.h"
#include "smmuv3.h"
#include "vsmmu1.h"

#ifdef VSMMU1_HAVE
#define ONE_VA		0x123400200000ull

static struct vsmmu1 one_v, layer_v;
static struct vmm_dev dev1 = { .fd = -1 };
static __le64 tlbi_sync[2][2];

static int one_tlbi(struct op *op)
{
	struct vsmmu1 *v = op->entries == &one_v ? &one_v : &layer_v;
	struct vsmmu1_result res;
	int ret = vsmmu1_issue(v, tlbi_sync, 2, &res);

	if (!ret && (res.syncs != 1 || res.calls != (__u32)v->nr_viommus)) {
		errno = EPROTO;
		return -1;
	}
	return ret ? -1 : 0;
}

/*
 * The edu behind SMMU 1 bound to the bench's iommufd, and the layer over
 * the vIOMMU of the trap rows (SMMU 0, its edu at VSID) and a vIOMMU the
 * layer makes on SMMU 1 over a parent of its own on the same IOAS.
 */
static int one_setup(struct smmu_vm *vm)
{
	struct vmm_pci pci[4];
	int n = vmm_find_pci(0x1234, 0x11e8, pci, 4), idx;

	if (n < 0)
		return n;
	if (n > 4 || vmm_pci_per_iommu(pci, n) < 2)
		return -ENODEV;
	if (vmm_dev_open(&dev1, &pci[1]) || vmm_dev_bind(&dev1, fd))
		return -errno;
	vsmmu1_init(&one_v, fd, vm->ioas_id);
	vsmmu1_init(&layer_v, fd, vm->ioas_id);
	if (vsmmu1_add_viommu(&one_v, vm->dev.pci.iommu, vm->viommu_id) ||
	    vsmmu1_record_dev(&one_v, 0, vm->dev.dev_id, VSID) ||
	    vsmmu1_add_dev(&one_v, &dev1, VSID + 1, &idx) ||
	    vsmmu1_add_viommu(&layer_v, vm->dev.pci.iommu, vm->viommu_id) ||
	    vsmmu1_record_dev(&layer_v, 0, vm->dev.dev_id, VSID))
		return -errno;
	if (idx != 1 || one_v.nr_viommus != 2)
		return -EPROTO;
	smmu_cmd_tlbi_nh_va(tlbi_sync[0], 1, ONE_VA, true);
	smmu_cmd_op(tlbi_sync[1], SMMU_CMD_SYNC);
	return 0;
}

bool onevsmmu(struct bench *b)
{
	struct op one_op = { .fn = one_tlbi, .what = "one vSMMU TLBI",
			     .entries = &one_v };
	struct op layer_op = { .fn = one_tlbi, .what = "layer, 1 vIOMMU",
			       .entries = &layer_v };
	struct op per_op = smmu_op(b->vm.viommu_id, 1);
	struct timing one_t, layer_t, per_t;
	__u64 calls1;
	int err = b->have_smmu ? one_setup(&b->vm) : b->smmu_err;
	bool ok;

	b->one_err = err;
	smmu_cmd_tlbi_nh_va(smmu_cmds[0].cmd, 1, ONE_VA, true);
	calls1 = one_v.viommu[1].calls;
	ok = !err && !measure(&per_op, &per_t) && !measure(&one_op, &one_t) &&
	     !measure(&layer_op, &layer_t);
	/* The broadcast did reach SMMU 1's vIOMMU, once per guest TLBI. */
	ok = ok && one_v.viommu[1].calls > calls1 &&
	     one_v.viommu[1].calls == one_v.viommu[0].calls &&
	     one_v.viommu[1].cmds == one_v.viommu[1].calls;
	if (!ok) {
		/* measure() said why; a missed broadcast is EPROTO. */
		if (!b->one_err)
			b->one_err = -EPROTO;
		fprintf(js, "\"onevsmmu\": {\"status\": \"failed\"},\n");
		return false;
	}
	b->one_ns = one_t.ns;
	b->per_smmu_ns = per_t.ns;
	b->layer1_ns = layer_t.ns;
	b->one_per_smmu = one_t.ratio / per_t.ratio;
	fprintf(js, "\"onevsmmu\": {\"viommus\": 2, ");
	json_num("per_smmu_ns", per_t.ns, true);
	json_num("per_smmu_ratio_to_floor", per_t.ratio, true);
	json_num("one_vsmmu_ns", one_t.ns, true);
	json_num("one_vsmmu_ratio_to_floor", one_t.ratio, true);
	json_num("layer_1_ns", layer_t.ns, true);
	json_num("layer_1_ratio_to_floor", layer_t.ratio, true);
	json_num("one_vsmmu_to_per_smmu", b->one_per_smmu, true);
	json_num("layer_1_to_per_smmu", layer_t.ratio / per_t.ratio, false);
	fprintf(js, "},\n");
	return true;
}
#else
bool onevsmmu(struct bench *b)
{
	b->one_err = -EOPNOTSUPP;
	fprintf(js, "\"onevsmmu\": {\"status\": \"no vIOMMU uAPI\"},\n");
	return false;
}
#endif
