/* SPDX-License-Identifier: GPL-2.0 */
/*
 * e2e-nested: the DMA and invalidation fixture: one edu behind one SMMU,
 * nested; each guest command through the vIOMMU proven by stale-then-fresh
 * DMA.
 *
 * Part of the e2e-nested program: main.c includes it (a part, not a
 * header to share).
 */

/* ---- the fixture: one edu behind one SMMU, nested ------------------- */

FIXTURE(nested) {
	struct vm vm;
	struct nest n;
	__u64 src_ipa, dst_ipa;		/* VA_SRC and VA_DST map these */
	__u8 *snap;			/* a copy of all of guest RAM */
};

/*
 * Each test runs on both SMMUs, with the device's vSID given by either
 * front door: IOMMU_VIOMMU_SET_DEV_ID, or mainline's IOMMU_VDEVICE_ALLOC.
 */
FIXTURE_VARIANT(nested) {
	int smmu;
	bool vdevice;
	bool memfd;	/* guest RAM in a memfd, IOMMU_IOAS_MAP_FILE */
};

FIXTURE_VARIANT_ADD(nested, smmu0) {
	.smmu = 0,
};

FIXTURE_VARIANT_ADD(nested, smmu1) {
	.smmu = 1,
};

FIXTURE_VARIANT_ADD(nested, smmu0_vdevice) {
	.smmu = 0,
	.vdevice = true,
};

FIXTURE_VARIANT_ADD(nested, smmu1_vdevice) {
	.smmu = 1,
	.vdevice = true,
};

/* What QEMU 11.1 does with a memfd memory backend: both front door calls */
FIXTURE_VARIANT_ADD(nested, smmu0_memfd) {
	.smmu = 0,
	.vdevice = true,
	.memfd = true,
};

FIXTURE_VARIANT_ADD(nested, smmu1_memfd) {
	.smmu = 1,
	.vdevice = true,
	.memfd = true,
};

FIXTURE_SETUP(nested)
{
	int smmu = variant->smmu;
	struct guest *g = &self->n.g;

	self->n.vd.dev.fd = -1;
	vm_setup_ram(_metadata, &self->vm, variant->memfd);
	self->snap = pattern_alloc(GUEST_RAM_SIZE);
	ASSERT_NE(NULL, self->snap);

	self->n.use_vdevice = variant->vdevice;
	nest_setup(_metadata, &self->n, smmu, self->vm.iommufd, self->vm.ioas_id,
		   &self->vm.ram, vsid_of(smmu, variant->vdevice));

	/* The guest maps a source and a destination page for the device. */
	self->src_ipa = guest_page(_metadata, &self->vm.ram,
				   seed_of(_metadata, smmu, 1));
	self->dst_ipa = guest_page(_metadata, &self->vm.ram,
				   seed_of(_metadata, smmu, 2));
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_SRC, self->src_ipa,
				 SMMU_PROT_READ));
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_DST, self->dst_ipa,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
}

FIXTURE_TEARDOWN(nested)
{
	/* Closing the cdev detaches and unbinds (and drops the vSID)... */
	vm_dev_teardown(&self->n.vd);
	/* ...closing /dev/iommu destroys the rest. */
	if (self->vm.iommufd >= 0)
		close(self->vm.iommufd);
}

/* Guest RAM at @ipa, one page. */
#define PG(ipa)		((__u8 *)hva(&self->vm.ram, (ipa)))

/* Put a fresh pattern in the source page: what the next copy carries. */
static void new_src(struct __test_metadata *_metadata,
		    FIXTURE_DATA(nested) *self, __u32 seed)
{
	pattern_fill(PG(self->src_ipa), PAGE, seed);
}

/*
 * A fresh pattern (@seed) copied from VA_SRC to VA_DST must land in the
 * guest page @to; @why says what a miss means.
 */
static void copy_to(struct __test_metadata *_metadata,
		    FIXTURE_DATA(nested) *self, __u32 seed, __u64 to,
		    const char *why)
{
	new_src(_metadata, self, seed);
	dma_copy(_metadata, &self->n.vd.edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(to), PAGE)) {
		TH_LOG("%s", why);
	}
}

/* copy_to() @to, and the page @other stays as it was. */
static void copy_lands(struct __test_metadata *_metadata,
		       FIXTURE_DATA(nested) *self, __u32 seed, __u64 to,
		       __u64 other, const char *why)
{
	__u8 *was = pattern_alloc(PAGE);

	ASSERT_NE(NULL, was);
	memcpy(was, PG(other), PAGE);
	copy_to(_metadata, self, seed, to, why);
	ASSERT_EQ(-1, pattern_diff(was, PG(other), PAGE)) {
		TH_LOG("%s", why);
	}
	munmap(was, PAGE);
}

/*
 * The VMM forwards the guest's @cmd through the vIOMMU; then a copy must
 * land in @to, not @other (copy_lands()).
 */
static void forward_then_copy(struct __test_metadata *_metadata,
			      FIXTURE_DATA(nested) *self, vcmd_t *cmd,
			      __u32 seed, __u64 to, __u64 other,
			      const char *why)
{
	forward1(_metadata, self->vm.iommufd, &self->n, cmd);
	copy_lands(_metadata, self, seed, to, other, why);
}

/*
 * The physical SMMU the device sits behind, as the VMM learns it. The
 * values must be those of a nesting-capable SMMUv3 with AArch64 tables
 * and the 4 KiB granule, coherent, with FWB (QEMU's fwb=on).
 */
TEST_F(nested, hw_info)
{
	smmu_info_t *i = &self->n.info;
	unsigned int oas = SMMU_GET(SMMU_IDR5_OAS, i->idr[5]);

	TH_LOG("%s: IDR0 %08x IDR1 %08x IDR3 %08x IDR5 %08x IIDR %08x AIDR %08x",
	       self->n.vd.dev.pci.bdf, i->idr[0], i->idr[1], i->idr[3],
	       i->idr[5], i->iidr, i->aidr);
	ASSERT_TRUE(HAS(i->idr[0], SMMU_IDR0_S1P));
	ASSERT_TRUE(HAS(i->idr[0], SMMU_IDR0_S2P));
	ASSERT_LE(SMMU_IDR0_TTF_AA64, SMMU_GET(SMMU_IDR0_TTF, i->idr[0]));
	ASSERT_TRUE(HAS(i->idr[0], SMMU_IDR0_COHACC));
	ASSERT_EQ(SMMU_IDR0_TTENDIAN_LE,
		  SMMU_GET(SMMU_IDR0_TTENDIAN, i->idr[0]));
	ASSERT_TRUE(HAS(i->idr[3], SMMU_IDR3_FWB));
	ASSERT_TRUE(HAS(i->idr[5], SMMU_IDR5_GRAN4K));
	/* QEMU: 44 bits. Guest RAM must fit. */
	ASSERT_LE(40u, smmu_oas_bits(oas));
	ASSERT_GT(1ull << smmu_oas_bits(oas), GUEST_RAM_IPA + GUEST_RAM_SIZE);
	/* AIDR: SMMUv3.x, major 0 */
	ASSERT_EQ(0u, i->aidr >> 4 & 0xf);
	ASSERT_NE(0u, self->n.parent_id);
	ASSERT_NE(0u, self->n.viommu_id);
	ASSERT_NE(0u, self->n.nested_id);
}

/*
 * VA -> IPA -> host page: the device reads VA_SRC and writes VA_DST; the
 * bytes land in the page stage 1 + stage 2 name, and nowhere else in
 * guest RAM (which holds the other data pages, the CD and the tables).
 */
TEST_F(nested, dma_s1_over_s2)
{
	struct edu *edu = &self->n.vd.edu;
	long d;

	memcpy(self->snap, self->vm.ram_hva, GUEST_RAM_SIZE);
	ASSERT_NE(-1, pattern_diff(PG(self->src_ipa), PG(self->dst_ipa), PAGE));
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	d = pattern_diff(PG(self->src_ipa), PG(self->dst_ipa), PAGE);
	ASSERT_EQ(-1, d) {
		TH_LOG("byte %ld: 0x%02x, sent 0x%02x", d,
		       PG(self->dst_ipa)[d], PG(self->src_ipa)[d]);
	}
	/* Everything else in guest RAM is as it was. */
	memcpy(self->snap + (self->dst_ipa - GUEST_RAM_IPA),
	       PG(self->dst_ipa), PAGE);
	ASSERT_EQ(-1, pattern_diff(self->snap, self->vm.ram_hva, GUEST_RAM_SIZE));
	/*
	 * The IPA itself is not a device address: nothing is mapped there.
	 * (The device holds new data, so a write that reached the page
	 * anyway would show.)
	 */
	new_src(_metadata, self, seed_of(_metadata, self->n.vd.smmu, 25));
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	memcpy(self->snap, self->vm.ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, self->dst_ipa, 0, PAGE, true);
	ASSERT_EQ(-1, pattern_diff(self->snap, self->vm.ram_hva, GUEST_RAM_SIZE));
}

/*
 * Stage 1 chooses the pages: two consecutive VA pages on two IPA pages in
 * reverse order; an unaligned transfer across the VA page boundary is
 * split where stage 1 says.
 */
TEST_F(nested, dma_cross_page_reversed)
{
	struct edu *edu = &self->n.vd.edu;
	struct guest *g = &self->n.g;
	const __u32 len = 600, off = PAGE - 256;
	__u64 lo, hi;
	__u8 *want_lo = pattern_alloc(PAGE), *want_hi = pattern_alloc(PAGE);

	ASSERT_NE(NULL, want_lo);
	ASSERT_NE(NULL, want_hi);
	hi = guest_page(_metadata, &self->vm.ram, seed_of(_metadata, 0, 3));
	lo = guest_page(_metadata, &self->vm.ram, seed_of(_metadata, 0, 4));
	/* VA_X + 0 -> lo (the higher IPA), VA_X + 4 KiB -> hi (the lower) */
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_X, lo, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_X + PAGE, hi, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));
	ASSERT_LT(hi, lo);
	memcpy(want_lo, PG(lo), PAGE);
	memcpy(want_hi, PG(hi), PAGE);
	memcpy(want_lo + off, PG(self->src_ipa), PAGE - off);
	memcpy(want_hi, PG(self->src_ipa) + PAGE - off, len - (PAGE - off));

	dma_copy(_metadata, edu, VA_SRC, VA_X + off, len);
	ASSERT_EQ(-1, pattern_diff(want_lo, PG(lo), PAGE));
	ASSERT_EQ(-1, pattern_diff(want_hi, PG(hi), PAGE));
}

/*
 * Both stages enforce: a VA stage 1 does not map, a stage-1 read-only
 * page, an IPA stage 2 does not map and a stage-2 read-only IPA all stop
 * a DMA write. Guest RAM (and the read-only page) stay untouched. The
 * VMM maps the read-only IPA as one host page; stage 1 points a guest
 * page at its start.
 */
TEST_F(nested, s1_and_s2_faults)
{
	struct edu *edu = &self->n.vd.edu;
	struct guest *g = &self->n.g;
	__u8 *ro = pattern_alloc(HPAGE), *ro_copy = pattern_alloc(HPAGE);
	__u64 ro_page = guest_page(_metadata, &self->vm.ram,
				   seed_of(_metadata, 0, 5));

	ASSERT_NE(NULL, ro);
	ASSERT_NE(NULL, ro_copy);
	pattern_fill(ro, HPAGE, seed_of(_metadata, 0, 6));
	memcpy(ro_copy, ro, HPAGE);
	ASSERT_EQ(0, vmm_ioas_map(self->vm.iommufd, self->vm.ioas_id, ro,
				  HPAGE, IPA_RO, IOMMU_IOAS_MAP_READABLE));
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_X, ro_page, SMMU_PROT_READ));
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_X + PAGE, IPA_HOLE,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_X + 2 * PAGE, IPA_RO,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));

	/* Reads through both stages work where both allow them. */
	dma_copy(_metadata, edu, VA_X, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(ro_page), PG(self->dst_ipa), PAGE));
	dma_copy(_metadata, edu, VA_X + 2 * PAGE, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(ro, PG(self->dst_ipa), PAGE));

	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	memcpy(self->snap, self->vm.ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, VA_NONE, 0, PAGE, true);	/* S1 */
	dma_may_fault(_metadata, edu, VA_X, 0, PAGE, true);	/* S1 R/O */
	dma_may_fault(_metadata, edu, VA_X + PAGE, 0, PAGE, true);	/* S2 */
	dma_may_fault(_metadata, edu, VA_X + 2 * PAGE, 0, PAGE, true); /* S2 R/O */
	ASSERT_EQ(-1, pattern_diff(self->snap, self->vm.ram_hva, GUEST_RAM_SIZE));
	ASSERT_EQ(-1, pattern_diff(ro_copy, ro, HPAGE));
	/* The faults did not wedge anything. */
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(self->dst_ipa), PAGE));
}

/*
 * 4(a): a stage-1 PTE changes (VA_DST: page A -> page B). Until the guest
 * issues TLBI_NH_VA, the SMMU keeps using its cached VA_DST -> A; after,
 * the DMA lands in B.
 */
TEST_F(nested, tlbi_nh_va_after_pte_change)
{
	struct guest *g = &self->n.g;
	int smmu = self->n.vd.smmu;
	__u64 a = self->dst_ipa;
	__u64 b = guest_page(_metadata, &self->vm.ram, seed_of(_metadata, smmu, 7));
	vcmd_t cmd;

	/* 1. VA_DST -> A: the copy lands in A (and the SMMU caches that). */
	copy_to(_metadata, self, seed_of(_metadata, smmu, 8), a,
		"VA_DST maps A");

	/* 2. The guest points VA_DST at B, and does not invalidate. */
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_DST, b, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));
	copy_lands(_metadata, self, seed_of(_metadata, smmu, 9), a, b,
		   "stale translation expected: in A, not B (no IOTLB?)");

	/* 3. TLBI_NH_VA(ASID, VA_DST): now it lands in B, A stays. */
	smmu_cmd_tlbi_nh_va(cmd.cmd, g->asid, VA_DST, true);
	forward_then_copy(_metadata, self, &cmd, seed_of(_metadata, smmu, 10),
			  b, a, "TLBI_NH_VA did not reach the SMMU's IOTLB");
}

/*
 * A range TLBI_NH_VA (SMMUv3.2 RIL, which QEMU has: NUM/SCALE/TG/TTL):
 * three VA pages remapped, the range covers the first two. Those two see
 * their new pages, the third stays stale: the range reached the SMMU as
 * the guest wrote it, no wider and no narrower.
 */
TEST_F(nested, tlbi_nh_va_range)
{
	struct edu *edu = &self->n.vd.edu;
	struct guest *g = &self->n.g;
	int smmu = self->n.vd.smmu;
	__u64 old[3], new[3];
	vcmd_t cmd;
	int i;

	if (!HAS(self->n.info.idr[3], SMMU_IDR3_RIL))
		SKIP(return, "no range invalidation (IDR3.RIL)");
	for (i = 0; i < 3; i++) {
		old[i] = guest_page(_metadata, &self->vm.ram,
				    seed_of(_metadata, smmu, 40 + i));
		new[i] = guest_page(_metadata, &self->vm.ram,
				    seed_of(_metadata, smmu, 50 + i));
		ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_X + i * PAGE, old[i],
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
	}
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, edu_to_ram(edu, VA_X + i * PAGE, 0, PAGE));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_X + i * PAGE, new[i],
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
	/*
	 * (NUM + 1) << SCALE pages of granule TG (1: 4 KiB) from VA_X, all
	 * leaf entries at level TTL 3: two pages.
	 */
	smmu_cmd_tlbi_nh_va(cmd.cmd, g->asid, VA_X, true);
	cmd.cmd[0] |= htole64(SMMU_FIELD(SMMU_CMD_0_TLBI_NUM, 1) |
			      SMMU_FIELD(SMMU_CMD_0_TLBI_SCALE, 0));
	cmd.cmd[1] |= htole64(SMMU_FIELD(SMMU_CMD_1_TLBI_TG, 1) |
			      SMMU_FIELD(SMMU_CMD_1_TLBI_TTL, 3));
	forward1(_metadata, self->vm.iommufd, &self->n, &cmd);

	new_src(_metadata, self, seed_of(_metadata, smmu, 60));
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, edu_to_ram(edu, VA_X + i * PAGE, 0, PAGE));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(new[i]), PAGE)) {
			TH_LOG("page %d inside the range still stale", i);
		}
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(old[2]), PAGE)) {
		TH_LOG("page 2, outside the range, was invalidated too");
	}
	ASSERT_NE(-1, pattern_diff(PG(self->src_ipa), PG(new[2]), PAGE));
}

/*
 * TLBI_NSNH_ALL from a guest ("everything, all VMIDs" on a real SMMU)
 * becomes TLBI_NH_ALL of the VM's VMID: it still drops the guest's stale
 * entries (and nothing of other VMs, which this cannot see).
 */
TEST_F(nested, tlbi_nsnh_all)
{
	struct edu *edu = &self->n.vd.edu;
	struct guest *g = &self->n.g;
	int smmu = self->n.vd.smmu;
	__u64 a = self->dst_ipa;
	__u64 b = guest_page(_metadata, &self->vm.ram,
			     seed_of(_metadata, smmu, 61));
	vcmd_t cmd;

	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE));
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_DST, b, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));
	copy_to(_metadata, self, seed_of(_metadata, smmu, 62), a,
		"stale translation expected: in A (no IOTLB?)");

	smmu_cmd_op(cmd.cmd, SMMU_CMD_TLBI_NSNH_ALL);
	forward1(_metadata, self->vm.iommufd, &self->n, &cmd);
	copy_to(_metadata, self, seed_of(_metadata, smmu, 63), b,
		"TLBI_NSNH_ALL left the stale entry");
}

/*
 * Two vIOMMUs on one nesting parent, as QEMU makes them for two vSMMUs of
 * one VM whose devices sit behind one SMMU (its VFIO core shares the
 * parent), are two guest ASID spaces: each vIOMMU has a VMID of its own.
 * The other vIOMMU's TLBI_NH_ASID of the same ASID, and its TLBI_NSNH_ALL,
 * leave this one's stale entry alone; with a shared VMID they would drop
 * it (and ASID n of the other vSMMU's devices would hit it). This one's
 * TLBI_NH_ASID still drops it.
 */
TEST_F(nested, second_viommu_own_vmid)
{
	struct guest *g = &self->n.g;
	int smmu = self->n.vd.smmu;
	int fd = self->vm.iommufd;
	__u64 a = self->dst_ipa;
	__u64 b = guest_page(_metadata, &self->vm.ram,
			     seed_of(_metadata, smmu, 64));
	struct nest other = {};
	vcmd_t cmd;

	ASSERT_EQ(0, vmm_viommu_alloc(fd, self->n.vd.dev.dev_id,
				      self->n.parent_id,
				      IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				      &other.viommu_id)) {
		TH_LOG("second vIOMMU on the parent: %s", strerror(errno));
	}
	ASSERT_NE(self->n.viommu_id, other.viommu_id);

	copy_to(_metadata, self, seed_of(_metadata, smmu, 65), a,
		"VA_DST maps A");
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_DST, b, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));
	copy_lands(_metadata, self, seed_of(_metadata, smmu, 66), a, b,
		   "stale translation expected: in A, not B (no IOTLB?)");

	smmu_cmd_tlbi_nh_asid(cmd.cmd, g->asid);
	forward1(_metadata, fd, &other, &cmd);
	copy_lands(_metadata, self, seed_of(_metadata, smmu, 67), a, b,
		   "the other vIOMMU's TLBI_NH_ASID dropped this one's entry: shared VMID");
	smmu_cmd_op(cmd.cmd, SMMU_CMD_TLBI_NSNH_ALL);
	forward1(_metadata, fd, &other, &cmd);
	copy_lands(_metadata, self, seed_of(_metadata, smmu, 68), a, b,
		   "the other vIOMMU's TLBI_NSNH_ALL dropped this one's entry: shared VMID");

	smmu_cmd_tlbi_nh_asid(cmd.cmd, g->asid);
	forward_then_copy(_metadata, self, &cmd, seed_of(_metadata, smmu, 69),
			  b, a, "TLBI_NH_ASID did not reach the SMMU's IOTLB");
	ASSERT_EQ(0, vmm_destroy(fd, other.viommu_id));
}

/*
 * A second stage-1 address space for the CD tests: the same VA_SRC, and
 * VA_DST on page @dst.
 */
static void second_table(struct __test_metadata *_metadata,
			 FIXTURE_DATA(nested) *self, struct smmu_s1_table *t,
			 __u64 dst)
{
	ASSERT_EQ(0, smmu_s1_init(t, &self->vm.ram));
	ASSERT_EQ(0, smmu_s1_map(t, VA_SRC, self->src_ipa, SMMU_PROT_READ));
	ASSERT_EQ(0, smmu_s1_map(t, VA_DST, dst, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));
}

/*
 * 4(b): the CD changes: TTB0 to another table (VA_DST -> B there) and a
 * new ASID, as a guest switching the device to another address space. The
 * SMMU keeps the CD it cached (and its translations, tagged with the old
 * ASID) until the guest issues CFGI_CD for the device's vSID; the kernel
 * must turn that vSID into the physical SID for it to take effect.
 */
TEST_F(nested, cfgi_cd_after_cd_change)
{
	struct guest *g = &self->n.g;
	int smmu = self->n.vd.smmu;
	struct smmu_s1_table t2;
	__u64 a = self->dst_ipa;
	__u64 b = guest_page(_metadata, &self->vm.ram,
			     seed_of(_metadata, smmu, 11));
	vcmd_t cmd;

	second_table(_metadata, self, &t2, b);

	copy_to(_metadata, self, seed_of(_metadata, smmu, 12), a,
		"VA_DST maps A");

	/* The guest rewrites its CD: TTB0 = t2, ASID 2. No CFGI_CD yet. */
	guest_write_cd(g, ASID_OTHER, t2.root);
	copy_lands(_metadata, self, seed_of(_metadata, smmu, 13), a, b,
		   "new CD used without CFGI_CD: no config cache?");

	/* CFGI_CD(vSID, SSID 0): the SMMU fetches the new CD. */
	smmu_cmd_cfgi_cd(cmd.cmd, g->vsid, 0, true);
	forward_then_copy(_metadata, self, &cmd, seed_of(_metadata, smmu, 14),
			  b, a, "CFGI_CD did not reach the SMMU (wrong SID?)");
}

/*
 * The same CD change with the ASID kept: CFGI_CD alone refetches the CD,
 * but the translations cached under that ASID still hit (they are tagged
 * by ASID + VMID, not by table), so the DMA still lands in A; the guest
 * must also issue TLBI_NH_ASID. The architecture allows exactly this, and
 * QEMU does it. The guest writes a VMID into the TLBI (a guest has no
 * business doing so, the field is the hypervisor's): the kernel replaces
 * it with the vIOMMU's, so the command still hits.
 */
TEST_F(nested, cd_change_same_asid_needs_tlbi)
{
	struct edu *edu = &self->n.vd.edu;
	struct guest *g = &self->n.g;
	int smmu = self->n.vd.smmu;
	struct smmu_s1_table t2;
	__u64 a = self->dst_ipa;
	__u64 b = guest_page(_metadata, &self->vm.ram,
			     seed_of(_metadata, smmu, 15));
	vcmd_t cmd;

	second_table(_metadata, self, &t2, b);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE));

	guest_write_cd(g, g->asid, t2.root);
	smmu_cmd_cfgi_cd(cmd.cmd, g->vsid, 0, true);
	forward_then_copy(_metadata, self, &cmd, seed_of(_metadata, smmu, 16),
			  a, b,
			  "TLB entries of the ASID were dropped by CFGI_CD");

	smmu_cmd_tlbi_nh_asid(cmd.cmd, g->asid);
	cmd.cmd[0] |= htole64(SMMU_FIELD(SMMU_CMD_0_VMID, 0x5a5a));
	forward_then_copy(_metadata, self, &cmd, seed_of(_metadata, smmu, 17),
			  b, a, "TLBI_NH_ASID (guest VMID 0x5a5a) did not hit");
}

/*
 * A device needs a vSID on the vIOMMU before it can use a nested HWPT of
 * it (ENOENT), and keeps it while attached (UNSET, or DESTROY of its
 * vDEVICE: EBUSY). The two front doors share one record: a device with a
 * vSID from one gets EEXIST from the other, and an ID a vDEVICE owns
 * cannot be UNSET (EBUSY) but goes with the vDEVICE.
 */
TEST_F(nested, attach_needs_vsid)
{
	struct nest *n = &self->n;
	int fd = self->vm.iommufd;
	__u32 vsid = n->g.vsid, dev = n->vd.dev.dev_id, id;

	ASSERT_EQ(-EBUSY, nest_drop_id(fd, n, vsid));
	/* The other door: the device has its one vSID already. */
	ASSERT_EQ(-EEXIST, vmm_viommu_set_dev_id(fd, n->viommu_id, dev,
						 vsid + 1));
	ASSERT_EQ(-EEXIST, vmm_vdevice_alloc(fd, n->viommu_id, dev, vsid + 1,
					     &id));
	ASSERT_EQ(0, vmm_dev_detach(&n->vd.dev));
	if (variant->vdevice) {
		/* Owned by the vDEVICE, detached or not: EBUSY. */
		ASSERT_EQ(-EBUSY, vmm_viommu_unset_dev_id(fd, n->viommu_id,
							  dev, vsid));
		id = n->vdevice_id;
		ASSERT_EQ(0, nest_drop_id(fd, n, vsid));
		/* Gone: its object id too. */
		ASSERT_EQ(-ENOENT, vmm_vdevice_destroy(fd, id));
	} else {
		/* The wrong id: EINVAL; the right one: gone. */
		ASSERT_EQ(-EINVAL, vmm_viommu_unset_dev_id(fd, n->viommu_id,
							   dev, vsid + 1));
		ASSERT_EQ(0, nest_drop_id(fd, n, vsid));
	}
	ASSERT_EQ(-EINVAL, vmm_viommu_unset_dev_id(fd, n->viommu_id, dev,
						   vsid));
	ASSERT_EQ(-ENOENT, vmm_dev_attach(&n->vd.dev, n->nested_id, NULL));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(0u, n->vd.dev.pt_id);

	/* With a vSID again (another one), it attaches and DMAs. */
	ASSERT_EQ(0, nest_give_id(fd, n, vsid + 0x100));
	ASSERT_EQ(-EEXIST, vmm_viommu_set_dev_id(fd, n->viommu_id, dev, vsid));
	ASSERT_EQ(-EEXIST, vmm_vdevice_alloc(fd, n->viommu_id, dev, vsid,
					     &id));
	ASSERT_EQ(0, vmm_dev_attach(&n->vd.dev, n->nested_id, NULL));
	dma_copy(_metadata, &n->vd.edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(self->dst_ipa), PAGE));
	/* The vIOMMU cannot go while it has ids (and a nested HWPT). */
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, n->viommu_id));
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, n->parent_id));
	if (variant->vdevice)
		ASSERT_EQ(-EBUSY, vmm_vdevice_destroy(fd, n->vdevice_id));
}

/*
 * An illegal command in a batch: the call fails with EIO, entry_num is its
 * index, the commands before it have taken effect and those after it have
 * not. Shown with DMA: VA_DST and VA_X are remapped; the batch is
 * [TLBI_NH_VA(VA_DST), CFGI_STE, TLBI_NH_VA(VA_X)]: VA_DST is fresh after
 * it, VA_X stale. Then a TLBI_NH_VA with a reserved bit alone: EIO at
 * index 0, VA_X still stale; then the valid command: fresh.
 */
TEST_F(nested, illegal_cmd_stops_batch)
{
	struct edu *edu = &self->n.vd.edu;
	struct guest *g = &self->n.g;
	int smmu = self->n.vd.smmu;
	__u64 a = self->dst_ipa, c, b, d;
	vcmd_t cmds[3];
	__u32 done;

	c = guest_page(_metadata, &self->vm.ram, seed_of(_metadata, smmu, 18));
	b = guest_page(_metadata, &self->vm.ram, seed_of(_metadata, smmu, 19));
	d = guest_page(_metadata, &self->vm.ram, seed_of(_metadata, smmu, 20));
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_X, c, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));
	/* Cache VA_DST -> A and VA_X -> C. */
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(0, edu_to_ram(edu, VA_X, 0, PAGE));
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE));
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(c), PAGE));
	/* VA_DST -> B, VA_X -> D. */
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_DST, b, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_X, d, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));

	smmu_cmd_tlbi_nh_va(cmds[0].cmd, g->asid, VA_DST, true);
	smmu_cmd_cfgi_ste(cmds[1].cmd, g->vsid, true);
	smmu_cmd_tlbi_nh_va(cmds[2].cmd, g->asid, VA_X, true);
	ASSERT_EQ(-EIO, forward(self->vm.iommufd, &self->n, cmds, 3, &done));
	ASSERT_EQ(1u, done);

	new_src(_metadata, self, seed_of(_metadata, smmu, 21));
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(b), PAGE)) {
		TH_LOG("entry 0, before the illegal one, was not applied");
	}
	ASSERT_EQ(0, edu_to_ram(edu, VA_X, 0, PAGE));
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(c), PAGE)) {
		TH_LOG("entry 2, after the illegal one, was applied");
	}

	/* TLBI_NH_VA with bit 4 of word 1 (reserved) set: nothing issued. */
	smmu_cmd_tlbi_nh_va(cmds[0].cmd, g->asid, VA_X, true);
	cmds[0].cmd[1] |= htole64(SMMU_BIT(4));
	ASSERT_EQ(-EIO, forward(self->vm.iommufd, &self->n, cmds, 1, &done));
	ASSERT_EQ(0u, done);
	new_src(_metadata, self, seed_of(_metadata, smmu, 22));
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	ASSERT_EQ(0, edu_to_ram(edu, VA_X, 0, PAGE));
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(c), PAGE));

	cmds[0].cmd[1] &= ~htole64(SMMU_BIT(4));
	forward1(_metadata, self->vm.iommufd, &self->n, &cmds[0]);
	ASSERT_EQ(0, edu_to_ram(edu, VA_X, 0, PAGE));
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(d), PAGE));
}

/*
 * Commands a guest may not have forwarded: each alone fails with EIO at
 * index 0. Then the legal forms, and the entry_len/entry_num rules.
 */
TEST_F(nested, cmd_allow_list)
{
	struct guest *g = &self->n.g;
	int fd = self->vm.iommufd;
	struct {
		const char *what;
		__u64 w0, w1;
	} bad[] = {
		{ "CFGI_STE", SMMU_CMD_CFGI_STE | SMMU_FIELD(SMMU_CMD_0_SID,
							   VSID_BASE), 0 },
		{ "CFGI_ALL", SMMU_CMD_CFGI_ALL, 31 },
		{ "CMD_SYNC", SMMU_CMD_SYNC, 0 },
		{ "PREFETCH_CFG", SMMU_CMD_PREFETCH_CFG, 0 },
		{ "TLBI_S12_VMALL", SMMU_CMD_TLBI_S12_VMALL, 0 },
		{ "TLBI_S2_IPA", SMMU_CMD_TLBI_S2_IPA, GUEST_RAM_IPA },
		{ "TLBI_EL2_ALL", SMMU_CMD_TLBI_EL2_ALL, 0 },
		{ "ATC_INV (no ATS)", SMMU_CMD_ATC_INV |
		  SMMU_FIELD(SMMU_CMD_0_SID, VSID_BASE), 0 },
		{ "opcode 0xff", 0xff, 0 },
		{ "TLBI_NH_VA, w1 bit 4", SMMU_CMD_TLBI_NH_VA,
		  VA_DST | SMMU_BIT(4) },
		{ "TLBI_NH_VA, w0 bit 9", SMMU_CMD_TLBI_NH_VA | SMMU_BIT(9),
		  VA_DST },
		{ "TLBI_NH_ASID, w1 set", SMMU_CMD_TLBI_NH_ASID, 1 },
		{ "TLBI_NH_ALL, ASID set", SMMU_CMD_TLBI_NH_ALL |
		  SMMU_FIELD(SMMU_CMD_0_ASID, 1), 0 },
		{ "CFGI_CD, SSEC", SMMU_CMD_CFGI_CD | SMMU_CMD_0_SSEC, 0 },
		{ "CFGI_CD, SSID 1 (no SSIDs)", SMMU_CMD_CFGI_CD |
		  SMMU_FIELD(SMMU_CMD_0_CFGI_SSID, 1), 0 },
	};
	vcmd_t cmd;
	__u32 done;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		__u64 w0 = bad[i].w0;

		/* Give the CFGI_CDs a valid vSID: only the named bit is bad. */
		if ((w0 & 0xff) == SMMU_CMD_CFGI_CD)
			w0 |= SMMU_FIELD(SMMU_CMD_0_SID, g->vsid);
		cmd.cmd[0] = htole64(w0);
		cmd.cmd[1] = htole64(bad[i].w1);
		ASSERT_EQ(-EIO, forward(fd, &self->n, &cmd, 1, &done)) {
			TH_LOG("%s: %s", bad[i].what, strerror(errno));
		}
		ASSERT_EQ(0u, done) {
			TH_LOG("%s", bad[i].what);
		}
	}

	/* The legal ones. */
	smmu_cmd_tlbi_nh_va(cmd.cmd, g->asid, VA_DST, false);
	forward1(_metadata, fd, &self->n, &cmd);
	smmu_cmd_op(cmd.cmd, SMMU_CMD_TLBI_NH_VAA);
	cmd.cmd[1] = htole64(VA_DST);
	forward1(_metadata, fd, &self->n, &cmd);
	smmu_cmd_tlbi_nh_asid(cmd.cmd, g->asid);
	forward1(_metadata, fd, &self->n, &cmd);
	smmu_cmd_tlbi_nh_all(cmd.cmd);
	forward1(_metadata, fd, &self->n, &cmd);
	smmu_cmd_op(cmd.cmd, SMMU_CMD_TLBI_NSNH_ALL);
	forward1(_metadata, fd, &self->n, &cmd);
	smmu_cmd_cfgi_cd_all(cmd.cmd, g->vsid);
	forward1(_metadata, fd, &self->n, &cmd);

	/* entry_num 0 probes the data type: 0, nothing done. */
	ASSERT_EQ(0, forward(fd, &self->n, NULL, 0, &done));
	ASSERT_EQ(0u, done);
}

/*
 * entry_len, as for every iommufd user struct: shorter than the struct is
 * EINVAL; longer is fine if the bytes the kernel does not know are zero
 * (a newer VMM's entries on an older kernel), E2BIG if they are not.
 */
TEST_F(nested, invalidate_entry_len)
{
	struct guest *g = &self->n.g;
	int fd = self->vm.iommufd;
	struct {
		vcmd_t cmd;
		__u64 extra[2];
	} big = {};
	vcmd_t cmd;
	__u32 done;

	/* Entries shorter than the struct: EINVAL. */
	smmu_cmd_tlbi_nh_asid(cmd.cmd, g->asid);
	done = 1;
	EXPECT_EQ(-EINVAL, vmm_viommu_invalidate(fd, self->n.viommu_id,
				VSMMU_INV_DATA,
				&cmd, sizeof(cmd) - 8, &done));
	EXPECT_EQ(0u, done);
	/* Longer entries with zeroes after the struct: fine... */
	smmu_cmd_tlbi_nh_asid(big.cmd.cmd, g->asid);
	done = 1;
	EXPECT_EQ(0, vmm_viommu_invalidate(fd, self->n.viommu_id,
				VSMMU_INV_DATA,
				&big, sizeof(big), &done));
	EXPECT_EQ(1u, done);
	/* ...with anything else there: E2BIG. */
	big.extra[1] = 1;
	done = 1;
	EXPECT_EQ(-E2BIG, vmm_viommu_invalidate(fd, self->n.viommu_id,
				VSMMU_INV_DATA,
				&big, sizeof(big), &done));
	EXPECT_EQ(0u, done);
}

/*
 * Commands naming a vSID: the kernel finds the physical SID through
 * SET_DEV_ID; a vSID no device has on this vIOMMU fails that entry (EIO,
 * entry_num = its index), whatever comes after it.
 */
TEST_F(nested, unknown_vsid)
{
	struct guest *g = &self->n.g;
	vcmd_t cmds[3];
	__u32 done;

	smmu_cmd_cfgi_cd(cmds[0].cmd, g->vsid, 0, true);
	smmu_cmd_cfgi_cd(cmds[1].cmd, g->vsid + 0x1000, 0, true);
	smmu_cmd_cfgi_cd(cmds[2].cmd, g->vsid, 0, true);
	ASSERT_EQ(-EIO, forward(self->vm.iommufd, &self->n, cmds, 3, &done));
	ASSERT_EQ(1u, done);
	smmu_cmd_cfgi_cd_all(cmds[0].cmd, 0xffffffffu);
	ASSERT_EQ(-EIO, forward(self->vm.iommufd, &self->n, cmds, 1, &done));
	ASSERT_EQ(0u, done);
	/* The physical SID is not a vSID either (unless they are equal). */
	smmu_cmd_cfgi_cd_all(cmds[0].cmd, 0);
	ASSERT_EQ(-EIO, forward(self->vm.iommufd, &self->n, cmds, 1, &done));
	ASSERT_EQ(0u, done);
	/* The real one still works. */
	smmu_cmd_cfgi_cd_all(cmds[0].cmd, g->vsid);
	forward1(_metadata, self->vm.iommufd, &self->n, &cmds[0]);
}

/*
 * The vSTE allow-list: only the guest's stage-1 fields, and configs the
 * guest may pick. Each bad one fails IOMMU_HWPT_ALLOC with EIO.
 */
TEST_F(nested, vste_allow_list)
{
	struct nest *n = &self->n;
	__u64 good0, good1;
	struct {
		const char *what;
		__u64 set0, set1, clear0;
	} bad[] = {
		{ "Config S2 only", SMMU_FIELD(SMMU_STE_0_CFG, 6), 0,
		  SMMU_STE_0_CFG },
		{ "Config nested", SMMU_FIELD(SMMU_STE_0_CFG, 7), 0,
		  SMMU_STE_0_CFG },
		{ "Config reserved 1", SMMU_FIELD(SMMU_STE_0_CFG, 1), 0,
		  SMMU_STE_0_CFG },
		{ "word 0 bit 55 (reserved)", SMMU_BIT(55), 0, 0 },
		{ "S1CDMax 1 (no SSIDs)", SMMU_FIELD(SMMU_STE_0_S1CDMAX, 1),
		  0, 0 },
		{ "STRW", 0, SMMU_FIELD(SMMU_STE_1_STRW, 2), 0 },
		{ "SHCFG", 0, SMMU_FIELD(SMMU_STE_1_SHCFG, 1), 0 },
		{ "EATS split-stage", 0, SMMU_FIELD(SMMU_STE_1_EATS, 2), 0 },
		{ "DRE (word 1 bit 12)", 0, SMMU_BIT(12), 0 },
	};
	struct vste vste;
	__u32 id;
	size_t i;

	vste_of(&n->g, &vste);
	good0 = le64toh(vste.ste[0]);
	good1 = le64toh(vste.ste[1]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vste.ste[0] = htole64((good0 & ~bad[i].clear0) | bad[i].set0);
		vste.ste[1] = htole64(good1 | bad[i].set1);
		id = 0;
		ASSERT_EQ(-EIO, vmm_hwpt_alloc(self->vm.iommufd, n->vd.dev.dev_id,
					       n->viommu_id, 0,
					       VSMMU_HWPT_DATA,
					       &vste, sizeof(vste), &id)) {
			TH_LOG("%s: %s", bad[i].what, strerror(errno));
		}
	}
	/* V = 0 with junk in the rest: fine, it aborts. */
	vste.ste[0] = htole64(good0 & ~SMMU_STE_0_V);
	vste.ste[1] = htole64(good1 | SMMU_FIELD(SMMU_STE_1_STRW, 2));
	ASSERT_EQ(0, vmm_hwpt_alloc(self->vm.iommufd, n->vd.dev.dev_id,
				    n->viommu_id, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &id));
	ASSERT_EQ(0, vmm_destroy(self->vm.iommufd, id));
}

/*
 * The guest's other STE configs, seen by DMA: bypass is stage 2 only (the
 * device's addresses are IPAs), abort stops everything, and switching
 * back to stage 1 works again (each switch is an STE change the kernel
 * invalidates itself).
 */
TEST_F(nested, vste_bypass_and_abort)
{
	struct nest *n = &self->n;
	struct edu *edu = &n->vd.edu;
	struct vste vste;
	__u32 bypass, abort_id;

	smmu_ste_cfg(vste.ste, SMMU_STE_0_CFG_BYPASS);
	ASSERT_EQ(0, vmm_hwpt_alloc(self->vm.iommufd, n->vd.dev.dev_id,
				    n->viommu_id, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &bypass));
	smmu_ste_cfg(vste.ste, SMMU_STE_0_CFG_ABORT);
	ASSERT_EQ(0, vmm_hwpt_alloc(self->vm.iommufd, n->vd.dev.dev_id,
				    n->viommu_id, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &abort_id));

	/* Stage 1 first, so that its translations are cached. */
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);

	/* Bypass: IPAs work, VAs do not. */
	ASSERT_EQ(0, vmm_dev_attach(&n->vd.dev, bypass, NULL));
	new_src(_metadata, self, seed_of(_metadata, n->vd.smmu, 23));
	memcpy(self->snap, self->vm.ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, VA_SRC, 0, PAGE, false);
	dma_may_fault(_metadata, edu, VA_DST, 0, PAGE, true);
	ASSERT_EQ(-1, pattern_diff(self->snap, self->vm.ram_hva, GUEST_RAM_SIZE));
	dma_copy(_metadata, edu, self->src_ipa, self->dst_ipa, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(self->dst_ipa), PAGE));
	/* Load the device with data that is nowhere in guest RAM... */
	new_src(_metadata, self, seed_of(_metadata, n->vd.smmu, 24));
	ASSERT_EQ(0, edu_to_dev(edu, self->src_ipa, 0, PAGE));
	pattern_fill(PG(self->src_ipa), PAGE, seed_of(_metadata, n->vd.smmu, 26));

	/* ...abort: it writes nothing anywhere. */
	ASSERT_EQ(0, vmm_dev_attach(&n->vd.dev, abort_id, NULL));
	memcpy(self->snap, self->vm.ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, self->dst_ipa, 0, PAGE, true);
	dma_may_fault(_metadata, edu, VA_DST, 0, PAGE, true);
	ASSERT_EQ(-1, pattern_diff(self->snap, self->vm.ram_hva, GUEST_RAM_SIZE));

	/* Stage 1 again. */
	ASSERT_EQ(0, vmm_dev_attach(&n->vd.dev, n->nested_id, NULL));
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(self->dst_ipa), PAGE));
	ASSERT_EQ(-EBUSY, vmm_destroy(self->vm.iommufd, n->nested_id));
	ASSERT_EQ(0, vmm_destroy(self->vm.iommufd, bypass));
	ASSERT_EQ(0, vmm_destroy(self->vm.iommufd, abort_id));
}
