// SPDX-License-Identifier: GPL-2.0
/*
 * viommu-demo: a walk-through, in plain words, of what a VMM does to give
 * its guest nested SMMUv3 translation through iommufd vIOMMUs, on the dual
 * topology (two physical SMMUs, one QEMU edu behind each).
 *
 * The program plays both parts of one VM:
 *
 *  - the VMM (lib/vmm.[ch]): one /dev/iommu, one IOAS holding the guest's
 *    RAM at its IPA (stage 2), and per physical SMMU a nesting-parent HWPT,
 *    a vIOMMU, the device's virtual StreamID, and a nested HWPT made from
 *    the guest's STE;
 *  - the guest (lib/smmuv3.[ch]): a Context Descriptor and stage-1 page
 *    tables in its RAM, an STE naming them, and the TLBI commands it
 *    issues after changing its tables.
 *
 * With the Tegra241 CMDQV each vIOMMU also owns a VINTF of its SMMU: the
 * VMM maps the VINTF's page0 from /dev/iommu and gives the guest a command
 * queue (VCMDQ) in guest RAM, and the guest invalidates through it with no
 * system call at all (lib/vcmdq.[ch]).
 *
 * Every DMA goes guest VA --(stage 1)--> IPA --(stage 2)--> host page.
 * Each step says what it did and with which IDs; any failure prints what
 * failed with the errno and exits 1.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/pci_regs.h>

#include "edu.h"
#include "pattern.h"
#include "smmuv3.h"
#include "vcmdq.h"
#include "vmm.h"

#ifndef VMM_HAVE_VIOMMU
int main(void)
{
	printf("viommu-demo: these uAPI headers have no vIOMMU ioctls\n");
	return 1;
}
#else

#define PAGE		4096u
#define NR_SMMU		2
#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/* Guest RAM: 1 MiB at IPA 1 GiB, where QEMU's "virt" machine puts RAM. */
#define GUEST_RAM_IPA	0x40000000ull
#define GUEST_RAM_SIZE	(1ull << 20)

/* The guest VAs the devices are programmed with (stage-1 inputs). */
#define VA_SRC		0x0000123400000000ull
#define VA_DST		0x0000123400200000ull

/* The ASID of each guest CD (each vSMMU has its own ASID space). */
#define ASID		1

/* One physical SMMU and everything the VM has on it. */
struct side {
	int smmu;			/* 0 or 1: the physical SMMU */
	struct vmm_pci pci;		/* the edu behind it */
	struct vmm_dev dev;		/* its VFIO cdev, dev_id */
	struct vmm_region bar0;
	struct edu edu;
	struct iommu_hw_info_arm_smmuv3 info;
	__u32 vsid;			/* the StreamID the guest sees */
	__u32 parent_id;		/* stage 2: nesting-parent HWPT */
	__u32 viommu_id;		/* the VM's slice of this SMMU */
	__u32 nested_id;		/* stage 1: HWPT from the guest's STE */
	/* The guest's side: its structures in guest RAM (IPAs). */
	struct smmu_s1_table s1;
	__u64 cd_ipa;
	__u64 src_ipa, dst_ipa, new_ipa;
#ifdef VMM_HAVE_HW_QUEUE
	/* The VINTF of this SMMU's CMDQV that the vIOMMU owns */
	struct iommu_viommu_tegra241_cmdqv cmdqv;
	void *page0;			/* its page0, mapped from /dev/iommu */
	__u64 q_ipa;			/* the guest's VCMDQ memory */
	__u32 hwq_id;
	struct vcmdq vq;
#endif
};

static int iommufd = -1;
static __u32 ioas_id;
static __u8 *ram_hva;
static struct smmu_guest_ram ram;
static struct side sides[NR_SMMU];

/* Print what failed with the errno, and stop. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	printf("FAILED: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(": errno %d (%s)\n", err, strerror(err));
	exit(1);
}

/* A check that is not an ioctl: report it without a meaningless errno. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fail_check(const char *fmt, ...)
{
	va_list ap;

	printf("FAILED: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static void step(const char *title)
{
	printf("\n== %s\n", title);
}

static void *hva(__u64 ipa)
{
	return smmu_ram_hva(&ram, ipa);
}

/* ---- 1. the platform ------------------------------------------------ */

static void show_platform(void)
{
	struct vmm_pci pci[4];
	int i, n;

	step("1. The platform");
	n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, 4);
	/* The first edu behind each SMMU (SMMU 0 has a second one). */
	if (n > 0 && n <= 4)
		n = vmm_pci_per_iommu(pci, n);
	if (n != NR_SMMU) {
		errno = n < 0 ? -n : ENODEV;
		fail("expected edu devices (1234:11e8) behind %d SMMUs, found %d", NR_SMMU,
		     n);
	}
	for (i = 0; i < NR_SMMU; i++) {
		struct side *s = &sides[i];

		s->smmu = i;
		s->pci = pci[i];
		s->dev.fd = -1;
		if (!s->pci.cdev[0]) {
			errno = ENODEV;
			fail("%s has no VFIO cdev (bound to vfio-pci?)",
			     s->pci.bdf);
		}
		printf("edu %s sits behind SMMU %d (%s), VFIO cdev %s\n",
		       s->pci.bdf, i, s->pci.iommu, s->pci.cdev);
	}
	if (!strcmp(pci[0].iommu, pci[1].iommu))
		fail_check("both edus are behind the same IOMMU %s",
			   pci[0].iommu);
}

/* ---- 2. the VMM: one iommufd, one IOAS, per SMMU a vIOMMU ----------- */

static void vm_open(void)
{
	step("2. The VMM sets up stage 2 and a vIOMMU on each SMMU");
	iommufd = vmm_iommufd_open();
	if (iommufd < 0)
		fail("open /dev/iommu");
	printf("opened /dev/iommu once for the whole VM: fd %d\n", iommufd);

	if (vmm_ioas_alloc(iommufd, &ioas_id))
		fail("IOMMU_IOAS_ALLOC");
	ram_hva = pattern_alloc(GUEST_RAM_SIZE);
	if (!ram_hva)
		fail("allocate guest RAM");
	if (vmm_ioas_map(iommufd, ioas_id, ram_hva, GUEST_RAM_SIZE,
			 GUEST_RAM_IPA, RW))
		fail("IOMMU_IOAS_MAP of guest RAM");
	smmu_ram_init(&ram, ram_hva, GUEST_RAM_IPA, GUEST_RAM_SIZE);
	printf("IOAS %u is the guest's IPA space: %llu KiB of guest RAM mapped at IPA 0x%llx\n",
	       ioas_id, GUEST_RAM_SIZE >> 10, GUEST_RAM_IPA);
}

/* The vSID of a device: the Requester ID of its BDF ("bb:dd.f"). */
static __u32 rid_of(const char *bdf)
{
	unsigned int dom, bus, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return 0;
	return bus << 8 | dev << 3 | fn;
}

static void side_setup(struct side *s)
{
	struct iommu_hw_info_arm_smmuv3 *i = &s->info;
	__u32 len = sizeof(*i), type = 0;
	unsigned int oas;

	printf("\n-- SMMU %d (%s)\n", s->smmu, s->pci.iommu);
	if (vmm_dev_open(&s->dev, &s->pci))
		fail("open %s", s->pci.cdev);
	if (vmm_dev_bind(&s->dev, iommufd))
		fail("VFIO_DEVICE_BIND_IOMMUFD of %s", s->pci.bdf);
	printf("bound %s to the iommufd: dev_id %u\n", s->pci.bdf,
	       s->dev.dev_id);

	/* What the physical SMMU can do, to shape the guest's vSMMU. */
	if (vmm_hw_info(iommufd, s->dev.dev_id, i, &len, &type, NULL))
		fail("IOMMU_GET_HW_INFO of dev_id %u", s->dev.dev_id);
	if (type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3 || len != sizeof(*i))
		fail_check("IOMMU_GET_HW_INFO: type %u, %u bytes; want SMMUv3",
			   type, len);
	oas = SMMU_GET(SMMU_IDR5_OAS, i->idr[5]);
	printf("IOMMU_GET_HW_INFO: ARM SMMUv3, IDR0 0x%08x IDR3 0x%08x IDR5 0x%08x\n",
	       i->idr[0], i->idr[3], i->idr[5]);
	printf("  stage 1 %s, stage 2 %s (so it can nest), FWB %s, %u-bit IPA\n",
	       i->idr[0] & SMMU_IDR0_S1P ? "yes" : "NO",
	       i->idr[0] & SMMU_IDR0_S2P ? "yes" : "NO",
	       i->idr[3] & SMMU_IDR3_FWB ? "yes" : "NO", smmu_oas_bits(oas));
	if (!(i->idr[0] & SMMU_IDR0_S1P) || !(i->idr[0] & SMMU_IDR0_S2P) ||
	    !(i->idr[3] & SMMU_IDR3_FWB))
		fail_check("SMMU %d cannot nest with FWB", s->smmu);

	/* Stage 2 for this SMMU: the IOAS as a nesting parent. */
	if (vmm_hwpt_alloc(iommufd, s->dev.dev_id, ioas_id,
			   IOMMU_HWPT_ALLOC_NEST_PARENT, IOMMU_HWPT_DATA_NONE,
			   NULL, 0, &s->parent_id))
		fail("IOMMU_HWPT_ALLOC(NEST_PARENT) on IOAS %u", ioas_id);
	printf("nesting-parent HWPT %u: stage 2 (IPA -> host) of IOAS %u on SMMU %d\n",
	       s->parent_id, ioas_id, s->smmu);

	/*
	 * The VM's slice of this SMMU: it owns the VMID of the parent, and
	 * with the CMDQV a VINTF whose page0 the VMM can map.
	 */
#ifdef VMM_HAVE_HW_QUEUE
	if (vmm_viommu_alloc(iommufd, s->dev.dev_id, s->parent_id,
			     IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, &s->cmdqv,
			     sizeof(s->cmdqv), &s->viommu_id))
		fail("IOMMU_VIOMMU_ALLOC(TEGRA241_CMDQV) on HWPT %u",
		     s->parent_id);
	printf("vIOMMU %u of type TEGRA241_CMDQV on HWPT %u: the guest's vSMMU %d\n",
	       s->viommu_id, s->parent_id, s->smmu);
	printf("  it owns a VINTF of SMMU %d's CMDQV: page0 at mmap offset 0x%llx, %llu KiB\n",
	       s->smmu, (unsigned long long)s->cmdqv.out_vintf_mmap_offset,
	       (unsigned long long)s->cmdqv.out_vintf_mmap_length >> 10);
#else
	if (vmm_viommu_alloc(iommufd, s->dev.dev_id, s->parent_id,
			     IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
			     &s->viommu_id))
		fail("IOMMU_VIOMMU_ALLOC on HWPT %u", s->parent_id);
	printf("vIOMMU %u of type ARM_SMMUV3 on HWPT %u: the guest's vSMMU %d\n",
	       s->viommu_id, s->parent_id, s->smmu);
#endif

	/* The device's StreamID as the guest sees it. */
	s->vsid = rid_of(s->pci.bdf);
	if (vmm_viommu_set_dev_id(iommufd, s->viommu_id, s->dev.dev_id,
				  s->vsid))
		fail("IOMMU_VIOMMU_SET_DEV_ID dev_id %u vSID 0x%x on vIOMMU %u",
		     s->dev.dev_id, s->vsid, s->viommu_id);
	printf("SET_DEV_ID: dev_id %u is vSID 0x%x on vIOMMU %u (its Requester ID in the guest)\n",
	       s->dev.dev_id, s->vsid, s->viommu_id);
}

/* ---- 3. a vIOMMU is one physical SMMU ------------------------------- */

static void show_cross_smmu(void)
{
	struct side *s0 = &sides[0], *s1 = &sides[1];
	int ret;

	step("3. A vIOMMU belongs to one physical SMMU");
	printf("SET_DEV_ID of dev_id %u (%s, behind SMMU 1) on vIOMMU %u (SMMU 0)...\n",
	       s1->dev.dev_id, s1->pci.bdf, s0->viommu_id);
	ret = vmm_viommu_set_dev_id(iommufd, s0->viommu_id, s1->dev.dev_id,
				    s1->vsid);
	if (ret != -EINVAL) {
		if (!ret)
			errno = 0;
		fail("cross-SMMU SET_DEV_ID returned %d, want -EINVAL", ret);
	}
	printf("  refused: errno %d (%s)\n", errno, strerror(errno));
	printf("  Why: a vIOMMU is a VMID, a VCMDQ page and a SID table of one physical\n"
	       "  SMMU, and SMMU 0 cannot translate or invalidate for a device that\n"
	       "  only SMMU 1 sees, so the VMM gives the guest one vSMMU per SMMU.\n");
}

/* ---- 4. the guest's stage 1, the VMM's nested HWPT ------------------ */

/* A fresh page of guest RAM: its IPA. */
static __u64 guest_page(const char *what)
{
	__u64 ipa = smmu_ram_alloc(&ram);

	if (!ipa) {
		errno = ENOMEM;
		fail("guest RAM for %s", what);
	}
	return ipa;
}

static void side_nest(struct side *s)
{
	struct iommu_hwpt_arm_smmuv3 vste;
	struct smmu_cd_cfg cd = {
		.asid = ASID,
		.va_bits = 48,
		.ips = SMMU_GET(SMMU_IDR5_OAS, s->info.idr[5]),
	};
	__u32 id;

	printf("\n-- vSMMU %d, vSID 0x%x\n", s->smmu, s->vsid);
	/* The guest: CD, page tables, two data pages, all in its RAM. */
	s->cd_ipa = guest_page("the CD");
	if (smmu_s1_init(&s->s1, &ram))
		fail("stage-1 root table");
	cd.ttb0 = s->s1.root;
	smmu_cd_build(hva(s->cd_ipa), &cd);
	s->src_ipa = guest_page("the source page");
	s->dst_ipa = guest_page("the destination page");
	if (smmu_s1_map(&s->s1, VA_SRC, s->src_ipa, SMMU_PROT_READ))
		fail("stage-1 map of VA 0x%llx", VA_SRC);
	if (smmu_s1_map(&s->s1, VA_DST, s->dst_ipa,
			SMMU_PROT_READ | SMMU_PROT_WRITE))
		fail("stage-1 map of VA 0x%llx", VA_DST);
	printf("guest: CD at IPA 0x%llx (ASID %u, TTB0 IPA 0x%llx)\n",
	       s->cd_ipa, ASID, s->s1.root);
	printf("guest: VA 0x%llx -> IPA 0x%llx (read), VA 0x%llx -> IPA 0x%llx (read/write)\n",
	       VA_SRC, s->src_ipa, VA_DST, s->dst_ipa);

	/* Its STE says "stage 1 through this CD"; the VMM traps it. */
	smmu_ste_s1(vste.ste, s->cd_ipa);
	printf("guest: STE for vSID 0x%x = 0x%016llx 0x%016llx\n", s->vsid,
	       (unsigned long long)le64toh(vste.ste[0]),
	       (unsigned long long)le64toh(vste.ste[1]));

	if (vmm_hwpt_alloc(iommufd, s->dev.dev_id, s->viommu_id, 0,
			   IOMMU_HWPT_DATA_ARM_SMMUV3, &vste, sizeof(vste),
			   &s->nested_id))
		fail("IOMMU_HWPT_ALLOC(ARM_SMMUV3 vSTE) on vIOMMU %u",
		     s->viommu_id);
	printf("VMM: nested HWPT %u from that vSTE on vIOMMU %u\n",
	       s->nested_id, s->viommu_id);
	if (vmm_dev_attach(&s->dev, s->nested_id, &id))
		fail("attach dev_id %u to HWPT %u", s->dev.dev_id,
		     s->nested_id);
	printf("VMM: dev_id %u attached to HWPT %u: stage 1 (guest) over stage 2 (HWPT %u)\n",
	       s->dev.dev_id, id, s->parent_id);

	/* The device may DMA now: BAR0, memory decode, bus master. */
	if (edu_enable(&s->edu, &s->dev, &s->bar0))
		fail("enable the edu %s (BAR0, bus master, ID)", s->pci.bdf);
}

/* ---- 5. and 6. DMA -------------------------------------------------- */

/*
 * The guest writes a message (padded with a pattern to a page) at VA_SRC;
 * the edu reads it into its buffer, then writes it back to VA_DST.
 */
static void dma_message(struct side *s, const char *tag)
{
	__u8 *src = hva(s->src_ipa);

	pattern_fill(src, PAGE, pattern_run_seed());
	snprintf((char *)src, 96, "%s: hello from the guest through vSMMU %d (vSID 0x%x)",
		 tag, s->smmu, s->vsid);
	if (edu_to_dev(&s->edu, VA_SRC, 0, PAGE))
		fail("DMA VA 0x%llx -> edu %s", VA_SRC, s->pci.bdf);
	if (edu_to_ram(&s->edu, VA_DST, 0, PAGE))
		fail("DMA edu %s -> VA 0x%llx", s->pci.bdf, VA_DST);
}

/* Did the last message land in the page at @ipa? Bytes that match. */
static unsigned int matched(struct side *s, __u64 ipa)
{
	const __u8 *a = hva(s->src_ipa), *b = hva(ipa);
	unsigned int i, n = 0;

	for (i = 0; i < PAGE; i++)
		n += a[i] == b[i];
	return n;
}

static void show_dma(void)
{
	int i;

	step("5. DMA through stage 1 + stage 2");
	for (i = 0; i < NR_SMMU; i++) {
		struct side *s = &sides[i];
		unsigned int n;

		dma_message(s, "first");
		n = matched(s, s->dst_ipa);
		printf("edu %s: VA 0x%llx -> edu -> VA 0x%llx; IPA 0x%llx reads \"%s\"\n",
		       s->pci.bdf, VA_SRC, VA_DST, s->dst_ipa,
		       (char *)hva(s->dst_ipa));
		printf("  %u of %u bytes matched\n", n, PAGE);
		if (n != PAGE)
			fail_check("DMA on SMMU %d: only %u bytes matched",
				   s->smmu, n);
	}
}

/* Where did the message land: the old page (stale) or the new one? */
static void expect_landing(struct side *s, bool in_new)
{
	__u64 want = in_new ? s->new_ipa : s->dst_ipa;
	__u64 other = in_new ? s->dst_ipa : s->new_ipa;
	unsigned int n = matched(s, want);

	printf("  edu %s: landed in the %s page IPA 0x%llx (%u of %u bytes matched)%s\n",
	       s->pci.bdf, in_new ? "new" : "OLD", want, n, PAGE,
	       in_new ? "" : ": stale IOTLB entry");
	if (n != PAGE || matched(s, other) == PAGE)
		fail_check("SMMU %d: the message did not land in IPA 0x%llx",
			   s->smmu, want);
}

/* The guest's TLBI_NH_VA for VA_DST, trapped and passed on by the VMM. */
static void tlbi_va(struct side *s)
{
	struct iommu_viommu_arm_smmuv3_invalidate cmd;
	__u32 num = 1;

	/* A guest behind a stage-1-only vSMMU has no VMID: it writes 0. */
	smmu_cmd_tlbi_nh_va(cmd.cmd, ASID, VA_DST, true);
	printf("guest of vSMMU %d: TLBI_NH_VA ASID %u VMID %llu VA 0x%llx = 0x%016llx 0x%016llx\n",
	       s->smmu, ASID,
	       (unsigned long long)SMMU_GET(SMMU_CMD_0_VMID,
					    le64toh(cmd.cmd[0])),
	       VA_DST, (unsigned long long)le64toh(cmd.cmd[0]),
	       (unsigned long long)le64toh(cmd.cmd[1]));
	if (vmm_viommu_invalidate(iommufd, s->viommu_id,
				  IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
				  &cmd, sizeof(cmd), &num) || num != 1)
		fail("IOMMU_HWPT_INVALIDATE on vIOMMU %u (%u handled)",
		     s->viommu_id, num);
	printf("VMM: IOMMU_HWPT_INVALIDATE on vIOMMU %u: 1 command handled\n",
	       s->viommu_id);
}

static void show_invalidation(void)
{
	int i;

	step("6. The guest remaps a VA: stale IOTLB, then TLBI_NH_VA");
	for (i = 0; i < NR_SMMU; i++) {
		struct side *s = &sides[i];

		s->new_ipa = guest_page("the new destination page");
		if (smmu_s1_map(&s->s1, VA_DST, s->new_ipa,
				SMMU_PROT_READ | SMMU_PROT_WRITE))
			fail("stage-1 remap of VA 0x%llx", VA_DST);
		printf("guest of vSMMU %d: VA 0x%llx now -> IPA 0x%llx (was IPA 0x%llx), no TLBI yet\n",
		       i, VA_DST, s->new_ipa, s->dst_ipa);
	}

	printf("\nDMA again on both, before any invalidation:\n");
	for (i = 0; i < NR_SMMU; i++) {
		dma_message(&sides[i], "second");
		expect_landing(&sides[i], false);
	}

	printf("\nOnly the guest of vSMMU 0 invalidates:\n");
	tlbi_va(&sides[0]);
	for (i = 0; i < NR_SMMU; i++) {
		dma_message(&sides[i], "third");
		expect_landing(&sides[i], i == 0);
	}
	printf("  The guest wrote VMID 0; this device's IOTLB entries are tagged with\n"
	       "  the VMID of vIOMMU %u (the kernel allocates VMIDs from 1 and never\n"
	       "  shows them), so the TLBI hit only because the kernel put that VMID\n"
	       "  in. It was issued on SMMU 0 alone: SMMU 1 (whose VMIDs are its own,\n"
	       "  so vIOMMU %u may well have the same number) still used its stale entry.\n",
	       sides[0].viommu_id, sides[1].viommu_id);

	printf("\nNow the guest of vSMMU 1:\n");
	tlbi_va(&sides[1]);
	dma_message(&sides[1], "fourth");
	expect_landing(&sides[1], true);
}

#ifdef VMM_HAVE_HW_QUEUE
/* ---- 7. the direct path: a VCMDQ per vIOMMU, no VM exit -------------- */

/* The VMM maps the VINTF page and gives the guest queue 0 in its RAM. */
static void side_vcmdq(struct side *s)
{
	printf("\n-- SMMU %d\n", s->smmu);
	s->page0 = vmm_iommufd_mmap(iommufd, s->cmdqv.out_vintf_mmap_offset,
				    s->cmdqv.out_vintf_mmap_length);
	if (!s->page0)
		fail("mmap of VINTF page0 (vIOMMU %u)", s->viommu_id);
	printf("VMM: mmap(/dev/iommu, offset 0x%llx, %llu KiB) = %p: the VINTF's page0,\n"
	       "  which the VMM maps into the guest as its vCMDQV's page\n",
	       (unsigned long long)s->cmdqv.out_vintf_mmap_offset,
	       (unsigned long long)s->cmdqv.out_vintf_mmap_length >> 10,
	       s->page0);
	s->q_ipa = guest_page("the guest's VCMDQ (256 commands)");
	if (vmm_hw_queue_alloc(iommufd, s->viommu_id,
			       IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 0, s->q_ipa,
			       PAGE, &s->hwq_id))
		fail("IOMMU_HW_QUEUE_ALLOC at IPA 0x%llx", s->q_ipa);
	printf("VMM: IOMMU_HW_QUEUE_ALLOC: HW queue %u = VCMDQ 0 of the VINTF, reading\n"
	       "  guest RAM at IPA 0x%llx (pinned while the queue lives)\n",
	       s->hwq_id, s->q_ipa);
	vcmdq_init(&s->vq, s->page0, 0, hva(s->q_ipa), 8);
	if (vcmdq_enable(&s->vq))
		fail("enable VCMDQ 0 of SMMU %d", s->smmu);
	printf("guest of vSMMU %d: VCMDQ 0 enabled through its page (CONFIG.EN)\n",
	       s->smmu);
}

/* The guest's TLBI_NH_VA + CMD_SYNC through its own queue: no ioctl. */
static void vcmdq_tlbi_va(struct side *s)
{
	__le64 cmds[2][2];
	unsigned int at;

	smmu_cmd_tlbi_nh_va(cmds[0], ASID, VA_DST, true);
	smmu_cmd_op(cmds[1], SMMU_CMD_SYNC);
	if (vcmdq_submit(&s->vq, cmds, 2, &at))
		fail("VCMDQ of SMMU %d: CONS.ERR %u", s->smmu,
		     vcmdq_cons_err(&s->vq));
	printf("guest of vSMMU %d: TLBI_NH_VA + CMD_SYNC written to its VCMDQ, PROD moved\n"
	       "  to %u through the mapped page; the CMDQV consumed both (CONS %u)\n"
	       "  with the VINTF's VMID: no system call, no VM exit\n",
	       s->smmu, s->vq.prod, s->vq.prod);
}

static void show_vcmdq(void)
{
	int i;

	step("7. A VCMDQ per vIOMMU: the guest invalidates with no VM exit");
	for (i = 0; i < NR_SMMU; i++)
		side_vcmdq(&sides[i]);

	printf("\nBoth guests remap VA 0x%llx again:\n", VA_DST);
	for (i = 0; i < NR_SMMU; i++) {
		struct side *s = &sides[i];

		s->dst_ipa = s->new_ipa;
		s->new_ipa = guest_page("another destination page");
		if (smmu_s1_map(&s->s1, VA_DST, s->new_ipa,
				SMMU_PROT_READ | SMMU_PROT_WRITE))
			fail("stage-1 remap of VA 0x%llx", VA_DST);
		dma_message(s, "fifth");
		expect_landing(s, false);
	}
	printf("\nOnly the guest of vSMMU 0 invalidates, through its own VCMDQ:\n");
	vcmdq_tlbi_va(&sides[0]);
	for (i = 0; i < NR_SMMU; i++) {
		dma_message(&sides[i], "sixth");
		expect_landing(&sides[i], i == 0);
	}
	printf("  SMMU 0's CMDQV executed it on SMMU 0 only; SMMU 1 is still stale.\n");
	printf("\nThe guest of vSMMU 1 uses its VCMDQ:\n");
	vcmdq_tlbi_va(&sides[1]);
	dma_message(&sides[1], "seventh");
	expect_landing(&sides[1], true);
}

/* The queue and the page go before the vIOMMU can. */
static void side_vcmdq_teardown(struct side *s)
{
	if (vmm_destroy(iommufd, s->viommu_id) != -EBUSY)
		fail_check("vIOMMU %u could be destroyed with its VCMDQ", s->viommu_id);
	if (vcmdq_disable(&s->vq))
		fail("disable VCMDQ of SMMU %d", s->smmu);
	if (vmm_destroy(iommufd, s->hwq_id))
		fail("destroy HW queue %u", s->hwq_id);
	munmap(s->page0, s->cmdqv.out_vintf_mmap_length);
	printf("VCMDQ disabled, HW queue %u destroyed, VINTF page unmapped (until then\n"
	       "  destroying vIOMMU %u was EBUSY)\n", s->hwq_id, s->viommu_id);
}
#endif

/* ---- 8. teardown ---------------------------------------------------- */

static void side_teardown(struct side *s)
{
	printf("\n-- SMMU %d\n", s->smmu);
	/* The device first: no DMA may be in flight past this point. */
	if (edu_dma_wait(&s->edu, EDU_DMA_TIMEOUT_MS))
		fail("edu %s still busy", s->pci.bdf);
	if (vmm_dev_set_command(&s->dev, 0, PCI_COMMAND_MASTER))
		fail("bus master off on %s", s->pci.bdf);
	vmm_region_unmap(&s->bar0);
	printf("edu %s: bus mastering off, BAR0 unmapped\n", s->pci.bdf);
	/* Detached, the device is blocked; only then can the rest go. */
	if (vmm_dev_detach(&s->dev))
		fail("detach dev_id %u", s->dev.dev_id);
	printf("dev_id %u detached from HWPT %u (DMA now blocked)\n",
	       s->dev.dev_id, s->nested_id);
#ifdef VMM_HAVE_HW_QUEUE
	side_vcmdq_teardown(s);
#endif
	if (vmm_viommu_unset_dev_id(iommufd, s->viommu_id, s->dev.dev_id,
				    s->vsid))
		fail("UNSET_DEV_ID vSID 0x%x on vIOMMU %u", s->vsid,
		     s->viommu_id);
	printf("UNSET_DEV_ID: vSID 0x%x removed from vIOMMU %u\n", s->vsid,
	       s->viommu_id);
	/* Each object holds the one it was made on: children first. */
	if (vmm_destroy(iommufd, s->nested_id))
		fail("destroy nested HWPT %u", s->nested_id);
	if (vmm_destroy(iommufd, s->viommu_id))
		fail("destroy vIOMMU %u", s->viommu_id);
	if (vmm_destroy(iommufd, s->parent_id))
		fail("destroy nesting-parent HWPT %u", s->parent_id);
	printf("destroyed nested HWPT %u, vIOMMU %u, nesting-parent HWPT %u\n",
	       s->nested_id, s->viommu_id, s->parent_id);
	/* Closing the cdev unbinds the device from the iommufd. */
	vmm_dev_close(&s->dev);
	printf("closed %s: dev_id %u unbound\n", s->pci.cdev, s->dev.dev_id);
}

static void teardown(void)
{
	__u64 unmapped = 0;
	int i;

	step("8. Teardown, in the reverse order of the setup");
	for (i = NR_SMMU - 1; i >= 0; i--)
		side_teardown(&sides[i]);

	printf("\n-- the VM\n");
	if (vmm_ioas_unmap(iommufd, ioas_id, GUEST_RAM_IPA, GUEST_RAM_SIZE,
			   &unmapped))
		fail("unmap guest RAM from IOAS %u", ioas_id);
	if (vmm_destroy(iommufd, ioas_id))
		fail("destroy IOAS %u", ioas_id);
	printf("guest RAM unmapped from IOAS %u (%llu KiB), IOAS destroyed\n",
	       ioas_id, (unsigned long long)unmapped >> 10);
	close(iommufd);
	iommufd = -1;
	munmap(ram_hva, GUEST_RAM_SIZE);
	printf("closed /dev/iommu\n");
}

int main(void)
{
	int i;

	/* Line by line, so the console interleaves kernel messages cleanly. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("viommu-demo: nested SMMUv3 translation for a guest through iommufd vIOMMUs\n");

	show_platform();
	vm_open();
	for (i = 0; i < NR_SMMU; i++)
		side_setup(&sides[i]);
	show_cross_smmu();

	step("4. The guest builds stage 1; the VMM makes nested HWPTs");
	for (i = 0; i < NR_SMMU; i++)
		side_nest(&sides[i]);

	show_dma();
	show_invalidation();
#ifdef VMM_HAVE_HW_QUEUE
	show_vcmdq();
#endif
	teardown();

	printf("\ndone: both devices translated through guest stage 1 over host stage 2,\n"
	       "each on its own vIOMMU, and everything was torn down.\n");
	return 0;
}

#endif /* VMM_HAVE_VIOMMU */
