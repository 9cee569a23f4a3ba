// SPDX-License-Identifier: GPL-2.0
/*
 * e2e-nested: nested (stage 1 over stage 2) translation through an iommufd
 * vIOMMU, end to end, with QEMU's edu device doing real DMA through the
 * emulated SMMUv3s of the dual topology.
 *
 * This program plays both parts of a VM with a virtual SMMUv3:
 *
 *  - the VMM: it binds the device's VFIO cdev to an iommufd, maps "guest
 *    RAM" (a buffer of this process) into an IOAS at the guest physical
 *    addresses (IPAs) the guest sees, makes a nesting-parent HWPT of the
 *    IOAS (stage 2, IPA -> host memory), a vIOMMU on it, gives the device
 *    its virtual StreamID (vSID), and turns the guest's STE into a nested
 *    HWPT the device is attached to. When the guest issues invalidation
 *    commands, the VMM passes them on with IOMMU_HWPT_INVALIDATE.
 *
 *  - the guest: it writes a Context Descriptor and stage-1 page tables
 *    (guest VA -> IPA) into its RAM, names them in its STE, programs the
 *    device with guest VAs, and issues TLBI/CFGI commands after changing
 *    its tables (the builders are in lib/smmuv3.[ch]).
 *
 * Each DMA goes VA --(guest's stage 1)--> IPA --(VMM's stage 2)--> host
 * page, and every check compares bytes in the host pages. Patterns differ
 * per test and per run (the seed is logged).
 *
 * QEMU's SMMUv3 caches configurations (STE + CD, per StreamID) and
 * translations (IOTLB, tagged by ASID and VMID), like real hardware, so a
 * missing invalidation shows as DMA landing in the page of the old
 * translation. The invalidation tests assert exactly that: a change without
 * invalidation is not seen, the right command makes it seen. This is
 * QEMU's behaviour as much as the kernel's: an SMMU that caches nothing
 * would fail the "stale" half, and the test says so.
 *
 * The VMM gives the device its vSID through either front door: the
 * series' IOMMU_VIOMMU_SET_DEV_ID or mainline's IOMMU_VDEVICE_ALLOC (what
 * QEMU 11.1 calls); the fixtures run every DMA and invalidation test with
 * each. The guest's own faults (a bad CD, an unmapped or read-only VA) come
 * back to the VMM through the vIOMMU's vEVENTQ with the vSID in the event
 * record, as they would reach the guest's vSMMU event queue; a Tegra241
 * VCMDQ's errors through a vEVENTQ of their own. The `*_memfd` variants
 * keep guest RAM in a memfd mapped with IOMMU_IOAS_MAP_FILE, as QEMU does
 * with a memfd memory backend.
 *
 * The MSI tests route the edu's MSI to an eventfd (VFIO_DEVICE_SET_IRQS)
 * and make the device raise it: it must arrive while the guest keeps the
 * SMMU's software MSI window 1:1 in its stage 1, the kernel having mapped
 * the ITS doorbell there in the nesting parent's stage 2.
 *
 * Needs: the dual topology (SMMUs with stage=nested, fwb=on), every edu
 * bound to vfio-pci (bind-vfio 1234:11e8 runs first), and uAPI headers
 * with the vIOMMU ioctls, vDEVICEs and vEVENTQs (without them the program
 * only reports a skip).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "edu.h"
#include "pattern.h"
#include "smmuv3.h"
#include "vcmdq.h"
#include "vmm.h"

#if !defined(VMM_HAVE_VIOMMU) || !defined(VMM_HAVE_VDEVICE) || \
	!defined(VMM_HAVE_VEVENTQ)
#include <kselftest.h>

/* Built against a kernel without the vIOMMU uAPI (e.g. plain 6.12). */
int main(void)
{
	ksft_print_header();
	ksft_exit_skip("no vIOMMU uAPI (IOMMU_VIOMMU_SET_DEV_ID, IOMMU_VDEVICE_ALLOC, IOMMU_VEVENTQ_ALLOC) in the headers\n");
}
#else

/* The harness's macros leave parameters unused, which -Wextra reports. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <kselftest_harness.h>

#define PAGE		4096ul
#define MAX_EDU		4
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

/* ---- patterns ------------------------------------------------------- */

static __u32 run_seed;

/* One seed per test process (each test forks), logged for reproduction. */
static __u32 seed_of(struct __test_metadata *_metadata, int smmu, __u32 tag)
{
	if (!run_seed) {
		run_seed = pattern_run_seed();
		TH_LOG("pattern seed 0x%08x", run_seed);
	}
	return pattern_seed(run_seed, smmu, tag);
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

/* ---- the VMM: a device, its IOMMU objects --------------------------- */

struct vm_dev {
	struct vmm_dev dev;
	struct vmm_region bar0;
	struct edu edu;
	int smmu;
};

/* Open the cdev of the edu behind SMMU @smmu and bind it to @iommufd. */
static void vm_dev_bind(struct __test_metadata *_metadata, struct vm_dev *vd,
			int smmu, int iommufd)
{
	struct vmm_pci pci[MAX_EDU];
	int n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, MAX_EDU);

	/* The first edu behind each SMMU. */
	ASSERT_LE(2, n);
	ASSERT_GE(MAX_EDU, n);
	ASSERT_EQ(2, vmm_pci_per_iommu(pci, n));
	vd->smmu = smmu;
	ASSERT_EQ(0, vmm_dev_open(&vd->dev, &pci[smmu])) {
		TH_LOG("open %s: %s", pci[smmu].cdev, strerror(errno));
	}
	ASSERT_EQ(0, vmm_dev_bind(&vd->dev, iommufd));
	ASSERT_NE(0u, vd->dev.dev_id);
}

/* BAR0, memory decode and bus master: the device may DMA now. */
static void vm_dev_enable(struct __test_metadata *_metadata, struct vm_dev *vd)
{
	ASSERT_EQ(0, edu_enable(&vd->edu, &vd->dev, &vd->bar0)) {
		TH_LOG("enable edu %s: %s", vd->dev.pci.bdf, strerror(errno));
	}
}

static void vm_dev_teardown(struct vm_dev *vd)
{
	edu_disable(&vd->edu, &vd->dev, &vd->bar0);
	vmm_dev_close(&vd->dev);
}

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

	/* Stage 2: the guest's IPA space, owned by the host. */
	ASSERT_EQ(0, vmm_hwpt_alloc(iommufd, n->vd.dev.dev_id, ioas,
				    IOMMU_HWPT_ALLOC_NEST_PARENT,
				    IOMMU_HWPT_DATA_NONE, NULL, 0,
				    &n->parent_id)) {
		TH_LOG("nest parent: %s", strerror(errno));
	}
	/* The vIOMMU: this VM on this SMMU (it owns the VMID). */
#ifdef VMM_HAVE_HW_QUEUE
	if (n->viommu_type) {
		type = n->viommu_type;
		data = &n->cmdqv;
		data_len = sizeof(n->cmdqv);
	}
#endif
	ASSERT_EQ(0, vmm_viommu_alloc(iommufd, n->vd.dev.dev_id, n->parent_id,
				      type, data, data_len, &n->viommu_id)) {
		TH_LOG("vIOMMU type %u: %s", type, strerror(errno));
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

/* A transfer the SMMU must stop: completion or a timeout, nothing else. */
static void dma_may_fault(struct __test_metadata *_metadata, struct edu *edu,
			  __u64 va, __u32 len, bool to_ram)
{
	int ret = edu_dma(edu, va, 0, len, to_ram, EDU_DMA_TIMEOUT_MS);

	if (ret == -ETIMEDOUT) {
		TH_LOG("faulting DMA did not complete");
		edu_dma_wait(edu, EDU_DMA_TIMEOUT_MS);
	} else {
		ASSERT_EQ(0, ret);
	}
}

/* ---- the fixture: one edu behind one SMMU, nested ------------------- */

FIXTURE(nested) {
	int iommufd;
	__u32 ioas_id;
	__u8 *ram_hva;
	struct smmu_guest_ram ram;
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

/* The vSID of the edu behind SMMU @smmu, by front door. */
static __u32 vsid_of(int smmu, bool vdevice)
{
	return (vdevice ? VSID_VDEV_BASE : VSID_BASE) + smmu;
}

FIXTURE_SETUP(nested)
{
	int smmu = variant->smmu;
	struct guest *g = &self->n.g;

	self->n.vd.dev.fd = -1;
	self->iommufd = vmm_iommufd_open();
	ASSERT_LE(0, self->iommufd);
	/* The VM's RAM, at its IPA in the IOAS. */
	ASSERT_EQ(0, vmm_ioas_alloc(self->iommufd, &self->ioas_id));
	self->snap = pattern_alloc(GUEST_RAM_SIZE);
	ASSERT_NE(NULL, self->snap);
	if (variant->memfd) {
		/*
		 * The VMM's view of guest RAM is a shared mapping of the
		 * memfd; the IOAS takes the file's pages, not this VA.
		 */
		int mfd = memfd_create("guest-ram", MFD_CLOEXEC);

		ASSERT_LE(0, mfd);
		ASSERT_EQ(0, ftruncate(mfd, GUEST_RAM_SIZE));
		self->ram_hva = mmap(NULL, GUEST_RAM_SIZE,
				     PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		ASSERT_NE(MAP_FAILED, self->ram_hva);
		ASSERT_EQ(0, vmm_ioas_map_file(self->iommufd, self->ioas_id,
					       mfd, 0, GUEST_RAM_SIZE,
					       GUEST_RAM_IPA, RW));
		ASSERT_EQ(0, close(mfd));
	} else {
		self->ram_hva = pattern_alloc(GUEST_RAM_SIZE);
		ASSERT_NE(NULL, self->ram_hva);
		ASSERT_EQ(0, vmm_ioas_map(self->iommufd, self->ioas_id,
					  self->ram_hva, GUEST_RAM_SIZE,
					  GUEST_RAM_IPA, RW));
	}
	smmu_ram_init(&self->ram, self->ram_hva, GUEST_RAM_IPA,
		      GUEST_RAM_SIZE);

	self->n.use_vdevice = variant->vdevice;
	nest_setup(_metadata, &self->n, smmu, self->iommufd, self->ioas_id,
		   &self->ram, vsid_of(smmu, variant->vdevice));

	/* The guest maps a source and a destination page for the device. */
	self->src_ipa = guest_page(_metadata, &self->ram,
				   seed_of(_metadata, smmu, 1));
	self->dst_ipa = guest_page(_metadata, &self->ram,
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
	if (self->iommufd >= 0)
		close(self->iommufd);
}

/* Guest RAM at @ipa, one page. */
#define PG(ipa)		((__u8 *)hva(&self->ram, (ipa)))

/* Put a fresh pattern in the source page: what the next copy carries. */
static void new_src(struct __test_metadata *_metadata,
		    FIXTURE_DATA(nested) *self, __u32 seed)
{
	pattern_fill(PG(self->src_ipa), PAGE, seed);
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

	memcpy(self->snap, self->ram_hva, GUEST_RAM_SIZE);
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
	ASSERT_EQ(-1, pattern_diff(self->snap, self->ram_hva, GUEST_RAM_SIZE));
	/*
	 * The IPA itself is not a device address: nothing is mapped there.
	 * (The device holds new data, so a write that reached the page
	 * anyway would show.)
	 */
	new_src(_metadata, self, seed_of(_metadata, self->n.vd.smmu, 25));
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	memcpy(self->snap, self->ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, self->dst_ipa, PAGE, true);
	ASSERT_EQ(-1, pattern_diff(self->snap, self->ram_hva, GUEST_RAM_SIZE));
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
	hi = guest_page(_metadata, &self->ram, seed_of(_metadata, 0, 3));
	lo = guest_page(_metadata, &self->ram, seed_of(_metadata, 0, 4));
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
 * a DMA write. Guest RAM (and the read-only page) stay untouched.
 */
TEST_F(nested, s1_and_s2_faults)
{
	struct edu *edu = &self->n.vd.edu;
	struct guest *g = &self->n.g;
	__u8 *ro = pattern_alloc(PAGE), *ro_copy = pattern_alloc(PAGE);
	__u64 ro_page = guest_page(_metadata, &self->ram,
				   seed_of(_metadata, 0, 5));

	ASSERT_NE(NULL, ro);
	ASSERT_NE(NULL, ro_copy);
	pattern_fill(ro, PAGE, seed_of(_metadata, 0, 6));
	memcpy(ro_copy, ro, PAGE);
	ASSERT_EQ(0, vmm_ioas_map(self->iommufd, self->ioas_id, ro, PAGE,
				  IPA_RO, IOMMU_IOAS_MAP_READABLE));
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
	memcpy(self->snap, self->ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, VA_NONE, PAGE, true);	/* S1 */
	dma_may_fault(_metadata, edu, VA_X, PAGE, true);	/* S1 R/O */
	dma_may_fault(_metadata, edu, VA_X + PAGE, PAGE, true);	/* S2 */
	dma_may_fault(_metadata, edu, VA_X + 2 * PAGE, PAGE, true); /* S2 R/O */
	ASSERT_EQ(-1, pattern_diff(self->snap, self->ram_hva, GUEST_RAM_SIZE));
	ASSERT_EQ(-1, pattern_diff(ro_copy, ro, PAGE));
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
	struct edu *edu = &self->n.vd.edu;
	struct guest *g = &self->n.g;
	int smmu = self->n.vd.smmu;
	__u64 a = self->dst_ipa;
	__u64 b = guest_page(_metadata, &self->ram, seed_of(_metadata, smmu, 7));
	__u8 *b0 = pattern_alloc(PAGE), *a0 = pattern_alloc(PAGE);
	vcmd_t cmd;

	ASSERT_NE(NULL, a0);
	ASSERT_NE(NULL, b0);
	/* 1. VA_DST -> A: the copy lands in A (and the SMMU caches that). */
	new_src(_metadata, self, seed_of(_metadata, smmu, 8));
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE));

	/* 2. The guest points VA_DST at B, and does not invalidate. */
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_DST, b, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));
	new_src(_metadata, self, seed_of(_metadata, smmu, 9));
	memcpy(b0, PG(b), PAGE);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(b0, PG(b), PAGE)) {
		TH_LOG("landed in the new page without TLBI: no IOTLB?");
	}
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE)) {
		TH_LOG("stale translation expected: data should be in A");
	}

	/* 3. TLBI_NH_VA(ASID, VA_DST): now it lands in B, A stays. */
	smmu_cmd_tlbi_nh_va(cmd.cmd, g->asid, VA_DST, true);
	forward1(_metadata, self->iommufd, &self->n, &cmd);
	new_src(_metadata, self, seed_of(_metadata, smmu, 10));
	memcpy(a0, PG(a), PAGE);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(b), PAGE)) {
		TH_LOG("TLBI_NH_VA did not reach the SMMU's IOTLB");
	}
	ASSERT_EQ(-1, pattern_diff(a0, PG(a), PAGE));
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
		old[i] = guest_page(_metadata, &self->ram,
				    seed_of(_metadata, smmu, 40 + i));
		new[i] = guest_page(_metadata, &self->ram,
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
	forward1(_metadata, self->iommufd, &self->n, &cmd);

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
	__u64 b = guest_page(_metadata, &self->ram,
			     seed_of(_metadata, smmu, 61));
	vcmd_t cmd;

	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE));
	ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_DST, b, SMMU_PROT_READ |
				 SMMU_PROT_WRITE));
	new_src(_metadata, self, seed_of(_metadata, smmu, 62));
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE));

	smmu_cmd_op(cmd.cmd, SMMU_CMD_TLBI_NSNH_ALL);
	forward1(_metadata, self->iommufd, &self->n, &cmd);
	new_src(_metadata, self, seed_of(_metadata, smmu, 63));
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(b), PAGE));
}

/*
 * A second stage-1 address space for the CD tests: the same VA_SRC, and
 * VA_DST on page @dst.
 */
static void second_table(struct __test_metadata *_metadata,
			 FIXTURE_DATA(nested) *self, struct smmu_s1_table *t,
			 __u64 dst)
{
	ASSERT_EQ(0, smmu_s1_init(t, &self->ram));
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
	struct edu *edu = &self->n.vd.edu;
	struct guest *g = &self->n.g;
	int smmu = self->n.vd.smmu;
	struct smmu_s1_table t2;
	__u64 a = self->dst_ipa;
	__u64 b = guest_page(_metadata, &self->ram,
			     seed_of(_metadata, smmu, 11));
	__u8 *b0 = pattern_alloc(PAGE), *a0 = pattern_alloc(PAGE);
	vcmd_t cmd;

	ASSERT_NE(NULL, a0);
	ASSERT_NE(NULL, b0);
	second_table(_metadata, self, &t2, b);

	new_src(_metadata, self, seed_of(_metadata, smmu, 12));
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE));

	/* The guest rewrites its CD: TTB0 = t2, ASID 2. No CFGI_CD yet. */
	guest_write_cd(g, ASID_OTHER, t2.root);
	new_src(_metadata, self, seed_of(_metadata, smmu, 13));
	memcpy(b0, PG(b), PAGE);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(b0, PG(b), PAGE)) {
		TH_LOG("new CD used without CFGI_CD: no config cache?");
	}
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE));

	/* CFGI_CD(vSID, SSID 0): the SMMU fetches the new CD. */
	smmu_cmd_cfgi_cd(cmd.cmd, g->vsid, 0, true);
	forward1(_metadata, self->iommufd, &self->n, &cmd);
	new_src(_metadata, self, seed_of(_metadata, smmu, 14));
	memcpy(a0, PG(a), PAGE);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(b), PAGE)) {
		TH_LOG("CFGI_CD did not reach the SMMU (wrong SID?)");
	}
	ASSERT_EQ(-1, pattern_diff(a0, PG(a), PAGE));
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
	__u64 b = guest_page(_metadata, &self->ram,
			     seed_of(_metadata, smmu, 15));
	__u8 *b0 = pattern_alloc(PAGE), *a0 = pattern_alloc(PAGE);
	vcmd_t cmd;

	ASSERT_NE(NULL, a0);
	ASSERT_NE(NULL, b0);
	second_table(_metadata, self, &t2, b);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE));

	guest_write_cd(g, g->asid, t2.root);
	smmu_cmd_cfgi_cd(cmd.cmd, g->vsid, 0, true);
	forward1(_metadata, self->iommufd, &self->n, &cmd);
	new_src(_metadata, self, seed_of(_metadata, smmu, 16));
	memcpy(b0, PG(b), PAGE);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(b0, PG(b), PAGE)) {
		TH_LOG("TLB entries of the ASID were dropped by CFGI_CD");
	}
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(a), PAGE));

	smmu_cmd_tlbi_nh_asid(cmd.cmd, g->asid);
	cmd.cmd[0] |= htole64(SMMU_FIELD(SMMU_CMD_0_VMID, 0x5a5a));
	forward1(_metadata, self->iommufd, &self->n, &cmd);
	new_src(_metadata, self, seed_of(_metadata, smmu, 17));
	memcpy(a0, PG(a), PAGE);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(b), PAGE)) {
		TH_LOG("TLBI_NH_ASID (guest VMID 0x5a5a) did not hit");
	}
	ASSERT_EQ(-1, pattern_diff(a0, PG(a), PAGE));
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
	int fd = self->iommufd;
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

	c = guest_page(_metadata, &self->ram, seed_of(_metadata, smmu, 18));
	b = guest_page(_metadata, &self->ram, seed_of(_metadata, smmu, 19));
	d = guest_page(_metadata, &self->ram, seed_of(_metadata, smmu, 20));
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
	ASSERT_EQ(-EIO, forward(self->iommufd, &self->n, cmds, 3, &done));
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
	ASSERT_EQ(-EIO, forward(self->iommufd, &self->n, cmds, 1, &done));
	ASSERT_EQ(0u, done);
	new_src(_metadata, self, seed_of(_metadata, smmu, 22));
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	ASSERT_EQ(0, edu_to_ram(edu, VA_X, 0, PAGE));
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(c), PAGE));

	cmds[0].cmd[1] &= ~htole64(SMMU_BIT(4));
	forward1(_metadata, self->iommufd, &self->n, &cmds[0]);
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
	int fd = self->iommufd;
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
	int fd = self->iommufd;
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
	ASSERT_EQ(-EIO, forward(self->iommufd, &self->n, cmds, 3, &done));
	ASSERT_EQ(1u, done);
	smmu_cmd_cfgi_cd_all(cmds[0].cmd, 0xffffffffu);
	ASSERT_EQ(-EIO, forward(self->iommufd, &self->n, cmds, 1, &done));
	ASSERT_EQ(0u, done);
	/* The physical SID is not a vSID either (unless they are equal). */
	smmu_cmd_cfgi_cd_all(cmds[0].cmd, 0);
	ASSERT_EQ(-EIO, forward(self->iommufd, &self->n, cmds, 1, &done));
	ASSERT_EQ(0u, done);
	/* The real one still works. */
	smmu_cmd_cfgi_cd_all(cmds[0].cmd, g->vsid);
	forward1(_metadata, self->iommufd, &self->n, &cmds[0]);
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
		ASSERT_EQ(-EIO, vmm_hwpt_alloc(self->iommufd, n->vd.dev.dev_id,
					       n->viommu_id, 0,
					       VSMMU_HWPT_DATA,
					       &vste, sizeof(vste), &id)) {
			TH_LOG("%s: %s", bad[i].what, strerror(errno));
		}
	}
	/* V = 0 with junk in the rest: fine, it aborts. */
	vste.ste[0] = htole64(good0 & ~SMMU_STE_0_V);
	vste.ste[1] = htole64(good1 | SMMU_FIELD(SMMU_STE_1_STRW, 2));
	ASSERT_EQ(0, vmm_hwpt_alloc(self->iommufd, n->vd.dev.dev_id,
				    n->viommu_id, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &id));
	ASSERT_EQ(0, vmm_destroy(self->iommufd, id));
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
	ASSERT_EQ(0, vmm_hwpt_alloc(self->iommufd, n->vd.dev.dev_id,
				    n->viommu_id, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &bypass));
	smmu_ste_cfg(vste.ste, SMMU_STE_0_CFG_ABORT);
	ASSERT_EQ(0, vmm_hwpt_alloc(self->iommufd, n->vd.dev.dev_id,
				    n->viommu_id, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &abort_id));

	/* Stage 1 first, so that its translations are cached. */
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);

	/* Bypass: IPAs work, VAs do not. */
	ASSERT_EQ(0, vmm_dev_attach(&n->vd.dev, bypass, NULL));
	new_src(_metadata, self, seed_of(_metadata, n->vd.smmu, 23));
	memcpy(self->snap, self->ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, VA_SRC, PAGE, false);
	dma_may_fault(_metadata, edu, VA_DST, PAGE, true);
	ASSERT_EQ(-1, pattern_diff(self->snap, self->ram_hva, GUEST_RAM_SIZE));
	dma_copy(_metadata, edu, self->src_ipa, self->dst_ipa, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(self->dst_ipa), PAGE));
	/* Load the device with data that is nowhere in guest RAM... */
	new_src(_metadata, self, seed_of(_metadata, n->vd.smmu, 24));
	ASSERT_EQ(0, edu_to_dev(edu, self->src_ipa, 0, PAGE));
	pattern_fill(PG(self->src_ipa), PAGE, seed_of(_metadata, n->vd.smmu, 26));

	/* ...abort: it writes nothing anywhere. */
	ASSERT_EQ(0, vmm_dev_attach(&n->vd.dev, abort_id, NULL));
	memcpy(self->snap, self->ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, self->dst_ipa, PAGE, true);
	dma_may_fault(_metadata, edu, VA_DST, PAGE, true);
	ASSERT_EQ(-1, pattern_diff(self->snap, self->ram_hva, GUEST_RAM_SIZE));

	/* Stage 1 again. */
	ASSERT_EQ(0, vmm_dev_attach(&n->vd.dev, n->nested_id, NULL));
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(PG(self->src_ipa), PG(self->dst_ipa), PAGE));
	ASSERT_EQ(-EBUSY, vmm_destroy(self->iommufd, n->nested_id));
	ASSERT_EQ(0, vmm_destroy(self->iommufd, bypass));
	ASSERT_EQ(0, vmm_destroy(self->iommufd, abort_id));
}

/* ---- MSI of a device on a nested HWPT ------------------------------- */

/*
 * The software MSI window of an SMMUv3 (its IOMMU_RESV_SW_MSI region). The
 * kernel gives a device on a nested HWPT an MSI address in it and maps the
 * ITS doorbell there in the nesting parent's stage 2; QEMU's IORT gives its
 * guest an RMR for the window, so the guest keeps it mapped 1:1 in its
 * stage 1. The MSI then goes IOVA -(stage 1)-> the same IPA -(stage 2)->
 * the doorbell, and the VMM sees it on the eventfd it gave VFIO.
 */
#define MSI_WINDOW	0x8000000ull
#define MSI_WINDOW_SIZE	0x100000ull
#define MSI_TIMEOUT_MS	2000
#define EDU_IRQ_TEST	0x1u	/* the status bit these tests raise */

/* What the guest does for the window QEMU's RMR describes. */
static void guest_map_msi_window(struct __test_metadata *_metadata,
				 struct guest *g)
{
	__u64 a;

	for (a = MSI_WINDOW; a < MSI_WINDOW + MSI_WINDOW_SIZE; a += PAGE)
		ASSERT_EQ(0, smmu_s1_map(&g->s1, a, a,
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
}

/* The VMM routes the device's MSI to a new eventfd (a KVM irqfd's). */
static int msi_enable(struct __test_metadata *_metadata, struct vm_dev *vd)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vmm_dev_irq_eventfd(&vd->dev, VFIO_PCI_MSI_IRQ_INDEX,
					 efd)) {
		TH_LOG("MSI of %s: %s", vd->dev.pci.bdf, strerror(errno));
	}
	return efd;
}

/* How many interrupts @efd counted, waiting up to @timeout_ms for one. */
static __u64 msi_count(int efd, int timeout_ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	__u64 n;

	if (poll(&pfd, 1, timeout_ms) != 1 || read(efd, &n, sizeof(n)) != 8)
		return 0;
	return n;
}

/*
 * The device raises its interrupt (@dma: at the end of a transfer to
 * @dma_iova, else through its IRQ register): exactly one MSI must reach
 * the VMM's eventfd, and none before.
 */
static void msi_check(struct __test_metadata *_metadata, struct vm_dev *vd,
		      int efd, const char *where, bool dma, __u64 dma_iova)
{
	__u32 bit = dma ? EDU_IRQ_DMA : EDU_IRQ_TEST;
	__u64 n;

	ASSERT_EQ(0ull, msi_count(efd, 0));
	if (dma) {
		ASSERT_EQ(0, edu_dma_start_irq(&vd->edu, dma_iova, 0, PAGE,
					       false));
	} else {
		edu_irq_raise(&vd->edu, bit);
	}
	n = msi_count(efd, MSI_TIMEOUT_MS);
	if (dma) {
		ASSERT_EQ(0, edu_dma_wait(&vd->edu, EDU_DMA_TIMEOUT_MS));
	}
	EXPECT_NE(0u, edu_read32(&vd->edu, EDU_REG_IRQ_STATUS) & bit);
	edu_irq_ack(&vd->edu, bit);
	ASSERT_EQ(1ull, n) {
		TH_LOG("%s: %s raised %s, the eventfd counted %llu in %d ms",
		       where, vd->dev.pci.bdf,
		       dma ? "a DMA-done interrupt" : "its interrupt",
		       (unsigned long long)n, MSI_TIMEOUT_MS);
	}
}

/*
 * The MSI of a device on a nested HWPT reaches the VMM, through both
 * stages; it keeps doing so when the device moves to another nested HWPT
 * (as when the guest rewrites its STE), to the nesting parent as a paging
 * HWPT (a guest bypassing its vSMMU) and back; and an MSI enabled again
 * while nested works too. Without the kernel mapping the doorbell in the
 * parent's stage 2, the device writes the doorbell's physical address,
 * which neither stage maps: nothing arrives.
 */
TEST_F(nested, msi)
{
	struct vm_dev *vd = &self->n.vd;
	struct nest *n = &self->n;
	__u32 nested2;
	struct vste vste;
	int efd;

	guest_map_msi_window(_metadata, &n->g);
	efd = msi_enable(_metadata, vd);
	msi_check(_metadata, vd, efd, "nested", false, 0);
	msi_check(_metadata, vd, efd, "nested, DMA", true, VA_SRC);

	/* The guest's STE again, in a second nested HWPT: a replace. */
	vste_of(&n->g, &vste);
	ASSERT_EQ(0, vmm_hwpt_alloc(self->iommufd, vd->dev.dev_id,
				    n->viommu_id, 0, VSMMU_HWPT_DATA, &vste,
				    sizeof(vste), &nested2));
	ASSERT_EQ(0, vmm_dev_attach(&vd->dev, nested2, NULL));
	msi_check(_metadata, vd, efd, "second nested HWPT", false, 0);

	/* Stage 2 alone: the MSI address is an IPA there, and still works. */
	ASSERT_EQ(0, vmm_dev_attach(&vd->dev, n->parent_id, NULL));
	msi_check(_metadata, vd, efd, "nesting parent", false, 0);
	msi_check(_metadata, vd, efd, "nesting parent, DMA", true,
		  self->src_ipa);

	ASSERT_EQ(0, vmm_dev_attach(&vd->dev, n->nested_id, NULL));
	msi_check(_metadata, vd, efd, "back on the nested HWPT", false, 0);
	ASSERT_EQ(0, vmm_destroy(self->iommufd, nested2));

	/* MSI off and on again: a new MSI, prepared while nested. */
	ASSERT_EQ(0, vmm_dev_irq_off(&vd->dev, VFIO_PCI_MSI_IRQ_INDEX));
	close(efd);
	efd = msi_enable(_metadata, vd);
	msi_check(_metadata, vd, efd, "MSI enabled again, nested", false, 0);
	ASSERT_EQ(0, vmm_dev_irq_off(&vd->dev, VFIO_PCI_MSI_IRQ_INDEX));
	close(efd);
}

/* ---- the whole platform: one VM, both SMMUs ------------------------- */

/* One VM (iommufd) with its RAM in one IOAS, both edus bound to it. */
struct vm {
	int iommufd;
	__u32 ioas_id;
	__u8 *ram_hva;
	struct smmu_guest_ram ram;
};

static void vm_setup(struct __test_metadata *_metadata, struct vm *vm)
{
	vm->iommufd = vmm_iommufd_open();
	ASSERT_LE(0, vm->iommufd);
	ASSERT_EQ(0, vmm_ioas_alloc(vm->iommufd, &vm->ioas_id));
	vm->ram_hva = pattern_alloc(GUEST_RAM_SIZE);
	ASSERT_NE(NULL, vm->ram_hva);
	ASSERT_EQ(0, vmm_ioas_map(vm->iommufd, vm->ioas_id, vm->ram_hva,
				  GUEST_RAM_SIZE, GUEST_RAM_IPA, RW));
	smmu_ram_init(&vm->ram, vm->ram_hva, GUEST_RAM_IPA, GUEST_RAM_SIZE);
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

	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	for (i = 0; i < 2; i++) {
		vm_dev_bind(_metadata, &vd[i], i, fd);
		dev[i] = vd[i].dev.dev_id;
		ASSERT_EQ(0, vmm_hwpt_alloc(fd, dev[i], vm.ioas_id,
					    IOMMU_HWPT_ALLOC_NEST_PARENT,
					    IOMMU_HWPT_DATA_NONE, NULL, 0,
					    &parent[i]));
	}
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

	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	for (i = 0; i < 2; i++) {
		vm_dev_bind(_metadata, &vd[i], i, fd);
		dev[i] = vd[i].dev.dev_id;
		ASSERT_EQ(0, vmm_hwpt_alloc(fd, dev[i], vm.ioas_id,
					    IOMMU_HWPT_ALLOC_NEST_PARENT,
					    IOMMU_HWPT_DATA_NONE, NULL, 0,
					    &parent[i]));
		ASSERT_EQ(0, vmm_viommu_alloc(fd, dev[i], parent[i],
					      IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
					      NULL, 0, &viommu[i]));
	}
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
	struct vm vm;
	struct nest n[2] = {};
	__u64 src[2], dst[2], dst2[2];
	vcmd_t cmd;
	__u32 done;
	int i, fd;

	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	for (i = 0; i < 2; i++) {
		struct guest *g = &n[i].g;

		n[i].use_vdevice = vdevice;
		nest_setup(_metadata, &n[i], i, fd, vm.ioas_id, &vm.ram,
			   vsid_of(i, vdevice));
		src[i] = guest_page(_metadata, &vm.ram,
				    seed_of(_metadata, i, 30));
		dst[i] = guest_page(_metadata, &vm.ram,
				    seed_of(_metadata, i, 31));
		dst2[i] = guest_page(_metadata, &vm.ram,
				     seed_of(_metadata, i, 32));
		/* The same VAs in both address spaces, other pages. */
		ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_SRC, src[i],
					 SMMU_PROT_READ));
		ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_DST, dst[i],
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
	}
	ASSERT_NE(n[0].viommu_id, n[1].viommu_id);

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, edu_dma_start(&n[i].vd.edu, VA_SRC, 0, PAGE,
					   false));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, edu_dma_wait(&n[i].vd.edu, EDU_DMA_TIMEOUT_MS));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, edu_dma_start(&n[i].vd.edu, VA_DST, 0, PAGE,
					   true));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, edu_dma_wait(&n[i].vd.edu, EDU_DMA_TIMEOUT_MS));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src[i]),
					 hva(&vm.ram, dst[i]), PAGE)) {
			TH_LOG("device %s", n[i].vd.dev.pci.bdf);
		}
	}

	/* Both guests move VA_DST; only vIOMMU 0 is told. */
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, smmu_s1_map(&n[i].g.s1, VA_DST, dst2[i],
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
	smmu_cmd_tlbi_nh_va(cmd.cmd, n[0].g.asid, VA_DST, true);
	forward1(_metadata, fd, &n[0], &cmd);
	for (i = 0; i < 2; i++) {
		pattern_fill(hva(&vm.ram, src[i]), PAGE, seed_of(_metadata, i, 33));
		dma_copy(_metadata, &n[i].vd.edu, VA_SRC, VA_DST, PAGE);
	}
	ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src[0]),
				 hva(&vm.ram, dst2[0]), PAGE));
	ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src[1]),
				 hva(&vm.ram, dst[1]), PAGE)) {
		TH_LOG("SMMU 1 dropped its entry on vIOMMU 0's TLBI");
	}
	/* vIOMMU 1's vSID names nothing on vIOMMU 0. */
	smmu_cmd_cfgi_cd(cmd.cmd, n[1].g.vsid, 0, true);
	ASSERT_EQ(-EIO, forward(fd, &n[0], &cmd, 1, &done));
	ASSERT_EQ(0u, done);
	/* Now vIOMMU 1. */
	smmu_cmd_tlbi_nh_va(cmd.cmd, n[1].g.asid, VA_DST, true);
	forward1(_metadata, fd, &n[1], &cmd);
	pattern_fill(hva(&vm.ram, src[1]), PAGE, seed_of(_metadata, 1, 34));
	dma_copy(_metadata, &n[1].vd.edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src[1]),
				 hva(&vm.ram, dst2[1]), PAGE));

	for (i = 0; i < 2; i++)
		vm_dev_teardown(&n[i].vd);
	close(fd);
}

TEST(two_viommus_dma)
{
	two_viommus(_metadata, false);
}

TEST(two_viommus_dma_vdevice)
{
	two_viommus(_metadata, true);
}

/* ---- events: the vEVENTQs of the vIOMMUs ----------------------------- */

/*
 * How long the VMM waits for an event a test caused (QEMU records it, the
 * host kernel's event thread forwards it: well under a second even under
 * TCG), and how long a queue that must stay empty is watched.
 */
#define EVENT_WAIT_MS	3000
#define QUIET_MS	500
#define MAX_EVENTS	64

/*
 * QEMU's SMMUv3 translates a transfer that faults 4 bytes at a time (the
 * accesses to the unassigned region that stand in for the failed
 * translation), and records an event for each: a faulting page is 1024
 * events. The event tests' faulting transfers are 4 bytes: one event each.
 */
#define FAULT_LEN	4

/*
 * Read what @q holds: wait up to @wait_ms for a first record, then take
 * whatever follows it within 200 ms (one faulting transfer may make more
 * than one event).
 */
static int events_read(struct __test_metadata *_metadata,
		       struct vmm_veventq *q, struct vmm_vevent *ev,
		       int wait_ms)
{
	int n = vmm_veventq_read(q, ev, MAX_EVENTS, wait_ms), m;

	ASSERT_LE(0, n) {
		TH_LOG("read vEVENTQ %u: %s", q->id, strerror(-n));
	}
	while (n && n < MAX_EVENTS) {
		m = vmm_veventq_read(q, ev + n, MAX_EVENTS - n, 200);
		ASSERT_LE(0, m);
		if (!m)
			break;
		n += m;
	}
	return n;
}

/* Nothing arrives on @q within @ms. */
static void expect_quiet(struct __test_metadata *_metadata,
			 struct vmm_veventq *q, int ms, const char *what)
{
	struct vmm_vevent ev[MAX_EVENTS];
	int n = vmm_veventq_read(q, ev, MAX_EVENTS, ms);

	ASSERT_EQ(0, n) {
		if (n > 0)
			TH_LOG("%s: %d record(s), the first: flags %u seq %u %016llx %016llx",
			       what, n, ev[0].flags, ev[0].sequence,
			       (unsigned long long)le64toh(ev[0].data.smmuv3.evt[0]),
			       (unsigned long long)le64toh(ev[0].data.smmuv3.evt[1]));
		else
			TH_LOG("%s: %s", what, strerror(-n));
	}
}

/*
 * The guest's event as its VMM gets it: within EVENT_WAIT_MS exactly @num
 * records on @q (one per faulting FAULT_LEN transfer), each a whole
 * ARM_SMMUV3 record (nothing lost) of event @id with the guest's vSID
 * @vsid in the StreamID field, about stage 1. *@first gets the first.
 */
static void expect_smmu_events(struct __test_metadata *_metadata,
			       struct vmm_veventq *q, __u8 id, __u32 vsid,
			       int num, struct vmm_vevent *first)
{
	struct vmm_vevent ev[MAX_EVENTS];
	int i, n = events_read(_metadata, q, ev, EVENT_WAIT_MS);

	ASSERT_LT(0, n) {
		TH_LOG("no vEVENT 0x%02x of vSID 0x%x within %d ms", id, vsid,
		       EVENT_WAIT_MS);
	}
	ASSERT_EQ(num, n) {
		TH_LOG("%d vEVENTs, the last: flags %u seq %u %016llx", n,
		       ev[n - 1].flags, ev[n - 1].sequence,
		       (unsigned long long)le64toh(ev[n - 1].data.smmuv3.evt[0]));
	}
	for (i = 0; i < n; i++) {
		__u64 w0 = le64toh(ev[i].data.smmuv3.evt[0]);
		__u64 w1 = le64toh(ev[i].data.smmuv3.evt[1]);

		ASSERT_EQ(0u, ev[i].flags) {
			TH_LOG("record %d of %d: LOST_EVENTS", i, n);
		}
		ASSERT_EQ(0u, ev[i].lost_before);
		ASSERT_EQ(sizeof(struct iommu_vevent_arm_smmuv3),
			  ev[i].data_len);
		ASSERT_EQ(id, vmm_vevent_smmuv3_id(&ev[i])) {
			TH_LOG("record %d: %016llx %016llx", i,
			       (unsigned long long)w0, (unsigned long long)w1);
		}
		ASSERT_EQ(vsid, vmm_vevent_smmuv3_sid(&ev[i])) {
			TH_LOG("record %d: StreamID 0x%llx, not the vSID", i,
			       (unsigned long long)SMMU_GET(SMMU_EVT_0_SID, w0));
		}
		ASSERT_FALSE(HAS(w1, SMMU_EVT_1_S2));
	}
	*first = ev[0];
}

/* Word @w of an ARM_SMMUV3 record, in CPU order. */
static __u64 evt_word(const struct vmm_vevent *ev, int w)
{
	return le64toh(ev->data.smmuv3.evt[w]);
}

/*
 * One VM with a nested edu behind each SMMU, each on its own vIOMMU with
 * an ARM_SMMUV3 vEVENTQ; the guest makes the edu behind SMMU @smmu fault,
 * and the vIOMMU of the other SMMU must hear nothing. The vSIDs come from
 * IOMMU_VDEVICE_ALLOC (what QEMU 11.1 calls) or IOMMU_VIOMMU_SET_DEV_ID:
 * both record the vSID events are reported with.
 */
FIXTURE(vevent) {
	struct vm vm;
	struct nest n[2];
	struct vmm_veventq q[2];
	__u64 src[2], dst[2];
};

FIXTURE_VARIANT(vevent) {
	int smmu;
	bool vdevice;
};

FIXTURE_VARIANT_ADD(vevent, smmu0) {
	.smmu = 0,
	.vdevice = true,
};

FIXTURE_VARIANT_ADD(vevent, smmu1) {
	.smmu = 1,
	.vdevice = true,
};

FIXTURE_VARIANT_ADD(vevent, smmu0_set_dev_id) {
	.smmu = 0,
};

FIXTURE_VARIANT_ADD(vevent, smmu1_set_dev_id) {
	.smmu = 1,
};

FIXTURE_SETUP(vevent)
{
	int i, fd;

	self->vm.iommufd = -1;
	for (i = 0; i < 2; i++) {
		self->n[i].vd.dev.fd = -1;
		self->q[i].fd = -1;
	}
	vm_setup(_metadata, &self->vm);
	fd = self->vm.iommufd;
	for (i = 0; i < 2; i++) {
		struct nest *n = &self->n[i];

		n->use_vdevice = variant->vdevice;
		nest_setup(_metadata, n, i, fd, self->vm.ioas_id,
			   &self->vm.ram, vsid_of(i, variant->vdevice));
		/* What the VMM does when its guest enables the event queue. */
		ASSERT_EQ(0, vmm_veventq_alloc(fd, n->viommu_id,
					       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
					       MAX_EVENTS, &self->q[i])) {
			TH_LOG("vEVENTQ: %s", strerror(errno));
		}
		ASSERT_LE(0, self->q[i].fd);
		self->src[i] = guest_page(_metadata, &self->vm.ram,
					  seed_of(_metadata, i, 70));
		self->dst[i] = guest_page(_metadata, &self->vm.ram,
					  seed_of(_metadata, i, 71));
		ASSERT_EQ(0, smmu_s1_map(&n->g.s1, VA_SRC, self->src[i],
					 SMMU_PROT_READ));
		ASSERT_EQ(0, smmu_s1_map(&n->g.s1, VA_DST, self->dst[i],
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
	}
}

FIXTURE_TEARDOWN(vevent)
{
	int i;

	for (i = 0; i < 2; i++) {
		vm_dev_teardown(&self->n[i].vd);
		/* The open file holds the queue, and the iommufd. */
		if (self->q[i].fd >= 0)
			close(self->q[i].fd);
	}
	if (self->vm.iommufd >= 0)
		close(self->vm.iommufd);
}

#define EPG(ipa)	((__u8 *)hva(&self->vm.ram, (ipa)))

/*
 * The guest turns its CD off (V = 0) and says so with CFGI_CD: the next
 * DMA is a C_BAD_CD of the device, which reaches the VMM on the device's
 * vIOMMU with the vSID, as the first record of the queue; nothing reaches
 * the other SMMU's vIOMMU. With the CD valid again, DMA works and no
 * event follows.
 */
TEST_F(vevent, bad_cd)
{
	int s = variant->smmu, o = !s;
	struct nest *n = &self->n[s];
	__le64 *cd = hva(&self->vm.ram, n->g.cd_ipa), w0 = cd[0];
	struct edu *edu = &n->vd.edu;
	__u8 *snap = pattern_alloc(GUEST_RAM_SIZE);
	struct vmm_vevent ev;
	vcmd_t cmd;

	ASSERT_NE(NULL, snap);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(EPG(self->src[s]), EPG(self->dst[s]), PAGE));

	smmu_write64(&cd[0], w0 & ~htole64(SMMU_CD_0_V));
	smmu_cmd_cfgi_cd(cmd.cmd, n->g.vsid, 0, true);
	forward1(_metadata, self->vm.iommufd, n, &cmd);
	/* A read, then a write of what the device holds: neither happens. */
	dma_may_fault(_metadata, edu, VA_SRC, FAULT_LEN, false);
	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_C_BAD_CD,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(0u, ev.sequence);
	/* No substream: SSV clear. */
	ASSERT_FALSE(HAS(evt_word(&ev, 0), SMMU_EVT_0_SSV));
	pattern_fill(EPG(self->dst[s]), PAGE, seed_of(_metadata, s, 73));
	memcpy(snap, self->vm.ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, VA_DST, FAULT_LEN, true);
	ASSERT_EQ(-1, pattern_diff(snap, self->vm.ram_hva, GUEST_RAM_SIZE));
	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_C_BAD_CD,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(1u, ev.sequence);
	expect_quiet(_metadata, &self->q[o], QUIET_MS, "other vIOMMU");

	/* The CD back: DMA, and silence. */
	smmu_write64(&cd[0], w0);
	forward1(_metadata, self->vm.iommufd, n, &cmd);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(EPG(self->src[s]), EPG(self->dst[s]), PAGE));
	expect_quiet(_metadata, &self->q[s], QUIET_MS, "after the CD was fixed");
	expect_quiet(_metadata, &self->q[o], 0, "other vIOMMU");
	ASSERT_EQ(0ull, self->q[s].lost);
	munmap(snap, GUEST_RAM_SIZE);
}

/*
 * A DMA write to a VA the guest's stage 1 does not map is an F_TRANSLATION
 * of stage 1 (S2 clear, class IN) with the VA as its input address and
 * RnW clear; a read of the next VA one with RnW set, numbered on. Guest
 * RAM stays untouched, the other vIOMMU hears nothing.
 */
TEST_F(vevent, s1_translation_fault)
{
	int s = variant->smmu, o = !s;
	struct nest *n = &self->n[s];
	struct edu *edu = &n->vd.edu;
	struct vmm_vevent ev;
	__u8 *snap = pattern_alloc(GUEST_RAM_SIZE);

	ASSERT_NE(NULL, snap);
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	memcpy(snap, self->vm.ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, VA_NONE, FAULT_LEN, true);
	ASSERT_EQ(-1, pattern_diff(snap, self->vm.ram_hva, GUEST_RAM_SIZE));

	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_F_TRANSLATION,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(0u, ev.sequence);
	ASSERT_EQ(VA_NONE, evt_word(&ev, 2));
	ASSERT_FALSE(HAS(evt_word(&ev, 1), SMMU_EVT_1_RNW));
	ASSERT_EQ((__u64)SMMU_EVT_CLASS_IN, SMMU_GET(SMMU_EVT_1_CLASS, evt_word(&ev, 1)));

	dma_may_fault(_metadata, edu, VA_NONE + PAGE, FAULT_LEN, false);
	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_F_TRANSLATION,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(1u, ev.sequence);
	ASSERT_EQ(VA_NONE + PAGE, evt_word(&ev, 2));
	ASSERT_TRUE(HAS(evt_word(&ev, 1), SMMU_EVT_1_RNW));
	expect_quiet(_metadata, &self->q[o], QUIET_MS, "other vIOMMU");
	ASSERT_EQ(0ull, self->q[s].lost);
	munmap(snap, GUEST_RAM_SIZE);
}

/*
 * A DMA write to VA_SRC, which the guest mapped read-only: F_PERMISSION of
 * stage 1 at VA_SRC, a write; the page keeps its bytes.
 */
TEST_F(vevent, s1_permission_fault)
{
	int s = variant->smmu, o = !s;
	struct nest *n = &self->n[s];
	struct edu *edu = &n->vd.edu;
	__u8 *was = pattern_alloc(PAGE);
	struct vmm_vevent ev;

	ASSERT_NE(NULL, was);
	ASSERT_EQ(0, edu_to_dev(edu, VA_DST, 0, PAGE));
	memcpy(was, EPG(self->src[s]), PAGE);
	ASSERT_NE(-1, pattern_diff(was, EPG(self->dst[s]), PAGE));
	dma_may_fault(_metadata, edu, VA_SRC, FAULT_LEN, true);
	ASSERT_EQ(-1, pattern_diff(was, EPG(self->src[s]), PAGE));

	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_F_PERMISSION,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(VA_SRC, evt_word(&ev, 2));
	ASSERT_FALSE(HAS(evt_word(&ev, 1), SMMU_EVT_1_RNW));
	expect_quiet(_metadata, &self->q[o], QUIET_MS, "other vIOMMU");
	munmap(was, PAGE);
}

/*
 * A fault of stage 2 (the guest maps VA_X at an IPA the VMM never mapped)
 * is the VMM's own business: no vEVENT on either vIOMMU, and nothing lost
 * either, as the next stage-1 fault arrives as record 0.
 */
TEST_F(vevent, s2_fault_stays_with_host)
{
	int s = variant->smmu, o = !s;
	struct nest *n = &self->n[s];
	struct edu *edu = &n->vd.edu;
	struct vmm_vevent ev;

	ASSERT_EQ(0, smmu_s1_map(&n->g.s1, VA_X, IPA_HOLE,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	dma_may_fault(_metadata, edu, VA_X, PAGE, true);
	dma_may_fault(_metadata, edu, VA_X, PAGE, false);
	expect_quiet(_metadata, &self->q[s], 2 * QUIET_MS, "stage-2 fault");
	expect_quiet(_metadata, &self->q[o], 0, "other vIOMMU");

	dma_may_fault(_metadata, edu, VA_NONE, FAULT_LEN, true);
	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_F_TRANSLATION,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(0u, ev.sequence);
	ASSERT_EQ(0ull, self->q[s].lost);
}

/*
 * A queue of depth 1 and three faulting transfers before the VMM reads:
 * the first event, then one LOST_EVENTS record (header only) whose
 * sequence number counts every event dropped; the reader's count of lost
 * events says so. Read empty, the queue takes the next event, numbered on
 * from the LOST_EVENTS record.
 */
TEST_F(vevent, lost_events)
{
	int s = variant->smmu, fd = self->vm.iommufd, i, n;
	struct nest *nt = &self->n[s];
	struct edu *edu = &nt->vd.edu;
	struct vmm_vevent ev[MAX_EVENTS];
	struct pollfd pfd;
	__u32 lost_seq;

	ASSERT_EQ(0, vmm_veventq_free(fd, &self->q[s]));
	ASSERT_EQ(0, vmm_veventq_alloc(fd, nt->viommu_id,
				       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1,
				       &self->q[s]));
	for (i = 0; i < 3; i++)
		dma_may_fault(_metadata, edu, VA_NONE + i * PAGE, FAULT_LEN,
			      true);
	/* Let the host's event thread forward all of them before reading. */
	pfd = (struct pollfd){ .fd = self->q[s].fd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, EVENT_WAIT_MS));
	usleep(1000 * 1000);

	n = events_read(_metadata, &self->q[s], ev, 0);
	ASSERT_EQ(2, n) {
		TH_LOG("%d records: depth 1 should leave an event and LOST_EVENTS", n);
	}
	ASSERT_EQ(0u, ev[0].flags);
	ASSERT_EQ(0u, ev[0].sequence);
	ASSERT_EQ(SMMU_EVT_F_TRANSLATION, vmm_vevent_smmuv3_id(&ev[0]));
	ASSERT_EQ(nt->g.vsid, vmm_vevent_smmuv3_sid(&ev[0]));
	ASSERT_EQ(VA_NONE, evt_word(&ev[0], 2));
	ASSERT_EQ((__u32)IOMMU_VEVENTQ_FLAG_LOST_EVENTS, ev[1].flags);
	ASSERT_EQ(0u, ev[1].data_len);
	/* Three transfers, an event each: two dropped. */
	lost_seq = ev[1].sequence;
	ASSERT_EQ(2u, lost_seq);
	ASSERT_EQ(lost_seq - 1, ev[1].lost_before);
	ASSERT_EQ((__u64)lost_seq, self->q[s].lost);
	ASSERT_EQ(2ull, self->q[s].records);

	/* Room again: the next event is kept, numbered on. */
	dma_may_fault(_metadata, edu, VA_NONE + 3 * PAGE, FAULT_LEN, false);
	n = vmm_veventq_read(&self->q[s], ev, MAX_EVENTS, EVENT_WAIT_MS);
	ASSERT_EQ(1, n);
	ASSERT_EQ(0u, ev[0].flags);
	ASSERT_EQ(lost_seq + 1, ev[0].sequence);
	ASSERT_EQ(0u, ev[0].lost_before);
	ASSERT_EQ(VA_NONE + 3 * PAGE, evt_word(&ev[0], 2));
	ASSERT_TRUE(HAS(evt_word(&ev[0], 1), SMMU_EVT_1_RNW));
}

/*
 * QEMU 11.1's order (shared/design/real-vmm.md), on the edu behind SMMU
 * @smmu: the vIOMMU with its abort {0x1, 0} and bypass {0x9, 0} nested
 * HWPTs, the device attached to bypass before it has any ID, the vEVENTQ;
 * bypass is stage 2 only (IPAs DMA), abort blocks, and the faults of the
 * device without an ID give no vEVENT. The guest's stage-1 HWPT needs the
 * ID (ENOENT), IOMMU_VDEVICE_ALLOC gives it (its vDEVICE may come and go
 * while the device does not translate, not while it does: EBUSY); then
 * stage 1 DMAs and its faults reach the queue with the vSID, as its first
 * record. QEMU's teardown order then succeeds step by step.
 */
static void qemu_order(struct __test_metadata *_metadata, int smmu)
{
	__u32 parent, viommu, abort_id, bypass_id, s1_id, vdev, dev;
	__u32 vsid = VSID_VDEV_BASE + smmu;
	struct vmm_veventq q = { .fd = -1 };
	struct vm_dev vd = { .dev.fd = -1 };
	struct vmm_vevent ev;
	smmu_info_t info;
	struct guest g;
	struct vste vste;
	__u64 src, dst;
	__u8 *snap = pattern_alloc(GUEST_RAM_SIZE);
	struct vm vm;
	int fd;

	ASSERT_NE(NULL, snap);
	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	vm_dev_bind(_metadata, &vd, smmu, fd);
	dev = vd.dev.dev_id;
	get_hw_info(_metadata, fd, dev, &info);
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, dev, vm.ioas_id,
				    IOMMU_HWPT_ALLOC_NEST_PARENT,
				    IOMMU_HWPT_DATA_NONE, NULL, 0, &parent));
	ASSERT_EQ(0, vmm_viommu_alloc(fd, dev, parent,
				      IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				      &viommu));
	vste.ste[0] = htole64(0x1);
	vste.ste[1] = 0;
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, dev, viommu, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &abort_id));
	vste.ste[0] = htole64(0x9);
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, dev, viommu, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &bypass_id));
	ASSERT_EQ(0, vmm_dev_attach(&vd.dev, bypass_id, NULL)) {
		TH_LOG("attach to the bypass HWPT without an ID: %s",
		       strerror(errno));
	}
	ASSERT_EQ(0, vmm_veventq_alloc(fd, viommu,
				       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 16, &q));
	vm_dev_enable(_metadata, &vd);

	/* Bypass: stage 2 only, the device's addresses are IPAs. */
	src = guest_page(_metadata, &vm.ram, seed_of(_metadata, smmu, 80));
	dst = guest_page(_metadata, &vm.ram, seed_of(_metadata, smmu, 81));
	dma_copy(_metadata, &vd.edu, src, dst, PAGE);
	ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src), hva(&vm.ram, dst), PAGE));
	/* Faults of a device without an ID: no vEVENT. */
	dma_may_fault(_metadata, &vd.edu, IPA_HOLE, PAGE, true);
	dma_may_fault(_metadata, &vd.edu, VA_NONE, PAGE, false);
	/* The device gets data that is then nowhere in guest RAM... */
	pattern_fill(hva(&vm.ram, src), PAGE, seed_of(_metadata, smmu, 82));
	ASSERT_EQ(0, edu_to_dev(&vd.edu, src, 0, PAGE));
	pattern_fill(hva(&vm.ram, src), PAGE, seed_of(_metadata, smmu, 84));
	/* ...abort: it writes nothing anywhere, and no vEVENT either. */
	ASSERT_EQ(0, vmm_dev_attach(&vd.dev, abort_id, NULL));
	memcpy(snap, vm.ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, &vd.edu, dst, PAGE, true);
	ASSERT_EQ(-1, pattern_diff(snap, vm.ram_hva, GUEST_RAM_SIZE));
	expect_quiet(_metadata, &q, 2 * QUIET_MS, "device without an ID");

	/* The guest's STE: stage 1. It needs the ID. */
	guest_init(_metadata, &g, &vm.ram, vsid,
		   SMMU_GET(SMMU_IDR5_OAS, info.idr[5]));
	ASSERT_EQ(0, smmu_s1_map(&g.s1, VA_SRC, src, SMMU_PROT_READ));
	ASSERT_EQ(0, smmu_s1_map(&g.s1, VA_DST, dst,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
	vste_of(&g, &vste);
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, dev, viommu, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &s1_id));
	ASSERT_EQ(-ENOENT, vmm_dev_attach(&vd.dev, s1_id, NULL));
	ASSERT_EQ(abort_id, vd.dev.pt_id);
	ASSERT_EQ(0, vmm_vdevice_alloc(fd, viommu, dev, vsid, &vdev));
	/* On a HWPT that does not translate, the vDEVICE may go and come. */
	ASSERT_EQ(0, vmm_vdevice_destroy(fd, vdev));
	ASSERT_EQ(0, vmm_vdevice_alloc(fd, viommu, dev, vsid, &vdev));
	ASSERT_EQ(0, vmm_dev_attach(&vd.dev, s1_id, NULL));
	pattern_fill(hva(&vm.ram, src), PAGE, seed_of(_metadata, smmu, 83));
	dma_copy(_metadata, &vd.edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src), hva(&vm.ram, dst), PAGE));
	ASSERT_EQ(-EBUSY, vmm_vdevice_destroy(fd, vdev));

	/* Now the device's stage-1 faults are the guest's. */
	dma_may_fault(_metadata, &vd.edu, VA_NONE, FAULT_LEN, true);
	expect_smmu_events(_metadata, &q, SMMU_EVT_F_TRANSLATION, vsid, 1, &ev);
	ASSERT_EQ(0u, ev.sequence);
	ASSERT_EQ(VA_NONE, evt_word(&ev, 2));
	ASSERT_EQ(0ull, q.lost);

	/* QEMU's teardown. */
	ASSERT_EQ(0, vmm_dev_attach(&vd.dev, parent, NULL));
	ASSERT_EQ(0, vmm_destroy(fd, s1_id));
	ASSERT_EQ(0, vmm_vdevice_destroy(fd, vdev));
	ASSERT_EQ(0, vmm_veventq_free(fd, &q));
	ASSERT_EQ(0, vmm_destroy(fd, abort_id));
	ASSERT_EQ(0, vmm_destroy(fd, bypass_id));
	ASSERT_EQ(0, vmm_destroy(fd, viommu));
	vm_dev_teardown(&vd);
	ASSERT_EQ(0, vmm_destroy(fd, parent));
	close(fd);
	munmap(snap, GUEST_RAM_SIZE);
}

TEST(qemu_order_smmu0)
{
	qemu_order(_metadata, 0);
}

TEST(qemu_order_smmu1)
{
	qemu_order(_metadata, 1);
}

/*
 * IOMMU_VEVENTQ_ALLOC's rules on a real SMMUv3 vIOMMU: depth 0 EINVAL;
 * type DEFAULT, flags or reserved bits EOPNOTSUPP; not a vIOMMU ENOENT;
 * one queue per type (EEXIST). An empty queue reads 0 bytes. The queue
 * holds the vIOMMU and its open file holds the queue (EBUSY); closed, both
 * go. A queue whose fd outlives the iommufd's stays readable.
 */
TEST(veventq_rules)
{
	struct iommu_veventq_alloc cmd;
	struct vmm_veventq q, q2;
	struct vm_dev vd = { .dev.fd = -1 };
	struct vmm_vevent ev;
	__u32 parent, viommu;
	__u8 buf[64];
	struct vm vm;
	int fd;

	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	vm_dev_bind(_metadata, &vd, 0, fd);
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, vd.dev.dev_id, vm.ioas_id,
				    IOMMU_HWPT_ALLOC_NEST_PARENT,
				    IOMMU_HWPT_DATA_NONE, NULL, 0, &parent));
	ASSERT_EQ(0, vmm_viommu_alloc(fd, vd.dev.dev_id, parent,
				      IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				      &viommu));

	ASSERT_EQ(-EINVAL, vmm_veventq_alloc(fd, viommu,
					     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 0,
					     &q));
	ASSERT_EQ(-EOPNOTSUPP, vmm_veventq_alloc(fd, viommu,
						 IOMMU_VEVENTQ_TYPE_DEFAULT, 8,
						 &q));
	ASSERT_EQ(-ENOENT, vmm_veventq_alloc(fd, 0xfffff,
					     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8,
					     &q));
	ASSERT_EQ(-ENOENT, vmm_veventq_alloc(fd, parent,
					     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8,
					     &q));
	cmd = (struct iommu_veventq_alloc){
		.size = sizeof(cmd),
		.flags = 1,
		.viommu_id = viommu,
		.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.veventq_depth = 8,
	};
	ASSERT_EQ(-1, ioctl(fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	ASSERT_EQ(EOPNOTSUPP, errno);
	cmd.flags = 0;
	cmd.__reserved = 1;
	ASSERT_EQ(-1, ioctl(fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	ASSERT_EQ(EOPNOTSUPP, errno);

	ASSERT_EQ(0, vmm_veventq_alloc(fd, viommu,
				       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8, &q));
	ASSERT_EQ(-EEXIST, vmm_veventq_alloc(fd, viommu,
					     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8,
					     &q2));
	ASSERT_EQ(0, vmm_veventq_read(&q, &ev, 1, 0));
	ASSERT_EQ(0, read(q.fd, buf, sizeof(buf)));
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, viommu));
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, q.id));
	ASSERT_EQ(0, vmm_veventq_free(fd, &q));
	ASSERT_EQ(-ENOENT, vmm_destroy(fd, q.id));

	/* A queue again; the VMM closes /dev/iommu first, then the queue. */
	ASSERT_EQ(0, vmm_veventq_alloc(fd, viommu,
				       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8, &q));
	vm_dev_teardown(&vd);
	close(fd);
	ASSERT_EQ(0, read(q.fd, buf, sizeof(buf)));
	close(q.fd);
}

/*
 * Two devices behind SMMU 0 in one VM, each on its own nested HWPT of the
 * same vIOMMU: one nesting parent, one ITS doorbell. Both get their MSIs
 * (the doorbell is mapped once in the parent, not twice); when one device
 * goes, the other keeps them, across a replace to the parent and back;
 * when the last goes, the doorbell leaves the parent's stage 2 with it, so
 * the VMM may then map guest RAM over the window, which no device
 * reserves any more.
 */
TEST(msi_two_devices_one_parent)
{
	struct vmm_pci pci[MAX_EDU];
	struct vm_dev vd[2] = {};
	struct guest g[2];
	__u32 parent, viommu, nested[2];
	struct vste vste;
	int i, n, fd, efd[2];
	smmu_info_t info;
	unsigned int oas;
	struct vm vm;
	__u8 *page;

	n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, MAX_EDU);
	ASSERT_EQ(3, n);
	/* Sorted by IOMMU: the first two sit behind SMMU 0 */
	ASSERT_STREQ(pci[0].iommu, pci[1].iommu);
	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vmm_dev_open(&vd[i].dev, &pci[i]));
		ASSERT_EQ(0, vmm_dev_bind(&vd[i].dev, fd));
	}
	get_hw_info(_metadata, fd, vd[0].dev.dev_id, &info);
	oas = SMMU_GET(SMMU_IDR5_OAS, info.idr[5]);
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, vd[0].dev.dev_id, vm.ioas_id,
				    IOMMU_HWPT_ALLOC_NEST_PARENT,
				    IOMMU_HWPT_DATA_NONE, NULL, 0, &parent));
	ASSERT_EQ(0, vmm_viommu_alloc(fd, vd[0].dev.dev_id, parent,
				      IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				      &viommu));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu, vd[i].dev.dev_id,
						   VSID_BASE + i));
		guest_init(_metadata, &g[i], &vm.ram, VSID_BASE + i, oas);
		guest_map_msi_window(_metadata, &g[i]);
		vste_of(&g[i], &vste);
		ASSERT_EQ(0, vmm_hwpt_alloc(fd, vd[i].dev.dev_id, viommu, 0,
					    VSMMU_HWPT_DATA, &vste,
					    sizeof(vste), &nested[i]));
		ASSERT_EQ(0, vmm_dev_attach(&vd[i].dev, nested[i], NULL));
		vm_dev_enable(_metadata, &vd[i]);
	}
	for (i = 0; i < 2; i++)
		efd[i] = msi_enable(_metadata, &vd[i]);
	for (i = 0; i < 2; i++)
		msi_check(_metadata, &vd[i], efd[i], "two devices", false, 0);

	/* Device 0 goes: device 1 still uses the doorbell in the parent. */
	vm_dev_teardown(&vd[0]);
	close(efd[0]);
	msi_check(_metadata, &vd[1], efd[1], "other device gone", false, 0);
	ASSERT_EQ(0, vmm_dev_attach(&vd[1].dev, parent, NULL));
	msi_check(_metadata, &vd[1], efd[1], "other device gone, parent",
		  false, 0);
	ASSERT_EQ(0, vmm_dev_attach(&vd[1].dev, nested[1], NULL));
	msi_check(_metadata, &vd[1], efd[1], "other device gone, nested",
		  false, 0);

	/*
	 * The last device goes; the parent, held by the vIOMMU, stays. The
	 * window is free in the IOAS: guest RAM may go there, in the parent
	 * too, where the doorbell must no longer be (EEXIST).
	 */
	vm_dev_teardown(&vd[1]);
	close(efd[1]);
	page = pattern_alloc(PAGE);
	ASSERT_NE(NULL, page);
	ASSERT_EQ(0, vmm_ioas_map(fd, vm.ioas_id, page, PAGE, MSI_WINDOW, RW)) {
		TH_LOG("map at the MSI window after the last detach: %s",
		       strerror(errno));
	}
	ASSERT_EQ(0, vmm_ioas_unmap(fd, vm.ioas_id, MSI_WINDOW, PAGE, NULL));
	close(fd);
}

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
	__u32 id;

	ASSERT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd,
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
	struct vm vm;
	struct nest n[2] = {};
	struct vq vq[2] = {};
	__u64 src[2], dst[2], dst2[2];
	int i, fd;

	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	for (i = 0; i < 2; i++) {
		struct guest *g = &n[i].g;

		n[i].viommu_type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV;
		n[i].use_vdevice = vdevice;
		nest_setup(_metadata, &n[i], i, fd, vm.ioas_id, &vm.ram,
			   vsid_of(i, vdevice));
		vq_setup(_metadata, &vq[i], &n[i], fd, &vm.ram, 0);
		src[i] = guest_page(_metadata, &vm.ram,
				    seed_of(_metadata, i, 50));
		dst[i] = guest_page(_metadata, &vm.ram,
				    seed_of(_metadata, i, 51));
		dst2[i] = guest_page(_metadata, &vm.ram,
				     seed_of(_metadata, i, 52));
		ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_SRC, src[i],
					 SMMU_PROT_READ));
		ASSERT_EQ(0, smmu_s1_map(&g->s1, VA_DST, dst[i],
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
		dma_copy(_metadata, &n[i].vd.edu, VA_SRC, VA_DST, PAGE);
		ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src[i]),
					 hva(&vm.ram, dst[i]), PAGE));
	}
	ASSERT_NE(n[0].cmdqv.out_vintf_mmap_offset,
		  n[1].cmdqv.out_vintf_mmap_offset);

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, smmu_s1_map(&n[i].g.s1, VA_DST, dst2[i],
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
	vq_tlbi_va(_metadata, &vq[0], n[0].g.asid, VA_DST);
	for (i = 0; i < 2; i++) {
		pattern_fill(hva(&vm.ram, src[i]), PAGE,
			     seed_of(_metadata, i, 53));
		dma_copy(_metadata, &n[i].vd.edu, VA_SRC, VA_DST, PAGE);
	}
	ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src[0]),
				 hva(&vm.ram, dst2[0]), PAGE));
	ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src[1]),
				 hva(&vm.ram, dst[1]), PAGE)) {
		TH_LOG("SMMU 1 dropped its entry on SMMU 0's VCMDQ");
	}
	vq_tlbi_va(_metadata, &vq[1], n[1].g.asid, VA_DST);
	pattern_fill(hva(&vm.ram, src[1]), PAGE, seed_of(_metadata, 1, 54));
	dma_copy(_metadata, &n[1].vd.edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src[1]),
				 hva(&vm.ram, dst2[1]), PAGE));

	for (i = 0; i < 2; i++) {
		vm_dev_teardown(&n[i].vd);
		munmap(vq[i].page0, VCMDQ_PAGE0_SIZE);
	}
	close(fd);
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
	struct vmm_pci pci[MAX_EDU];
	struct vmm_dev d[2];
	__u32 parent, viommu;
	struct vm vm;
	int i, n, fd;

	n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, MAX_EDU);
	ASSERT_EQ(3, n);
	/* Sorted by IOMMU: the first two sit behind SMMU 0 */
	ASSERT_STREQ(pci[0].iommu, pci[1].iommu);
	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vmm_dev_open(&d[i], &pci[i]));
		ASSERT_EQ(0, vmm_dev_bind(&d[i], fd));
	}
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, d[0].dev_id, vm.ioas_id,
				    IOMMU_HWPT_ALLOC_NEST_PARENT,
				    IOMMU_HWPT_DATA_NONE, NULL, 0, &parent));
	ASSERT_EQ(0, vmm_viommu_alloc(fd, d[0].dev_id, parent,
				      IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, &data,
				      sizeof(data), &viommu));

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
	struct vmm_pci pci[MAX_EDU];
	struct vmm_dev d[2];
	__u32 parent, viommu, v0, v1, len = sizeof(info), type;
	struct vm vm;
	int i, n, fd;

	n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, MAX_EDU);
	ASSERT_EQ(3, n);
	ASSERT_STREQ(pci[0].iommu, pci[1].iommu);
	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vmm_dev_open(&d[i], &pci[i]));
		ASSERT_EQ(0, vmm_dev_bind(&d[i], fd));
	}
	ASSERT_EQ(0, vmm_hw_info_type(fd, d[0].dev_id,
				      IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, &info,
				      &len, &type, NULL));
	ASSERT_EQ(0, info.log2vsids);
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, d[0].dev_id, vm.ioas_id,
				    IOMMU_HWPT_ALLOC_NEST_PARENT,
				    IOMMU_HWPT_DATA_NONE, NULL, 0, &parent));
	ASSERT_EQ(0, vmm_viommu_alloc(fd, d[0].dev_id, parent,
				      IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, &data,
				      sizeof(data), &viommu));

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
		ASSERT_EQ(0, vmm_hwpt_alloc(fd, vd.dev.dev_id, vm.ioas_id,
					    IOMMU_HWPT_ALLOC_NEST_PARENT,
					    IOMMU_HWPT_DATA_NONE, NULL, 0,
					    &parent));
		ASSERT_EQ(0, vmm_viommu_alloc(fd, vd.dev.dev_id, parent,
					      IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
					      &data, sizeof(data), &viommu));
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

TEST_HARNESS_MAIN

#endif /* VMM_HAVE_VIOMMU */
