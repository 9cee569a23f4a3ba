/* SPDX-License-Identifier: GPL-2.0 */
/*
 * e2e-nested: the VM both parts of the program play, as every fixture
 * sets it up: the guest's vSMMU structures in its RAM, and the VMM's
 * nested objects for one edu behind one SMMU.
 *
 * Part of the e2e-nested program: main.c includes it (a part, not a
 * header to share).
 */

/*
 * PAGE is the guest's: the 4 KiB granule of its stage-1 tables, its RAM
 * allocator's unit and the size of a transfer (the edu's buffer). HPAGE
 * is the host's (vmm.h), the unit of what the VMM maps in the IOAS (the
 * stage 2): 4 KiB or 64 KiB. Guest RAM, its IPA and the other IPAs the
 * VMM maps are aligned to any host page size.
 */
#define PAGE		4096ul
#define HPAGE		vmm_page_size()
#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/*
 * The guest's physical address space (the IOAS): 1 MiB of guest RAM at
 * 1 GiB, where QEMU's "virt" machine puts RAM. The stage-1 tables, the CD
 * and the data pages are all allocated from it. IPA_HOLE is not mapped in
 * the IOAS: stage 2 faults there. IPA_RO is mapped read-only.
 */
#define GUEST_RAM_IPA	0x40000000ull
#define GUEST_RAM_SIZE	(1ull << 20)
#define IPA_HOLE	0x50000000ull
#define IPA_RO		0x60000000ull

/*
 * Guest virtual addresses (stage-1 input addresses) the device is given:
 * 48-bit, far from the IPAs, in different level-0/1/2 tables.
 */
#define VA_SRC		0x0000123400000000ull
#define VA_DST		0x0000123400200000ull
#define VA_X		0x00005678c0000000ull
#define VA_Y		0x00007ff000000000ull
#define VA_NONE		0x0000400000000000ull	/* never mapped */

/*
 * The guest's names: vSID of edu i is VSID_BASE + i when the VMM gives it
 * with IOMMU_VIOMMU_SET_DEV_ID, VSID_VDEV_BASE + i with
 * IOMMU_VDEVICE_ALLOC (so the QEMU trace tells the two front doors
 * apart: scripts/check-vcmdq-trace.sh); its CD's ASID.
 */
#define VSID_BASE	0x42
#define VSID_VDEV_BASE	0x52
#define ASID		1
#define ASID_OTHER	2

/*
 * The SMMUv3 part of the uAPI. The vIOMMU core (IOMMU_VIOMMU_ALLOC,
 * IOMMU_VIOMMU_TYPE_ARM_SMMUV3, SET_DEV_ID) comes from linux/iommufd.h;
 * the hardware info, nested-HWPT data and invalidation entries of SMMUv3
 * are enum constants and structs there, which the preprocessor cannot
 * test for, and the kernels this program is built against differ: the
 * vIOMMU core alone (build/kobj) or with the SMMUv3 driver part
 * (build/kobj-smmu). So, as VMMs that carry their own copy of the kernel
 * headers do, they are declared here under our own names, byte for byte
 * the uAPI's (include/uapi/linux/iommufd.h):
 *
 *	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2	struct iommu_hw_info_arm_smmuv3
 *	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2		struct iommu_hwpt_arm_smmuv3
 *	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1
 *		struct iommu_viommu_arm_smmuv3_invalidate
 *
 * A kernel without them answers at run time (another hw_info type, or
 * EOPNOTSUPP), never by misreading the structs.
 */
#define VSMMU_HW_INFO_TYPE	2u	/* IOMMU_HW_INFO_TYPE_ARM_SMMUV3 */
#define VSMMU_HWPT_DATA		2u	/* IOMMU_HWPT_DATA_ARM_SMMUV3 */
#define VSMMU_INV_DATA		1u	/* IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 */

/* struct iommu_hw_info_arm_smmuv3: the physical SMMU's registers. */
typedef struct {
	__u32 flags;
	__u32 __reserved;
	__u32 idr[6];		/* SMMU_IDR0..5 */
	__u32 iidr;
	__u32 aidr;
} smmu_info_t;

/* struct iommu_hwpt_arm_smmuv3: the guest's STE, words 0-1. */
struct vste {
	__aligned_le64 ste[2];
};

/*
 * struct iommu_viommu_arm_smmuv3_invalidate: one guest command, as
 * IOMMU_HWPT_INVALIDATE takes it.
 */
typedef struct {
	__aligned_le64 cmd[2];
} vcmd_t;

/* Is any bit of @mask set in @reg (an int, for the harness's compares). */
#define HAS(reg, mask)	(((reg) & (mask)) != 0)

/* The vSID of the edu behind SMMU @smmu, by front door. */
static __u32 vsid_of(int smmu, bool vdevice)
{
	return (vdevice ? VSID_VDEV_BASE : VSID_BASE) + smmu;
}

/* ---- the guest: its vSMMU driver's structures in guest RAM ----------- */

struct guest {
	struct smmu_guest_ram *ram;
	struct smmu_s1_table s1;	/* the address space of the device */
	__u64 cd_ipa;			/* its one CD (S1CDMax = 0) */
	__u16 asid;
	unsigned int ips;		/* CD.IPS: the guest's IPA size */
	__u32 vsid;			/* the device's StreamID, as it sees it */
};

static void *hva(struct smmu_guest_ram *ram, __u64 ipa)
{
	return smmu_ram_hva(ram, ipa);
}

/*
 * Write the CD: a guest changing a live CD. Word 1 (TTB0) first, then word
 * 0 (ASID); each a single 64-bit store. An architected guest would first
 * make the CD invalid (V = 0, CFGI_CD), as the Linux driver does; no DMA
 * is in flight here while the words change, so the SMMU cannot fetch a
 * half-written CD, and what the tests observe is only what the SMMU had
 * cached before.
 */
static void guest_write_cd(struct guest *g, __u16 asid, __u64 ttb0)
{
	struct smmu_cd_cfg cfg = {
		.asid = asid,
		.ttb0 = ttb0,
		.va_bits = 48,
		.ips = g->ips,
	};
	__le64 cd[8], *live = hva(g->ram, g->cd_ipa);
	int i;

	smmu_cd_build(cd, &cfg);
	for (i = 7; i >= 0; i--)
		smmu_write64(&live[i], cd[i]);
	g->asid = asid;
}

static void guest_init(struct __test_metadata *_metadata, struct guest *g,
		       struct smmu_guest_ram *ram, __u32 vsid, unsigned int ips)
{
	memset(g, 0, sizeof(*g));
	g->ram = ram;
	g->vsid = vsid;
	g->ips = ips;
	g->cd_ipa = smmu_ram_alloc(ram);
	ASSERT_NE(0ull, g->cd_ipa);
	ASSERT_EQ(0, smmu_s1_init(&g->s1, ram));
	guest_write_cd(g, ASID, g->s1.root);
}

/* A new page of guest RAM filled with a pattern: its IPA. */
static __u64 guest_page(struct __test_metadata *_metadata,
			struct smmu_guest_ram *ram, __u32 seed)
{
	__u64 ipa = smmu_ram_alloc(ram);

	ASSERT_NE(0ull, ipa) {
		TH_LOG("guest RAM used up");
	}
	pattern_fill(hva(ram, ipa), PAGE, seed);
	return ipa;
}

/* ---- the VMM: a device (lib/edutest.h), its IOMMU objects ---------- */

/* What the VMM keeps for one assigned device behind one physical SMMU. */
struct nest {
	struct vm_dev vd;
	smmu_info_t info;		/* the physical SMMU's ID registers */
	__u32 parent_id;		/* stage 2: the IOAS as a nest parent */
	__u32 viommu_id;		/* the VM's slice of the SMMU */
	__u32 nested_id;		/* stage 1: the guest's STE */
	struct guest g;			/* the guest side */
	/*
	 * The front door of the device's virtual ID: IOMMU_VDEVICE_ALLOC
	 * (mainline's, what QEMU 11.1 calls) if set, else
	 * IOMMU_VIOMMU_SET_DEV_ID. vdevice_id: the vDEVICE, 0 if none.
	 */
	bool use_vdevice;
	__u32 vdevice_id;
#ifdef VMM_HAVE_HW_QUEUE
	/* 0 for IOMMU_VIOMMU_TYPE_ARM_SMMUV3, or TEGRA241_CMDQV: */
	__u32 viommu_type;
	struct iommu_viommu_tegra241_cmdqv cmdqv;	/* its VINTF page0 */
#endif
};

/* IOMMU_GET_HW_INFO: what the VMM bases its vSMMU's ID registers on. */
static void get_hw_info(struct __test_metadata *_metadata, int iommufd,
			__u32 dev_id, smmu_info_t *info)
{
	__u32 len = sizeof(*info), type = 0;

	memset(info, 0xa5, sizeof(*info));
	ASSERT_EQ(0, vmm_hw_info(iommufd, dev_id, info, &len, &type, NULL));
	ASSERT_EQ(VSMMU_HW_INFO_TYPE, type);
	ASSERT_EQ(sizeof(*info), len);
	ASSERT_EQ(0u, info->flags);
	ASSERT_EQ(0u, info->__reserved);
}

/* The guest's STE for @g, as the VMM hands it to IOMMU_HWPT_ALLOC. */
static void vste_of(struct guest *g, struct vste *vste)
{
	smmu_ste_s1(vste->ste, g->cd_ipa);
}

/*
 * Give the device of @n the virtual ID @vsid on its vIOMMU, through the
 * front door @n uses; a vDEVICE's id goes to n->vdevice_id.
 */
static int nest_give_id(int iommufd, struct nest *n, __u32 vsid)
{
	if (n->use_vdevice)
		return vmm_vdevice_alloc(iommufd, n->viommu_id,
					 n->vd.dev.dev_id, vsid,
					 &n->vdevice_id);
	return vmm_viommu_set_dev_id(iommufd, n->viommu_id, n->vd.dev.dev_id,
				     vsid);
}

/* Take the virtual ID @vsid away again, through the same door. */
static int nest_drop_id(int iommufd, struct nest *n, __u32 vsid)
{
	int ret;

	if (!n->use_vdevice)
		return vmm_viommu_unset_dev_id(iommufd, n->viommu_id,
					       n->vd.dev.dev_id, vsid);
	ret = vmm_vdevice_destroy(iommufd, n->vdevice_id);
	if (!ret)
		n->vdevice_id = 0;
	return ret;
}

/*
 * The whole VMM sequence for the edu behind SMMU @smmu, in a VM whose RAM
 * @ram is mapped in @ioas: parent, vIOMMU, vSID @vsid, guest structures,
 * nested HWPT, attach.
 */
static void nest_setup(struct __test_metadata *_metadata, struct nest *n,
		       int smmu, int iommufd, __u32 ioas,
		       struct smmu_guest_ram *ram, __u32 vsid)
{
	__u32 type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3, data_len = 0;
	void *data = NULL;
	struct vste vste;
	unsigned int oas;

	vm_dev_bind(_metadata, &n->vd, smmu, iommufd);
	get_hw_info(_metadata, iommufd, n->vd.dev.dev_id, &n->info);
	oas = SMMU_GET(SMMU_IDR5_OAS, n->info.idr[5]);

#ifdef VMM_HAVE_HW_QUEUE
	if (n->viommu_type) {
		type = n->viommu_type;
		data = &n->cmdqv;
		data_len = sizeof(n->cmdqv);
	}
#endif
	/*
	 * Stage 2 (the guest's IPA space, owned by the host) and the vIOMMU
	 * over it: this VM on this SMMU (it owns the VMID).
	 */
	ASSERT_EQ(0, vmm_viommu_create(iommufd, n->vd.dev.dev_id, ioas, type,
				       data, data_len, &n->parent_id,
				       &n->viommu_id)) {
		TH_LOG("nest parent and vIOMMU type %u: %s", type,
		       strerror(errno));
	}
	/* The device is vSID @vsid in the guest's stream table. */
	ASSERT_EQ(0, nest_give_id(iommufd, n, vsid)) {
		TH_LOG("virtual ID 0x%x (%s): %s", vsid,
		       n->use_vdevice ? "VDEVICE_ALLOC" : "SET_DEV_ID",
		       strerror(errno));
	}

	/* The guest builds its CD and an empty stage-1 address space... */
	guest_init(_metadata, &n->g, ram, vsid, oas);
	/* ...and its STE, which the VMM traps and turns into a nested HWPT. */
	vste_of(&n->g, &vste);
	ASSERT_EQ(0, vmm_hwpt_alloc(iommufd, n->vd.dev.dev_id, n->viommu_id, 0,
				    VSMMU_HWPT_DATA, &vste,
				    sizeof(vste), &n->nested_id)) {
		TH_LOG("nested HWPT: %s", strerror(errno));
	}
	ASSERT_EQ(0, vmm_dev_attach(&n->vd.dev, n->nested_id, NULL));
	ASSERT_EQ(n->nested_id, n->vd.dev.pt_id);
	vm_dev_enable(_metadata, &n->vd);
}

/* The VMM forwards @num guest commands; *@done: how many were handled. */
static int forward(int iommufd, struct nest *n, vcmd_t *cmds, __u32 num,
		   __u32 *done)
{
	*done = num;
	return vmm_viommu_invalidate(iommufd, n->viommu_id,
				     VSMMU_INV_DATA,
				     cmds, sizeof(*cmds), done);
}

/* Forward one command that must succeed. */
static void forward1(struct __test_metadata *_metadata, int iommufd,
		     struct nest *n, vcmd_t *cmd)
{
	__u32 done;

	ASSERT_EQ(0, forward(iommufd, n, cmd, 1, &done)) {
		TH_LOG("invalidate: %s", strerror(errno));
	}
	ASSERT_EQ(1u, done);
}

/* The device copies @len bytes from guest VA @from to guest VA @to. */
static void dma_copy(struct __test_metadata *_metadata, struct edu *edu,
		     __u64 from, __u64 to, __u32 len)
{
	ASSERT_EQ(0, edu_to_dev(edu, from, 0, len));
	ASSERT_EQ(0, edu_to_ram(edu, to, 0, len));
}

/* ---- the VM: an iommufd, its RAM in one IOAS ------------------------ */

/* One VM (iommufd) with its RAM in one IOAS; its devices bind to it. */
struct vm {
	int iommufd;
	__u32 ioas_id;
	__u8 *ram_hva;
	struct smmu_guest_ram ram;
};

/*
 * The VM's RAM, at its IPA in the IOAS: anonymous memory, or (@memfd) a
 * memfd mapped with IOMMU_IOAS_MAP_FILE, as QEMU does with a memfd memory
 * backend.
 */
static void vm_setup_ram(struct __test_metadata *_metadata, struct vm *vm,
			 bool memfd)
{
	vm->iommufd = vmm_iommufd_open();
	ASSERT_LE(0, vm->iommufd);
	ASSERT_EQ(0, vmm_ioas_alloc(vm->iommufd, &vm->ioas_id));
	if (memfd) {
		/*
		 * The VMM's view of guest RAM is a shared mapping of the
		 * memfd; the IOAS takes the file's pages, not this VA.
		 */
		int mfd = memfd_create("guest-ram", MFD_CLOEXEC);

		ASSERT_LE(0, mfd);
		ASSERT_EQ(0, ftruncate(mfd, GUEST_RAM_SIZE));
		vm->ram_hva = mmap(NULL, GUEST_RAM_SIZE,
				   PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		ASSERT_NE(MAP_FAILED, vm->ram_hva);
		ASSERT_EQ(0, vmm_ioas_map_file(vm->iommufd, vm->ioas_id, mfd, 0,
					       GUEST_RAM_SIZE, GUEST_RAM_IPA,
					       RW));
		ASSERT_EQ(0, close(mfd));
	} else {
		vm->ram_hva = pattern_alloc(GUEST_RAM_SIZE);
		ASSERT_NE(NULL, vm->ram_hva);
		ASSERT_EQ(0, vmm_ioas_map(vm->iommufd, vm->ioas_id,
					  vm->ram_hva, GUEST_RAM_SIZE,
					  GUEST_RAM_IPA, RW));
	}
	smmu_ram_init(&vm->ram, vm->ram_hva, GUEST_RAM_IPA, GUEST_RAM_SIZE);
}

static void vm_setup(struct __test_metadata *_metadata, struct vm *vm)
{
	vm_setup_ram(_metadata, vm, false);
}

/* One VM with both edus behind SMMU 0 bound to it: *@d0 and *@d1. */
static void vm_setup_pair(struct __test_metadata *_metadata, struct vm *vm,
			  struct vmm_dev *d0, struct vmm_dev *d1)
{
	struct vmm_dev *d[2] = { d0, d1 };
	struct vmm_pci pci[2];
	int i;

	ASSERT_EQ(0, edutest_find_pair(pci));
	vm_setup(_metadata, vm);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vmm_dev_open(d[i], &pci[i]));
		ASSERT_EQ(0, vmm_dev_bind(d[i], vm->iommufd));
	}
}

/* ---- two vSMMUs: one VM, an edu nested behind each SMMU -------------- */

/*
 * The edu behind SMMU i nested on a vIOMMU of its own, n[i], in one VM,
 * with the same VAs in both address spaces over other pages: VA_SRC ->
 * src[i], VA_DST -> dst[i]; dst2[i] is where the guests move VA_DST.
 */
struct two_nests {
	struct vm vm;
	struct nest n[2];
	__u64 src[2], dst[2], dst2[2];
};

/*
 * Set @t up with the vSIDs from SET_DEV_ID or VDEVICE_ALLOC (@vdevice) on
 * vIOMMUs of @viommu_type (0: ARM_SMMUV3); the pages' seeds from @tag.
 */
static void two_nests_setup(struct __test_metadata *_metadata,
			    struct two_nests *t, bool vdevice,
			    __u32 viommu_type, __u32 tag)
{
	int i;

	memset(t, 0, sizeof(*t));
	vm_setup(_metadata, &t->vm);
	for (i = 0; i < 2; i++) {
		struct nest *n = &t->n[i];

#ifdef VMM_HAVE_HW_QUEUE
		n->viommu_type = viommu_type;
#else
		ASSERT_EQ(0u, viommu_type);
#endif
		n->use_vdevice = vdevice;
		nest_setup(_metadata, n, i, t->vm.iommufd, t->vm.ioas_id,
			   &t->vm.ram, vsid_of(i, vdevice));
		t->src[i] = guest_page(_metadata, &t->vm.ram,
				       seed_of(_metadata, i, tag));
		t->dst[i] = guest_page(_metadata, &t->vm.ram,
				       seed_of(_metadata, i, tag + 1));
		t->dst2[i] = guest_page(_metadata, &t->vm.ram,
					seed_of(_metadata, i, tag + 2));
		ASSERT_EQ(0, smmu_s1_map(&n->g.s1, VA_SRC, t->src[i],
					 SMMU_PROT_READ));
		ASSERT_EQ(0, smmu_s1_map(&n->g.s1, VA_DST, t->dst[i],
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
	}
	ASSERT_NE(t->n[0].viommu_id, t->n[1].viommu_id);
}

/* Both guests move VA_DST to their dst2 page, and say nothing yet. */
static void two_nests_remap(struct __test_metadata *_metadata,
			    struct two_nests *t)
{
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, smmu_s1_map(&t->n[i].g.s1, VA_DST, t->dst2[i],
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
}

/*
 * Device @i copies a fresh pattern (@seed) from VA_SRC to VA_DST: it must
 * land in guest page @want (@why says what a miss means).
 */
static void two_nests_copy(struct __test_metadata *_metadata,
			   struct two_nests *t, int i, __u32 seed, __u64 want,
			   const char *why)
{
	struct smmu_guest_ram *ram = &t->vm.ram;

	pattern_fill(hva(ram, t->src[i]), PAGE, seed);
	dma_copy(_metadata, &t->n[i].vd.edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(hva(ram, t->src[i]), hva(ram, want),
				   PAGE)) {
		TH_LOG("device %s: %s", t->n[i].vd.dev.pci.bdf, why);
	}
}

static void two_nests_teardown(struct two_nests *t)
{
	int i;

	for (i = 0; i < 2; i++)
		vm_dev_teardown(&t->n[i].vd);
	close(t->vm.iommufd);
}
