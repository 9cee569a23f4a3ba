/* SPDX-License-Identifier: GPL-2.0 */
/*
 * e2e-nested: one VM, both SMMUs: a vIOMMU is a slice of one SMMU.
 *
 * Part of the e2e-nested program: main.c includes it (a part, not a
 * header to share).
 */

/*
 * One VM with the edu behind each SMMU bound to it: vd[i] behind SMMU i,
 * dev[i] its id, parent[i] a nesting parent of its SMMU; *@fd the VM's
 * iommufd.
 */
static void cross_setup(struct __test_metadata *_metadata, struct vm *vm,
			struct vm_dev *vd, __u32 *dev, __u32 *parent, int *fd)
{
	int i;

	vm_setup(_metadata, vm);
	*fd = vm->iommufd;
	for (i = 0; i < 2; i++) {
		vm_dev_bind(_metadata, &vd[i], i, *fd);
		dev[i] = vd[i].dev.dev_id;
		ASSERT_EQ(0, vmm_hwpt_alloc(*fd, dev[i], vm->ioas_id,
					    IOMMU_HWPT_ALLOC_NEST_PARENT,
					    IOMMU_HWPT_DATA_NONE, NULL, 0,
					    &parent[i]));
	}
}

/*
 * A vIOMMU is a slice of one physical SMMU: a device behind the other
 * SMMU cannot get a vSID on it (EINVAL), nor can a vIOMMU be built on the
 * other SMMU's parent, nor a nested HWPT for the other's device. The vSID
 * namespaces are per vIOMMU: the same vSID on both is fine.
 */
TEST(cross_smmu_dev_id)
{
	struct vm vm;
	struct vm_dev vd[2] = {};
	__u32 parent[2], viommu[2], dev[2], id;
	struct vste vste;
	int i, fd;

	cross_setup(_metadata, &vm, vd, dev, parent, &fd);
	/* A parent of the other SMMU: EINVAL. */
	ASSERT_EQ(-EINVAL, vmm_viommu_alloc(fd, dev[0], parent[1],
					    IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
					    NULL, 0, &id));
	ASSERT_EQ(-EINVAL, vmm_viommu_alloc(fd, dev[1], parent[0],
					    IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
					    NULL, 0, &id));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, vmm_viommu_alloc(fd, dev[i], parent[i],
					      IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
					      NULL, 0, &viommu[i]));
	ASSERT_NE(viommu[0], viommu[1]);

	/* The point of the design: no vSID across SMMUs. */
	ASSERT_EQ(-EINVAL, vmm_viommu_set_dev_id(fd, viommu[0], dev[1],
						 VSID_BASE + 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-EINVAL, vmm_viommu_set_dev_id(fd, viommu[1], dev[0],
						 VSID_BASE));
	ASSERT_EQ(EINVAL, errno);
	/* Nor a nested HWPT of one SMMU for the other's device. */
	smmu_ste_cfg(vste.ste, SMMU_STE_0_CFG_ABORT);
	ASSERT_EQ(-EINVAL, vmm_hwpt_alloc(fd, dev[1], viommu[0], 0,
					  VSMMU_HWPT_DATA, &vste,
					  sizeof(vste), &id));

	/* Each on its own: fine, even with the same vSID. */
	ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu[0], dev[0], VSID_BASE));
	ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu[1], dev[1], VSID_BASE));
	/* A device has one vSID at a time, on any vIOMMU. */
	ASSERT_EQ(-EEXIST, vmm_viommu_set_dev_id(fd, viommu[0], dev[0],
						 VSID_BASE + 2));

	/* Closing the cdevs drops the vSIDs: the vIOMMUs can go. */
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, viommu[0]));
	for (i = 0; i < 2; i++)
		vm_dev_teardown(&vd[i]);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vmm_destroy(fd, viommu[i]));
		ASSERT_EQ(0, vmm_destroy(fd, parent[i]));
	}
	close(fd);
}

/*
 * The same slice rule through mainline's door: IOMMU_VDEVICE_ALLOC of a
 * device behind the other SMMU is EINVAL and leaves nothing (the device
 * then gets its vSID on its own vIOMMU); unknown ids are ENOENT; the ID
 * namespaces are per vIOMMU. A vDEVICE holds its vIOMMU (EBUSY), its
 * DESTROY frees the ID for another device, and unbinding the device
 * destroys it (its id then ENOENT).
 */
TEST(cross_smmu_vdevice)
{
	struct vm vm;
	struct vm_dev vd[2] = {};
	__u32 parent[2], viommu[2], dev[2], vdev[2], id;
	int i, fd;

	cross_setup(_metadata, &vm, vd, dev, parent, &fd);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, vmm_viommu_alloc(fd, dev[i], parent[i],
					      IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
					      NULL, 0, &viommu[i]));
	ASSERT_EQ(-EINVAL, vmm_vdevice_alloc(fd, viommu[0], dev[1],
					     VSID_VDEV_BASE + 1, &id));
	ASSERT_EQ(-EINVAL, vmm_vdevice_alloc(fd, viommu[1], dev[0],
					     VSID_VDEV_BASE, &id));
	ASSERT_EQ(-ENOENT, vmm_vdevice_alloc(fd, 0xfffff, dev[0],
					     VSID_VDEV_BASE, &id));
	ASSERT_EQ(-ENOENT, vmm_vdevice_alloc(fd, viommu[0], 0xfffff,
					     VSID_VDEV_BASE, &id));
	/* A device id is not a vIOMMU, nor the other way round. */
	ASSERT_EQ(-ENOENT, vmm_vdevice_alloc(fd, dev[0], dev[0],
					     VSID_VDEV_BASE, &id));
	ASSERT_EQ(-ENOENT, vmm_vdevice_alloc(fd, viommu[0], viommu[0],
					     VSID_VDEV_BASE, &id));
	/* The same vSID on both vIOMMUs: fine. */
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, vmm_vdevice_alloc(fd, viommu[i], dev[i],
					       VSID_VDEV_BASE, &vdev[i]));
	ASSERT_NE(vdev[0], vdev[1]);
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, viommu[0]));
	/* Destroyed, the ID is free again (here for the same device). */
	ASSERT_EQ(0, vmm_vdevice_destroy(fd, vdev[0]));
	ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu[0], dev[0],
					   VSID_VDEV_BASE));
	ASSERT_EQ(0, vmm_viommu_unset_dev_id(fd, viommu[0], dev[0],
					     VSID_VDEV_BASE));
	/* Unbinding destroys the vDEVICE: its id is gone, the vIOMMU free. */
	vm_dev_teardown(&vd[1]);
	ASSERT_EQ(-ENOENT, vmm_vdevice_destroy(fd, vdev[1]));
	ASSERT_EQ(0, vmm_destroy(fd, viommu[1]));
	ASSERT_EQ(0, vmm_destroy(fd, parent[1]));
	vm_dev_teardown(&vd[0]);
	ASSERT_EQ(0, vmm_destroy(fd, viommu[0]));
	close(fd);
}

/*
 * One VM, two vSMMUs (one per physical SMMU, each its own vIOMMU, parent,
 * CD and stage-1 tables, all in the same guest RAM), both devices doing
 * nested DMA at once: each lands in its own pages. Then both remap; an
 * invalidation on one vIOMMU reaches only its SMMU: that device sees the
 * new page, the other the old one until its own vIOMMU is told. A vSID of
 * one vIOMMU means nothing on the other (EIO). With the vSIDs given by
 * SET_DEV_ID or by VDEVICE_ALLOC (@vdevice).
 */
static void two_viommus(struct __test_metadata *_metadata, bool vdevice)
{
	struct two_nests t;
	struct nest *n = t.n;
	vcmd_t cmd;
	__u32 done;
	int i;

	two_nests_setup(_metadata, &t, vdevice, 0, 30);
	dma_copy_both(_metadata, (struct edu *[]){ &n[0].vd.edu, &n[1].vd.edu },
		      (const __u64[]){ VA_SRC, VA_SRC },
		      (const __u64[]){ VA_DST, VA_DST }, PAGE);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(-1, pattern_diff(hva(&t.vm.ram, t.src[i]),
					   hva(&t.vm.ram, t.dst[i]), PAGE)) {
			TH_LOG("device %s", n[i].vd.dev.pci.bdf);
		}
	}

	/* Both guests move VA_DST; only vIOMMU 0 is told. */
	two_nests_remap(_metadata, &t);
	smmu_cmd_tlbi_nh_va(cmd.cmd, n[0].g.asid, VA_DST, true);
	forward1(_metadata, t.vm.iommufd, &n[0], &cmd);
	two_nests_copy(_metadata, &t, 0, seed_of(_metadata, 0, 33),
		       t.dst2[0], "vIOMMU 0's TLBI did not reach SMMU 0");
	two_nests_copy(_metadata, &t, 1, seed_of(_metadata, 1, 33), t.dst[1],
		       "SMMU 1 dropped its entry on vIOMMU 0's TLBI");
	/* vIOMMU 1's vSID names nothing on vIOMMU 0. */
	smmu_cmd_cfgi_cd(cmd.cmd, n[1].g.vsid, 0, true);
	ASSERT_EQ(-EIO, forward(t.vm.iommufd, &n[0], &cmd, 1, &done));
	ASSERT_EQ(0u, done);
	/* Now vIOMMU 1. */
	smmu_cmd_tlbi_nh_va(cmd.cmd, n[1].g.asid, VA_DST, true);
	forward1(_metadata, t.vm.iommufd, &n[1], &cmd);
	two_nests_copy(_metadata, &t, 1, seed_of(_metadata, 1, 34),
		       t.dst2[1], "vIOMMU 1's TLBI did not reach SMMU 1");
	two_nests_teardown(&t);
}

TEST(two_viommus_dma)
{
	two_viommus(_metadata, false);
}

TEST(two_viommus_dma_vdevice)
{
	two_viommus(_metadata, true);
}
