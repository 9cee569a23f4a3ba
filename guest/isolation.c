// SPDX-License-Identifier: GPL-2.0
/*
 * isolation: two VMs on one physical SMMU must not reach each other.
 *
 * Two iommufd contexts play two VMs, A and B, each with the VMM's usual
 * nested set-up (IOAS, nesting parent, vIOMMU, SET_DEV_ID, nested HWPT,
 * attach) for its own edu, both edus behind SMMU 0 of the dual topology
 * (0000:00:01.0, StreamID 0x8, for A; 0000:00:05.0, StreamID 0x28, for B).
 * Each VM has its own stage 2, so its own VMID.
 *
 *  - Both guests may use the same vSID: the namespaces are per vIOMMU.
 *  - A cannot name B's objects: B's device and vIOMMU ids mean nothing in
 *    A's context (ENOENT), and A cannot bind B's VFIO cdev.
 *  - A guest command naming a vSID of the other VM fails with EIO and
 *    nothing of it is issued (entry_num stops there).
 *  - What reaches the SMMU: each VM issues its invalidations between two
 *    marker commands (TLBI_NH_VA of a fixed address, see MARK_*), with
 *    VMIDs the guest made up, among them small ones a host hands out
 *    first. scripts/check-isolation.sh reads the QEMU trace: inside A's
 *    windows every command carries A's VMID and A's physical SID only,
 *    inside B's windows B's, and the two VMIDs differ.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "edu.h"
#include "edutest.h"
#include "smmuv3.h"
#include "vmm.h"

#ifndef VMM_HAVE_VIOMMU
#include <kselftest.h>

int main(void)
{
	ksft_print_header();
	ksft_exit_skip("no vIOMMU uAPI (IOMMU_VIOMMU_SET_DEV_ID) in the headers\n");
}
#else

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <kselftest_harness.h>

#define VSID_SHARED	0x42	/* both guests use it for their device */
#define VSID_B		0x43	/* B's device, after B renames it */
#define CD_IPA		0x40000000ull

/*
 * Marker commands that open and close a VM's window in the trace
 * (TLBI_NH_VA, ASID 0, these addresses); scripts/check-isolation.sh knows
 * them.
 */
#define MARK_A_OPEN	0x0000a11a00000000ull
#define MARK_A_CLOSE	0x0000a11a00001000ull
#define MARK_B_OPEN	0x0000b11b00000000ull
#define MARK_B_CLOSE	0x0000b11b00001000ull

#define SMMU_INV_DATA	1u	/* IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 */
#define SMMU_HWPT_DATA	2u	/* IOMMU_HWPT_DATA_ARM_SMMUV3 */

struct vm {
	int fd;
	struct vmm_dev dev;
	__u32 ioas, parent, viommu, nested;
	__u32 vsid;
};

/*
 * One VM: @extra IOASes first, so that the two contexts' ids differ and
 * an id of one names nothing (or something else) in the other.
 */
static void vm_setup(struct __test_metadata *_metadata, struct vm *vm,
		     const struct vmm_pci *pci, int extra, __u32 vsid)
{
	__le64 ste[2];
	__u32 dummy;

	vm->fd = vmm_iommufd_open();
	ASSERT_LE(0, vm->fd);
	while (extra--)
		ASSERT_EQ(0, vmm_ioas_alloc(vm->fd, &dummy));
	ASSERT_EQ(0, vmm_ioas_alloc(vm->fd, &vm->ioas));
	ASSERT_EQ(0, vmm_dev_open(&vm->dev, pci));
	ASSERT_EQ(0, vmm_dev_bind(&vm->dev, vm->fd));
	ASSERT_EQ(0, vmm_viommu_create(vm->fd, vm->dev.dev_id, vm->ioas,
				       IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				       &vm->parent, &vm->viommu));
	ASSERT_EQ(0, vmm_viommu_set_dev_id(vm->fd, vm->viommu,
					   vm->dev.dev_id, vsid));
	vm->vsid = vsid;
	/* A stage-1 STE with one CD; no DMA runs, nothing fetches it */
	smmu_ste_s1(ste, CD_IPA);
	ASSERT_EQ(0, vmm_hwpt_alloc(vm->fd, vm->dev.dev_id, vm->viommu, 0,
				    SMMU_HWPT_DATA, ste, sizeof(ste),
				    &vm->nested));
	ASSERT_EQ(0, vmm_dev_attach(&vm->dev, vm->nested, NULL));
}

static void vm_teardown(struct vm *vm)
{
	vmm_dev_close(&vm->dev);
	if (vm->fd >= 0)
		close(vm->fd);
}

/* Forward @n commands of a guest; returns 0 or -errno, *@done set. */
static int vm_forward(struct vm *vm, __le64 (*cmds)[2], __u32 n, __u32 *done)
{
	*done = n;
	return vmm_viommu_invalidate(vm->fd, vm->viommu, SMMU_INV_DATA, cmds,
				     16, done);
}

static void mark(struct __test_metadata *_metadata, struct vm *vm, __u64 va)
{
	__le64 cmd[1][2];
	__u32 done;

	smmu_cmd_tlbi_nh_va(cmd[0], 0, va, false);
	ASSERT_EQ(0, vm_forward(vm, cmd, 1, &done));
	ASSERT_EQ(1u, done);
}

FIXTURE(two_vms) {
	struct vm a, b;
	struct vmm_pci pci[2];
};

FIXTURE_SETUP(two_vms)
{
	self->a.fd = self->b.fd = -1;
	self->a.dev.fd = self->b.dev.fd = -1;
	/* The two edus behind SMMU 0: pci[0] for A, pci[1] for B. */
	ASSERT_EQ(0, edutest_find_pair(self->pci)) {
		TH_LOG("needs two edus behind one SMMU (topology dual)");
	}
	/* Both guests name their device VSID_SHARED */
	vm_setup(_metadata, &self->a, &self->pci[0], 0, VSID_SHARED);
	vm_setup(_metadata, &self->b, &self->pci[1], 3, VSID_SHARED);
	TH_LOG("A: %s dev %u vIOMMU %u; B: %s dev %u vIOMMU %u",
	       self->pci[0].bdf, self->a.dev.dev_id, self->a.viommu,
	       self->pci[1].bdf, self->b.dev.dev_id, self->b.viommu);
	ASSERT_NE(self->a.dev.dev_id, self->b.dev.dev_id);
	ASSERT_NE(self->a.viommu, self->b.viommu);
}

FIXTURE_TEARDOWN(two_vms)
{
	vm_teardown(&self->a);
	vm_teardown(&self->b);
}

/* The same vSID in both VMs: each vIOMMU has its own namespace. */
TEST_F(two_vms, same_vsid_two_vms)
{
	__le64 cmd[1][2];
	__u32 done;

	smmu_cmd_cfgi_cd(cmd[0], VSID_SHARED, 0, true);
	ASSERT_EQ(0, vm_forward(&self->a, cmd, 1, &done));
	ASSERT_EQ(1u, done);
	ASSERT_EQ(0, vm_forward(&self->b, cmd, 1, &done));
	ASSERT_EQ(1u, done);
}

/* B's ids name nothing of B's in A's context. */
TEST_F(two_vms, foreign_ids)
{
	struct vm *a = &self->a, *b = &self->b;

	/* B's device id in A's context: ENOENT, A has no such device */
	ASSERT_EQ(-ENOENT, vmm_viommu_set_dev_id(a->fd, a->viommu,
						 b->dev.dev_id, 0x50));
	ASSERT_EQ(-ENOENT, vmm_viommu_unset_dev_id(a->fd, a->viommu,
						   b->dev.dev_id,
						   VSID_SHARED));
	/* B's vIOMMU id in A's context is no vIOMMU of A */
	ASSERT_EQ(-ENOENT, vmm_viommu_set_dev_id(a->fd, b->viommu,
						 a->dev.dev_id, 0x50));
	/* A's device keeps its one vSID, B's is untouched */
	ASSERT_EQ(-EEXIST, vmm_viommu_set_dev_id(a->fd, a->viommu,
						 a->dev.dev_id, 0x51));
	ASSERT_EQ(-EBUSY, vmm_viommu_unset_dev_id(b->fd, b->viommu,
						  b->dev.dev_id, VSID_SHARED));
}

/* A cannot take B's device: its cdev is bound to B's iommufd. */
TEST_F(two_vms, foreign_cdev)
{
	struct vmm_dev other;
	__le64 cmd[1][2];
	__u32 done;
	int ret;

	ret = vmm_dev_open(&other, &self->pci[1]);
	if (!ret) {
		ret = vmm_dev_bind(&other, self->a.fd);
		TH_LOG("bind B's device to A: %s", strerror(-ret));
	} else {
		TH_LOG("open B's device for A: %s", strerror(-ret));
	}
	vmm_dev_close(&other);
	/* VFIO: a device opened through one cdev fd cannot be bound again */
	ASSERT_EQ(-EINVAL, ret);
	/* And B still owns it: B's vSID still resolves */
	smmu_cmd_cfgi_cd(cmd[0], VSID_SHARED, 0, true);
	ASSERT_EQ(0, vm_forward(&self->b, cmd, 1, &done));
	ASSERT_EQ(1u, done);
}

/*
 * The commands that show up in the trace: each VM's window, and in it
 * commands with guest-made VMIDs and vSIDs of both VMs. B renames its
 * device to VSID_B first, so the one vSID A lacks is B's.
 */
TEST_F(two_vms, windows)
{
	struct vm *a = &self->a, *b = &self->b;
	__le64 cmds[8][2];
	__u32 done;
	int round;

	/* B renames its device: detach, UNSET, SET, attach again */
	ASSERT_EQ(0, vmm_dev_detach(&b->dev));
	ASSERT_EQ(0, vmm_viommu_unset_dev_id(b->fd, b->viommu, b->dev.dev_id,
					     VSID_SHARED));
	ASSERT_EQ(0, vmm_viommu_set_dev_id(b->fd, b->viommu, b->dev.dev_id,
					   VSID_B));
	ASSERT_EQ(0, vmm_dev_attach(&b->dev, b->nested, NULL));

	for (round = 0; round < 2; round++) {
		struct vm *vm = round ? b : a;
		__u32 own = round ? VSID_B : VSID_SHARED;
		__u32 other = round ? VSID_SHARED : VSID_B;
		__u64 vmid;

		mark(_metadata, vm, round ? MARK_B_OPEN : MARK_A_OPEN);
		/*
		 * The guest's TLBIs carry VMIDs it made up (1..6 are what a
		 * host allocator hands out first): all replaced.
		 */
		for (vmid = 0; vmid < 6; vmid++) {
			smmu_cmd_tlbi_nh_asid(cmds[0], 1 + round);
			cmds[0][0] |= SMMU_FIELD(SMMU_CMD_0_VMID, vmid + 1);
			smmu_cmd_tlbi_nh_va(cmds[1], 1 + round, 0x1000 * vmid, true);
			cmds[1][0] |= SMMU_FIELD(SMMU_CMD_0_VMID, vmid + 1);
			smmu_cmd_tlbi_nh_all(cmds[2]);
			cmds[2][0] |= SMMU_FIELD(SMMU_CMD_0_VMID, vmid + 1);
			smmu_cmd_op(cmds[3], SMMU_CMD_TLBI_NSNH_ALL);
			smmu_cmd_cfgi_cd(cmds[4], own, 0, true);
			smmu_cmd_cfgi_cd_all(cmds[5], own);
			ASSERT_EQ(0, vm_forward(vm, cmds, 6, &done));
			ASSERT_EQ(6u, done);
		}
		/* The other VM's vSID: EIO there, the entry before went out */
		smmu_cmd_cfgi_cd(cmds[0], own, 0, true);
		smmu_cmd_cfgi_cd(cmds[1], other, 0, true);
		smmu_cmd_cfgi_cd_all(cmds[2], own);
		ASSERT_EQ(-EIO, vm_forward(vm, cmds, 3, &done));
		ASSERT_EQ(1u, done);
		smmu_cmd_cfgi_cd_all(cmds[0], other);
		ASSERT_EQ(-EIO, vm_forward(vm, cmds, 1, &done));
		ASSERT_EQ(0u, done);
		mark(_metadata, vm, round ? MARK_B_CLOSE : MARK_A_CLOSE);
	}
}

TEST_HARNESS_MAIN
#endif
