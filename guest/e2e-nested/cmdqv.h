/* SPDX-License-Identifier: GPL-2.0 */
/*
 * e2e-nested: the direct path, a Tegra241 VCMDQ the guest drives.
 *
 * Part of the e2e-nested program: main.c includes it (a part, not a
 * header to share).
 */

#ifdef VMM_HAVE_HW_QUEUE
/* ---- the direct path: a Tegra241 VCMDQ the guest drives -------------- */

/*
 * The guest's queue: 256 commands, one page of its RAM (physically
 * contiguous and aligned to its size, as the hardware wants).
 */
#define VCMDQ_LOG2	8

/* A guest ATC_INV of vSID @vsid, the whole ATC of the stream. */
static void cmd_atc_inv(__le64 cmd[2], __u32 vsid)
{
	cmd[0] = htole64(SMMU_CMD_ATC_INV | SMMU_FIELD(SMMU_CMD_0_SID, vsid));
	cmd[1] = htole64(52);	/* SIZE: 2^52 pages from address 0 */
}

/* What the VMM does for a guest VCMDQ, and the guest's view of it. */
struct vq {
	void *page0;			/* the VINTF page0, mapped */
	__u32 hwq_id;
	__u64 q_ipa;			/* the queue memory, in guest RAM */
	struct vcmdq q;
};

/*
 * The VMM maps the VINTF page of tegra241 vIOMMU @n and gives the guest
 * logical queue @index in a page of @ram; the guest enables it.
 */
static void vq_setup(struct __test_metadata *_metadata, struct vq *vq,
		     struct nest *n, int iommufd, struct smmu_guest_ram *ram,
		     unsigned int index)
{
	ASSERT_EQ(VCMDQ_PAGE0_SIZE, n->cmdqv.out_vintf_mmap_length);
	vq->page0 = vmm_iommufd_mmap(iommufd, n->cmdqv.out_vintf_mmap_offset,
				     n->cmdqv.out_vintf_mmap_length);
	ASSERT_NE(NULL, vq->page0) {
		TH_LOG("mmap VINTF page0: %s", strerror(errno));
	}
	vq->q_ipa = smmu_ram_alloc(ram);
	ASSERT_NE(0ull, vq->q_ipa);
	ASSERT_EQ(0, vmm_hw_queue_alloc(iommufd, n->viommu_id,
					IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					index, vq->q_ipa,
					VCMDQ_ENT_SIZE << VCMDQ_LOG2,
					&vq->hwq_id)) {
		TH_LOG("HW queue: %s", strerror(errno));
	}
	vcmdq_init(&vq->q, vq->page0, index, hva(ram, vq->q_ipa), VCMDQ_LOG2);
	ASSERT_EQ(0, vcmdq_enable(&vq->q));
}

/* The guest invalidates VA @va of @asid through its VCMDQ: no ioctl. */
static void vq_tlbi_va(struct __test_metadata *_metadata, struct vq *vq,
		       __u16 asid, __u64 va)
{
	__le64 cmds[2][2];

	smmu_cmd_tlbi_nh_va(cmds[0], asid, va, true);
	smmu_cmd_op(cmds[1], SMMU_CMD_SYNC);
	ASSERT_EQ(0, vcmdq_submit(&vq->q, cmds, 2, NULL)) {
		TH_LOG("VCMDQ: CONS error %u", vcmdq_cons_err(&vq->q));
	}
}

FIXTURE(vcmdq) {
	struct vm vm;
	struct nest n;
	struct vq vq;
	__u64 src, dst, dst2;
};

/*
 * On both SMMUs; the vSID (and so the VINTF's SID_MATCH/SID_REPLACE pair)
 * given by SET_DEV_ID or by VDEVICE_ALLOC.
 */
FIXTURE_VARIANT(vcmdq) {
	int smmu;
	bool vdevice;
};

FIXTURE_VARIANT_ADD(vcmdq, smmu0) {
	.smmu = 0,
};

FIXTURE_VARIANT_ADD(vcmdq, smmu1) {
	.smmu = 1,
};

FIXTURE_VARIANT_ADD(vcmdq, smmu0_vdevice) {
	.smmu = 0,
	.vdevice = true,
};

FIXTURE_VARIANT_ADD(vcmdq, smmu1_vdevice) {
	.smmu = 1,
	.vdevice = true,
};

FIXTURE_SETUP(vcmdq)
{
	struct smmu_guest_ram *ram = &self->vm.ram;
	int smmu = variant->smmu;

	self->n.vd.dev.fd = -1;
	vm_setup(_metadata, &self->vm);
	self->n.viommu_type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV;
	self->n.use_vdevice = variant->vdevice;
	nest_setup(_metadata, &self->n, smmu, self->vm.iommufd,
		   self->vm.ioas_id, ram, vsid_of(smmu, variant->vdevice));
	vq_setup(_metadata, &self->vq, &self->n, self->vm.iommufd, ram, 0);

	self->src = guest_page(_metadata, ram, seed_of(_metadata, smmu, 40));
	self->dst = guest_page(_metadata, ram, seed_of(_metadata, smmu, 41));
	self->dst2 = guest_page(_metadata, ram, seed_of(_metadata, smmu, 42));
	ASSERT_EQ(0, smmu_s1_map(&self->n.g.s1, VA_SRC, self->src,
				 SMMU_PROT_READ));
	ASSERT_EQ(0, smmu_s1_map(&self->n.g.s1, VA_DST, self->dst,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
}

FIXTURE_TEARDOWN(vcmdq)
{
	vm_dev_teardown(&self->n.vd);
	/* The mapping holds the iommufd: unmap, then close destroys all. */
	if (self->vq.page0)
		munmap(self->vq.page0, VCMDQ_PAGE0_SIZE);
	if (self->vm.iommufd >= 0)
		close(self->vm.iommufd);
}

#define VPG(ipa)	((__u8 *)hva(&self->vm.ram, (ipa)))

/* DMA VA_SRC -> VA_DST with a fresh pattern; where did it land? */
static void vq_copy(struct __test_metadata *_metadata,
		    FIXTURE_DATA(vcmdq) *self, __u32 seed)
{
	pattern_fill(VPG(self->src), PAGE, seed);
	dma_copy(_metadata, &self->n.vd.edu, VA_SRC, VA_DST, PAGE);
}

/*
 * The point of the design: the guest changes its stage 1 and invalidates
 * through its own VCMDQ, with no ioctl and no VM exit, and the device sees
 * the change; before the invalidation it does not (the SMMU's TLB still
 * holds the old translation), so the command reached this very SMMU.
 */
TEST_F(vcmdq, stale_then_fresh)
{
	int smmu = variant->smmu;

	vq_copy(_metadata, self, seed_of(_metadata, smmu, 43));
	ASSERT_EQ(-1, pattern_diff(VPG(self->src), VPG(self->dst), PAGE));

	/* The guest moves VA_DST and says nothing yet: stale. */
	ASSERT_EQ(0, smmu_s1_map(&self->n.g.s1, VA_DST, self->dst2,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
	vq_copy(_metadata, self, seed_of(_metadata, smmu, 44));
	ASSERT_EQ(-1, pattern_diff(VPG(self->src), VPG(self->dst), PAGE)) {
		TH_LOG("no stale entry: the SMMU cached nothing");
	}
	ASSERT_NE(-1, pattern_diff(VPG(self->src), VPG(self->dst2), PAGE));

	/* TLBI_NH_VA + CMD_SYNC through the VCMDQ: fresh. */
	vq_tlbi_va(_metadata, &self->vq, self->n.g.asid, VA_DST);
	vq_copy(_metadata, self, seed_of(_metadata, smmu, 45));
	ASSERT_EQ(-1, pattern_diff(VPG(self->src), VPG(self->dst2), PAGE));
	ASSERT_FALSE(vcmdq_error_pending(&self->vq.q));
}

/*
 * A command a guest queue may not issue stops the queue at that command
 * with CERROR_ILL, which the guest (and its VMM) read in the mapped page,
 * and does not reach the SMMU: a refused TLBI_NH_ALL leaves the stale
 * entry in place. The guest acknowledges it and the queue goes on.
 */
TEST_F(vcmdq, forbidden_command)
{
	static const unsigned int forbidden[] = {
		SMMU_CMD_TLBI_NH_ALL, SMMU_CMD_CFGI_STE, SMMU_CMD_CFGI_ALL,
		SMMU_CMD_TLBI_S12_VMALL, SMMU_CMD_TLBI_NSNH_ALL,
		SMMU_CMD_TLBI_EL2_ALL, SMMU_CMD_PREFETCH_CFG,
	};
	int smmu = variant->smmu;
	__le64 cmds[3][2];
	unsigned int i, at = 99;

	vq_copy(_metadata, self, seed_of(_metadata, smmu, 46));
	ASSERT_EQ(0, smmu_s1_map(&self->n.g.s1, VA_DST, self->dst2,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		smmu_cmd_op(cmds[0], SMMU_CMD_SYNC);
		smmu_cmd_op(cmds[1], forbidden[i]);
		if (forbidden[i] == SMMU_CMD_CFGI_STE)
			smmu_cmd_cfgi_ste(cmds[1], self->n.g.vsid, true);
		smmu_cmd_op(cmds[2], SMMU_CMD_SYNC);
		ASSERT_EQ(-EIO, vcmdq_submit(&self->vq.q, cmds, 3, &at)) {
			TH_LOG("opcode 0x%02x was accepted", forbidden[i]);
		}
		ASSERT_EQ(1u, at);
		ASSERT_EQ(VCMDQ_CERROR_ILL, vcmdq_cons_err(&self->vq.q));
		ASSERT_TRUE(vcmdq_error_pending(&self->vq.q));
		ASSERT_EQ(0, vcmdq_ack_error(&self->vq.q));
		ASSERT_FALSE(vcmdq_error_pending(&self->vq.q));
	}
	/* Nothing invalidated VA_DST: still the old page. */
	vq_copy(_metadata, self, seed_of(_metadata, smmu, 47));
	ASSERT_EQ(-1, pattern_diff(VPG(self->src), VPG(self->dst), PAGE)) {
		TH_LOG("a refused command invalidated the TLB");
	}
	/* The queue works again. */
	vq_tlbi_va(_metadata, &self->vq, self->n.g.asid, VA_DST);
	vq_copy(_metadata, self, seed_of(_metadata, smmu, 48));
	ASSERT_EQ(-1, pattern_diff(VPG(self->src), VPG(self->dst2), PAGE));
}

/*
 * The hardware replaces only the vSIDs SET_DEV_ID or VDEVICE_ALLOC gave a
 * SID_MATCH pair: an ATC_INV of the device's vSID is accepted (and reaches
 * the SMMU with the physical SID, which the host trace check verifies),
 * one of a vSID no device has is refused, also after the device's vSID
 * was unset (or its vDEVICE destroyed).
 */
TEST_F(vcmdq, unknown_vsid)
{
	__u32 vsid = self->n.g.vsid;
	int fd = self->vm.iommufd;
	__le64 cmds[2][2];
	unsigned int at = 99;

	cmd_atc_inv(cmds[0], vsid);
	smmu_cmd_op(cmds[1], SMMU_CMD_SYNC);
	ASSERT_EQ(0, vcmdq_submit(&self->vq.q, cmds, 2, NULL));

	cmd_atc_inv(cmds[0], 0x777);
	ASSERT_EQ(-EIO, vcmdq_submit(&self->vq.q, cmds, 2, &at));
	ASSERT_EQ(0u, at);
	ASSERT_EQ(VCMDQ_CERROR_ILL, vcmdq_cons_err(&self->vq.q));
	ASSERT_EQ(0, vcmdq_ack_error(&self->vq.q));

	/* Unset (after detaching the nested HWPT): the pair is gone. */
	ASSERT_EQ(0, vmm_dev_attach(&self->n.vd.dev, self->n.parent_id, NULL));
	ASSERT_EQ(0, nest_drop_id(fd, &self->n, vsid));
	cmd_atc_inv(cmds[0], vsid);
	ASSERT_EQ(-EIO, vcmdq_submit(&self->vq.q, cmds, 2, &at));
	ASSERT_EQ(0u, at);
	ASSERT_EQ(0, vcmdq_ack_error(&self->vq.q));
	/* And set again: the pair is back. */
	ASSERT_EQ(0, nest_give_id(fd, &self->n, vsid));
	ASSERT_EQ(0, vcmdq_submit(&self->vq.q, cmds, 2, NULL));

	/* Unbinding the device (closing its cdev) frees the pair too. */
	vm_dev_teardown(&self->n.vd);
	ASSERT_EQ(-EIO, vcmdq_submit(&self->vq.q, cmds, 2, &at));
	ASSERT_EQ(0u, at);
	ASSERT_EQ(VCMDQ_CERROR_ILL, vcmdq_cons_err(&self->vq.q));
	ASSERT_EQ(0, vcmdq_ack_error(&self->vq.q));
}

/*
 * The VMM's side on real hardware: the page maps only with its pair, the
 * vIOMMU stays while it is mapped or has queues, queues come in order, are
 * the hardware's shape, and keep their memory mapped and pinned.
 */
TEST_F(vcmdq, vmm_rules)
{
	struct nest *n = &self->n;
	int fd = self->vm.iommufd;
	__u64 q2 = smmu_ram_alloc(&self->vm.ram), q3;
	/*
	 * Not the page's length: a part of it (one host page) where host
	 * pages are smaller; where page0 is one host page (64 KiB pages)
	 * mmap() cannot ask for less, so more (two host pages).
	 */
	size_t part = HPAGE < VCMDQ_PAGE0_SIZE ? HPAGE : 2 * HPAGE;
	__u32 id;

	ASSERT_EQ(MAP_FAILED, mmap(NULL, part, PROT_READ, MAP_SHARED, fd,
				   n->cmdqv.out_vintf_mmap_offset));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, VCMDQ_PAGE0_SIZE, PROT_READ,
				   MAP_PRIVATE, fd,
				   n->cmdqv.out_vintf_mmap_offset));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, n->viommu_id));

	/* In index order: 2 before 1 is EINVAL, 0 is taken */
	ASSERT_EQ(-EINVAL, vmm_hw_queue_alloc(fd, n->viommu_id,
					      IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					      2, q2, PAGE, &id));
	ASSERT_EQ(-EEXIST, vmm_hw_queue_alloc(fd, n->viommu_id,
					      IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					      0, q2, PAGE, &id));
	/* 2^n commands, at least two, aligned to the size */
	ASSERT_EQ(-EINVAL, vmm_hw_queue_alloc(fd, n->viommu_id,
					      IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					      1, q2, 3 * VCMDQ_ENT_SIZE, &id));
	ASSERT_EQ(-EINVAL, vmm_hw_queue_alloc(fd, n->viommu_id,
					      IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					      1, q2, VCMDQ_ENT_SIZE, &id));
	ASSERT_EQ(-EINVAL, vmm_hw_queue_alloc(fd, n->viommu_id,
					      IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					      1, q2 + 64, 256, &id));
	ASSERT_EQ(-ENOENT, vmm_hw_queue_alloc(fd, n->viommu_id,
					      IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					      1, IPA_HOLE, PAGE, &id));
	ASSERT_EQ(0, vmm_hw_queue_alloc(fd, n->viommu_id,
					IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					1, q2, 256, &id));
	/* Descending destruction; the guest memory stays mapped */
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, self->vq.hwq_id));
	ASSERT_EQ(-EBUSY, vmm_ioas_unmap(fd, self->vm.ioas_id, GUEST_RAM_IPA,
					 GUEST_RAM_SIZE, NULL));
	ASSERT_EQ(0, vmm_destroy(fd, id));
	q3 = smmu_ram_alloc(&self->vm.ram);
	ASSERT_EQ(0, vmm_hw_queue_alloc(fd, n->viommu_id,
					IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					1, q3, PAGE, &id));
	/* The trapped path works on this vIOMMU too */
	{
		vcmd_t cmd;

		smmu_cmd_tlbi_nh_va(cmd.cmd, n->g.asid, VA_DST, true);
		forward1(_metadata, fd, n, &cmd);
	}
}

/*
 * A CMDQV has a fixed number of VINTFs and VINTF0 is the host's: vIOMMUs of
 * this type on one SMMU get the others (three with QEMU's default of four),
 * then ENOSPC; a plain SMMUv3 vIOMMU still works, and a freed VINTF is
 * given again.
 */
TEST_F(vcmdq, vintfs_run_out)
{
	struct iommu_viommu_tegra241_cmdqv data;
	int fd = self->vm.iommufd;
	__u32 dev = self->n.vd.dev.dev_id, ids[8], id;
	int i, got;

	for (got = 0; got < 8; got++) {
		if (vmm_viommu_alloc(fd, dev, self->n.parent_id,
				     IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, &data,
				     sizeof(data), &ids[got]))
			break;
		ASSERT_NE(self->n.cmdqv.out_vintf_mmap_offset,
			  data.out_vintf_mmap_offset);
	}
	ASSERT_EQ(ENOSPC, errno);
	/* The fixture's vIOMMU has one: 1 + 2 more of the guest VINTFs */
	ASSERT_EQ(2, got);
	ASSERT_EQ(0, vmm_viommu_alloc(fd, dev, self->n.parent_id,
				      IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				      &id));
	/* Without its driver data, the VMM could not map the page */
	ASSERT_EQ(-EINVAL, vmm_viommu_alloc(fd, dev, self->n.parent_id,
					    IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
					    NULL, 0, &id));
	ASSERT_EQ(0, vmm_destroy(fd, ids[0]));
	ASSERT_EQ(0, vmm_viommu_alloc(fd, dev, self->n.parent_id,
				      IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, &data,
				      sizeof(data), &ids[0]));
	for (i = 0; i < got; i++)
		ASSERT_EQ(0, vmm_destroy(fd, ids[i]));
}

/*
 * One VM, one vIOMMU with its own VINTF per physical SMMU: both guests
 * move VA_DST, and the invalidation through SMMU 0's VCMDQ reaches SMMU 0
 * only; SMMU 1 keeps its stale entry until its own VCMDQ is used.
 */
static void two_vintfs(struct __test_metadata *_metadata, bool vdevice)
{
	struct two_nests t;
	struct nest *n = t.n;
	struct vq vq[2] = {};
	int i;

	two_nests_setup(_metadata, &t, vdevice,
			IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, 50);
	for (i = 0; i < 2; i++) {
		vq_setup(_metadata, &vq[i], &n[i], t.vm.iommufd, &t.vm.ram, 0);
		two_nests_copy(_metadata, &t, i, seed_of(_metadata, i, 55),
			       t.dst[i], "nested DMA");
	}
	ASSERT_NE(n[0].cmdqv.out_vintf_mmap_offset,
		  n[1].cmdqv.out_vintf_mmap_offset);

	two_nests_remap(_metadata, &t);
	vq_tlbi_va(_metadata, &vq[0], n[0].g.asid, VA_DST);
	two_nests_copy(_metadata, &t, 0, seed_of(_metadata, 0, 53),
		       t.dst2[0], "SMMU 0's VCMDQ did not invalidate");
	two_nests_copy(_metadata, &t, 1, seed_of(_metadata, 1, 53), t.dst[1],
		       "SMMU 1 dropped its entry on SMMU 0's VCMDQ");
	vq_tlbi_va(_metadata, &vq[1], n[1].g.asid, VA_DST);
	two_nests_copy(_metadata, &t, 1, seed_of(_metadata, 1, 54),
		       t.dst2[1], "SMMU 1's VCMDQ did not invalidate");

	/* The mappings hold the iommufd: unmap, then close destroys all. */
	for (i = 0; i < 2; i++)
		munmap(vq[i].page0, VCMDQ_PAGE0_SIZE);
	two_nests_teardown(&t);
}

TEST(vcmdq_two_vintfs)
{
	two_vintfs(_metadata, false);
}

TEST(vcmdq_two_vintfs_vdevice)
{
	two_vintfs(_metadata, true);
}

/*
 * A VINTF has a fixed number of SID_MATCH/SID_REPLACE pairs: SMMU 0's CMDQV
 * in the dual topology has one per VINTF (cmdqv-sids-log2=0), and two edus.
 * The second SET_DEV_ID on a Tegra241 vIOMMU there is ENOSPC and records
 * nothing; UNSET and unbinding the device free the pair for the other.
 */
TEST(vcmdq_sid_pairs)
{
	struct iommu_viommu_tegra241_cmdqv data;
	struct vmm_dev d[2];
	__u32 parent, viommu;
	struct vm vm;
	int fd;

	vm_setup_pair(_metadata, &vm, &d[0], &d[1]);
	fd = vm.iommufd;
	ASSERT_EQ(0, vmm_viommu_create(fd, d[0].dev_id, vm.ioas_id,
				       IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, &data,
				       sizeof(data), &parent, &viommu));

	/* SID_MATCH holds 20 bits of virtual StreamID */
	ASSERT_EQ(-EINVAL, vmm_viommu_set_dev_id(fd, viommu, d[0].dev_id,
						 1u << 20));
	ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu, d[0].dev_id,
					   (1u << 20) - 1));
	ASSERT_EQ(0, vmm_viommu_unset_dev_id(fd, viommu, d[0].dev_id,
					     (1u << 20) - 1));
	ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu, d[0].dev_id, VSID_BASE));
	ASSERT_EQ(-ENOSPC, vmm_viommu_set_dev_id(fd, viommu, d[1].dev_id,
						 VSID_BASE + 1));
	/* Nothing was recorded for the device that did not get a pair */
	ASSERT_EQ(-EINVAL, vmm_viommu_unset_dev_id(fd, viommu, d[1].dev_id,
						   VSID_BASE + 1));
	/* UNSET frees the pair */
	ASSERT_EQ(0, vmm_viommu_unset_dev_id(fd, viommu, d[0].dev_id,
					     VSID_BASE));
	ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu, d[1].dev_id,
					   VSID_BASE + 1));
	ASSERT_EQ(-ENOSPC, vmm_viommu_set_dev_id(fd, viommu, d[0].dev_id,
						 VSID_BASE));
	/* So does unbinding its device */
	vmm_dev_close(&d[1]);
	ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu, d[0].dev_id, VSID_BASE));
	vmm_dev_close(&d[0]);
	close(fd);
}

/*
 * The same with mainline's door, which QEMU 11.1 uses (it never calls
 * SET_DEV_ID, so the pair must be programmed at IOMMU_VDEVICE_ALLOC): the
 * VINTF has as many pairs as IOMMU_GET_HW_INFO's TEGRA241_CMDQV data says
 * (1 << log2vsids: one on SMMU 0), the next VDEVICE_ALLOC is ENOSPC and
 * records nothing, DESTROY of the vDEVICE or unbinding its device frees
 * the pair. Both doors draw on the same pairs.
 */
TEST(vcmdq_sid_pairs_vdevice)
{
	struct iommu_viommu_tegra241_cmdqv data;
	struct iommu_hw_info_tegra241_cmdqv info;
	struct vmm_dev d[2];
	__u32 parent, viommu, v0, v1, len = sizeof(info), type;
	struct vm vm;
	int fd;

	vm_setup_pair(_metadata, &vm, &d[0], &d[1]);
	fd = vm.iommufd;
	ASSERT_EQ(0, vmm_hw_info_type(fd, d[0].dev_id,
				      IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, &info,
				      &len, &type, NULL));
	ASSERT_EQ(0, info.log2vsids);
	ASSERT_EQ(0, vmm_viommu_create(fd, d[0].dev_id, vm.ioas_id,
				       IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, &data,
				       sizeof(data), &parent, &viommu));

	/* SID_MATCH holds 20 bits of virtual StreamID */
	ASSERT_EQ(-EINVAL, vmm_vdevice_alloc(fd, viommu, d[0].dev_id, 1u << 20,
					     &v0));
	ASSERT_EQ(0, vmm_vdevice_alloc(fd, viommu, d[0].dev_id,
				       (1u << 20) - 1, &v0));
	ASSERT_EQ(0, vmm_vdevice_destroy(fd, v0));
	ASSERT_EQ(0, vmm_vdevice_alloc(fd, viommu, d[0].dev_id,
				       VSID_VDEV_BASE, &v0));
	ASSERT_EQ(-ENOSPC, vmm_vdevice_alloc(fd, viommu, d[1].dev_id,
					     VSID_VDEV_BASE + 1, &v1));
	ASSERT_EQ(-ENOSPC, vmm_viommu_set_dev_id(fd, viommu, d[1].dev_id,
						 VSID_VDEV_BASE + 1));
	/* Nothing was recorded for the device that did not get a pair */
	ASSERT_EQ(-EINVAL, vmm_viommu_unset_dev_id(fd, viommu, d[1].dev_id,
						   VSID_VDEV_BASE + 1));
	/* DESTROY frees the pair: SET_DEV_ID takes it */
	ASSERT_EQ(0, vmm_vdevice_destroy(fd, v0));
	ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu, d[1].dev_id,
					   VSID_VDEV_BASE + 1));
	ASSERT_EQ(-ENOSPC, vmm_vdevice_alloc(fd, viommu, d[0].dev_id,
					     VSID_VDEV_BASE, &v0));
	ASSERT_EQ(0, vmm_viommu_unset_dev_id(fd, viommu, d[1].dev_id,
					     VSID_VDEV_BASE + 1));
	ASSERT_EQ(0, vmm_vdevice_alloc(fd, viommu, d[1].dev_id,
				       VSID_VDEV_BASE + 1, &v1));
	ASSERT_EQ(-ENOSPC, vmm_vdevice_alloc(fd, viommu, d[0].dev_id,
					     VSID_VDEV_BASE, &v0));
	/* So does unbinding the device, which destroys its vDEVICE */
	vmm_dev_close(&d[1]);
	ASSERT_EQ(-ENOENT, vmm_vdevice_destroy(fd, v1));
	ASSERT_EQ(0, vmm_vdevice_alloc(fd, viommu, d[0].dev_id,
				       VSID_VDEV_BASE, &v0));
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, viommu));
	vmm_dev_close(&d[0]);
	ASSERT_EQ(-ENOENT, vmm_vdevice_destroy(fd, v0));
	ASSERT_EQ(0, vmm_destroy(fd, viommu));
	close(fd);
}

/*
 * IOMMU_GET_HW_INFO with IOMMU_HW_INFO_FLAG_INPUT_TYPE on each SMMU: the
 * ARM_SMMUV3 data (and DEFAULT's) is the flags-0 call's, byte for byte,
 * with the same capabilities; the TEGRA241_CMDQV data describes the
 * topology's CMDQV (version 1; 8 VCMDQs over 4 VINTFs: 2 a VINTF; one SID
 * pair a VINTF on SMMU 0, cmdqv-sids-log2=0, QEMU's 16 on SMMU 1), zero
 * after its 8 bytes; types the SMMU does not have, and flag bits the
 * kernel does not know, are EOPNOTSUPP. A TEGRA241_CMDQV vIOMMU then
 * takes as many VCMDQs as the data says, and no more.
 */
TEST(hw_info_input_type)
{
	static const __u8 log2vsids[2] = { 0, 4 };
	int smmu;

	for (smmu = 0; smmu < 2; smmu++) {
		struct iommu_viommu_tegra241_cmdqv data;
		struct vm_dev vd = { .dev.fd = -1 };
		struct {
			struct iommu_hw_info_tegra241_cmdqv c;
			__u8 after[8];
		} cv;
		struct iommu_hw_info cmd;
		smmu_info_t def, in;
		__u32 len, type, parent, viommu, id, q;
		__u64 caps0, caps;
		struct vm vm;
		int fd, i;

		vm_setup(_metadata, &vm);
		fd = vm.iommufd;
		vm_dev_bind(_metadata, &vd, smmu, fd);

		memset(&def, 0xa5, sizeof(def));
		len = sizeof(def);
		ASSERT_EQ(0, vmm_hw_info(fd, vd.dev.dev_id, &def, &len, &type,
					 &caps0));
		ASSERT_EQ(VSMMU_HW_INFO_TYPE, type);
		ASSERT_EQ(sizeof(def), len);

		memset(&in, 0x5a, sizeof(in));
		len = sizeof(in);
		ASSERT_EQ(0, vmm_hw_info_type(fd, vd.dev.dev_id,
					      IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
					      &in, &len, &type, &caps)) {
			TH_LOG("SMMU %d, ARM_SMMUV3: %s", smmu, strerror(errno));
		}
		ASSERT_EQ((__u32)IOMMU_HW_INFO_TYPE_ARM_SMMUV3, type);
		ASSERT_EQ(sizeof(in), len);
		ASSERT_EQ(0, memcmp(&def, &in, sizeof(in)));
		ASSERT_EQ(caps0, caps);

		memset(&in, 0x5a, sizeof(in));
		len = sizeof(in);
		ASSERT_EQ(0, vmm_hw_info_type(fd, vd.dev.dev_id,
					      IOMMU_HW_INFO_TYPE_DEFAULT,
					      &in, &len, &type, &caps));
		ASSERT_EQ((__u32)IOMMU_HW_INFO_TYPE_ARM_SMMUV3, type);
		ASSERT_EQ(0, memcmp(&def, &in, sizeof(in)));

		memset(&cv, 0xa5, sizeof(cv));
		len = sizeof(cv);
		ASSERT_EQ(0, vmm_hw_info_type(fd, vd.dev.dev_id,
					      IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV,
					      &cv, &len, &type, &caps)) {
			TH_LOG("SMMU %d, TEGRA241_CMDQV: %s", smmu,
			       strerror(errno));
		}
		ASSERT_EQ((__u32)IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, type);
		ASSERT_EQ(sizeof(cv.c), len);
		ASSERT_EQ(8u, len);
		TH_LOG("SMMU %d: CMDQV version %u, log2vcmdqs %u, log2vsids %u",
		       smmu, cv.c.version, cv.c.log2vcmdqs, cv.c.log2vsids);
		ASSERT_EQ(0u, cv.c.flags);
		ASSERT_EQ(1, cv.c.version);
		ASSERT_EQ(1, cv.c.log2vcmdqs);
		ASSERT_EQ(log2vsids[smmu], cv.c.log2vsids);
		ASSERT_EQ(0, cv.c.__reserved);
		for (i = 0; i < 8; i++)
			ASSERT_EQ(0, cv.after[i]);
		ASSERT_EQ(caps0, caps);

		len = sizeof(cv);
		ASSERT_EQ(-EOPNOTSUPP, vmm_hw_info_type(fd, vd.dev.dev_id,
						IOMMU_HW_INFO_TYPE_INTEL_VTD,
						&cv, &len, &type, NULL));
		ASSERT_EQ(-EOPNOTSUPP, vmm_hw_info_type(fd, vd.dev.dev_id,
						0x77, &cv, &len, &type, NULL));
		cmd = (struct iommu_hw_info){
			.size = sizeof(cmd),
			.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE | 2,
			.dev_id = vd.dev.dev_id,
			.data_len = sizeof(in),
			.data_uptr = (uintptr_t)&in,
			.in_data_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
		};
		ASSERT_EQ(-1, ioctl(fd, IOMMU_GET_HW_INFO, &cmd));
		ASSERT_EQ(EOPNOTSUPP, errno);
		cmd.flags = 2;
		ASSERT_EQ(-1, ioctl(fd, IOMMU_GET_HW_INFO, &cmd));
		ASSERT_EQ(EOPNOTSUPP, errno);

		/* What a vIOMMU of the CMDQV takes: 1 << log2vcmdqs queues. */
		ASSERT_EQ(0, vmm_viommu_create(fd, vd.dev.dev_id, vm.ioas_id,
					       IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
					       &data, sizeof(data), &parent,
					       &viommu));
		for (q = 0; q <= 1u << cv.c.log2vcmdqs; q++) {
			int ret = vmm_hw_queue_alloc(fd, viommu,
					IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, q,
					smmu_ram_alloc(&vm.ram), PAGE, &id);

			if (q < 1u << cv.c.log2vcmdqs) {
				ASSERT_EQ(0, ret) {
					TH_LOG("queue %u: %s", q, strerror(-ret));
				}
			} else {
				ASSERT_EQ(-EINVAL, ret);
			}
		}
		vm_dev_teardown(&vd);
		close(fd);
	}
}

/*
 * A TEGRA241_CMDQV vIOMMU gives its VINTF back when destroyed: more
 * allocate-destroy rounds than the CMDQV has guest VINTFs (3) all work, on
 * each SMMU, and the process lives on.
 */
TEST(vcmdq_viommu_destroy)
{
	int smmu, i;

	for (smmu = 0; smmu < 2; smmu++) {
		struct iommu_viommu_tegra241_cmdqv data;
		struct vm_dev vd = { .dev.fd = -1 };
		__u32 parent, viommu;
		struct vm vm;
		int fd;

		vm_setup(_metadata, &vm);
		fd = vm.iommufd;
		vm_dev_bind(_metadata, &vd, smmu, fd);
		ASSERT_EQ(0, vmm_hwpt_alloc(fd, vd.dev.dev_id, vm.ioas_id,
					    IOMMU_HWPT_ALLOC_NEST_PARENT,
					    IOMMU_HWPT_DATA_NONE, NULL, 0,
					    &parent));
		for (i = 0; i < 5; i++) {
			ASSERT_EQ(0, vmm_viommu_alloc(fd, vd.dev.dev_id, parent,
					IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
					&data, sizeof(data), &viommu)) {
				TH_LOG("SMMU %d, round %d: %s", smmu, i,
				       strerror(errno));
			}
			ASSERT_EQ(0, vmm_destroy(fd, viommu));
		}
		vm_dev_teardown(&vd);
		close(fd);
	}
}

/*
 * A guest queue that stops on a forbidden command is the guest's error:
 * the VMM learns which queue from the TEGRA241_CMDQV vEVENTQ of its
 * vIOMMU (the VINTF's LVCMDQ error map, bit n for logical queue n) before
 * the guest acknowledges it, one record per error, in sequence. Here the
 * guest's queue 1 errs, then its queue 0. Another VINTF's vIOMMU on the
 * same SMMU (same CMDQV and IRQ) hears nothing. On the edu behind SMMU
 * @smmu, its vSID from VDEVICE_ALLOC (QEMU's door).
 */
static void vcmdq_error_event(struct __test_metadata *_metadata, int smmu)
{
	struct iommu_viommu_tegra241_cmdqv data;
	struct vmm_veventq q = { .fd = -1 }, other_q = { .fd = -1 };
	struct vmm_vevent ev[4];
	struct nest nt = {};
	struct vq vq[2] = {};
	__le64 cmds[2][2];
	unsigned int at, i;
	__u32 other;
	struct vm vm;
	int fd, n;

	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	nt.viommu_type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV;
	nt.use_vdevice = true;
	nest_setup(_metadata, &nt, smmu, fd, vm.ioas_id, &vm.ram,
		   vsid_of(smmu, true));
	for (i = 0; i < 2; i++)
		vq_setup(_metadata, &vq[i], &nt, fd, &vm.ram, i);
	ASSERT_EQ(0, vmm_veventq_alloc(fd, nt.viommu_id,
				       IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 8,
				       &q));
	ASSERT_EQ(0, vmm_viommu_alloc(fd, nt.vd.dev.dev_id, nt.parent_id,
				      IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, &data,
				      sizeof(data), &other));
	ASSERT_EQ(0, vmm_veventq_alloc(fd, other,
				       IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 8,
				       &other_q));

	for (i = 0; i < 2; i++) {
		unsigned int lq = !i;
		struct vcmdq *vc = &vq[lq].q;

		smmu_cmd_op(cmds[0], SMMU_CMD_TLBI_NH_ALL);
		smmu_cmd_op(cmds[1], SMMU_CMD_SYNC);
		ASSERT_EQ(-EIO, vcmdq_submit(vc, cmds, 2, &at));
		ASSERT_EQ(0u, at);
		ASSERT_EQ(VCMDQ_CERROR_ILL, vcmdq_cons_err(vc));

		/* The VMM hears of it while the guest has not acked yet. */
		n = vmm_veventq_read(&q, ev, 4, EVENT_WAIT_MS);
		ASSERT_EQ(1, n) {
			TH_LOG("queue %u: %d records within %d ms", lq, n,
			       EVENT_WAIT_MS);
		}
		ASSERT_EQ(0u, ev[0].flags);
		ASSERT_EQ(sizeof(struct iommu_vevent_tegra241_cmdqv),
			  ev[0].data_len);
		ASSERT_EQ(i, ev[0].sequence);
		ASSERT_EQ(0u, ev[0].lost_before);
		ASSERT_EQ(1ull << lq,
			  le64toh(ev[0].data.cmdqv.lvcmdq_err_map[0]));
		ASSERT_EQ(0ull, le64toh(ev[0].data.cmdqv.lvcmdq_err_map[1]));
		/* One error, one record. */
		ASSERT_EQ(0, vmm_veventq_read(&q, ev, 4, 200));
		ASSERT_EQ(0, vcmdq_ack_error(vc));
		ASSERT_FALSE(vcmdq_error_pending(vc));
	}
	expect_quiet(_metadata, &other_q, QUIET_MS, "the other VINTF");
	/* Both queues work again; an acknowledged error reports nothing. */
	for (i = 0; i < 2; i++)
		vq_tlbi_va(_metadata, &vq[i], nt.g.asid, VA_DST);
	ASSERT_EQ(0, vmm_veventq_read(&q, ev, 4, 200));
	ASSERT_EQ(0ull, q.lost);

	ASSERT_EQ(0, vmm_veventq_free(fd, &other_q));
	ASSERT_EQ(0, vmm_destroy(fd, other));
	ASSERT_EQ(0, vmm_veventq_free(fd, &q));
	vm_dev_teardown(&nt.vd);
	for (i = 0; i < 2; i++)
		munmap(vq[i].page0, VCMDQ_PAGE0_SIZE);
	close(fd);
}

TEST(vcmdq_error_event_smmu0)
{
	vcmdq_error_event(_metadata, 0);
}

TEST(vcmdq_error_event_smmu1)
{
	vcmdq_error_event(_metadata, 1);
}
#endif /* VMM_HAVE_HW_QUEUE */
