// SPDX-License-Identifier: GPL-2.0
/*
 * one-vsmmu-demo: the step of `make run` after viommu-demo. The same VM
 * on the dual topology (two physical SMMUs, an edu behind each), this time
 * with ONE guest vSMMU over both (lib/vsmmu1.[ch]): one stream table, one
 * CD and one stage-1 table set for both devices, one command queue that
 * the VMM traps; per command it picks the vIOMMU that owns the vSID, or
 * sends the command to both. And why a direct-assigned VCMDQ cannot serve
 * this guest. Each step says what it did; a failure prints what failed and
 * exits 1.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "edu.h"
#include "pattern.h"
#include "smmuv3.h"
#include "vmm.h"
#include "vsmmu1.h"

#ifndef VSMMU1_HAVE
int main(void)
{
	printf("one-vsmmu-demo: these uAPI headers have no vIOMMU ioctls\n");
	return 1;
}
#else

#define PAGE		4096u
#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define GUEST_RAM_IPA	0x40000000ull
#define GUEST_RAM_SIZE	(1ull << 20)
#define VA_SRC		0x0000123400000000ull
#define VA_DST		0x0000123400200000ull
#define ASID		1
#define ASID_NEW	2

static int iommufd = -1;
static __u32 ioas_id;
static __u8 *ram_hva;
static struct smmu_guest_ram ram;
static struct vsmmu1 v;
static vsmmu1_issue_fn ioctl_issue;

struct edu_side {
	struct vmm_pci pci;
	struct vmm_dev dev;
	struct vmm_region bar0;
	struct edu edu;
	__u32 vsid;
};

static struct edu_side eds[2];
static __u64 cd_ipa, src_ipa, a_ipa, b_ipa, c_ipa;
static struct smmu_s1_table t1, t2;
static unsigned int ips = 7;
static __u32 msg_seed = 0x16;

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

static void step(const char *title)
{
	printf("\n== %s\n", title);
}

static void *hva(__u64 ipa)
{
	return smmu_ram_hva(&ram, ipa);
}

static const char *opname(__u64 w0)
{
	switch (SMMU_GET(SMMU_CMD_0_OP, w0)) {
	case SMMU_CMD_CFGI_CD:		return "CFGI_CD";
	case SMMU_CMD_CFGI_CD_ALL:	return "CFGI_CD_ALL";
	case SMMU_CMD_TLBI_NH_VA:	return "TLBI_NH_VA";
	case SMMU_CMD_TLBI_NH_ASID:	return "TLBI_NH_ASID";
	case SMMU_CMD_SYNC:		return "CMD_SYNC";
	default:			return "other";
	}
}

/* The layer's calls, told as they happen. */
static int told_issue(struct vsmmu1 *vs, int idx, const __le64 (*cmds)[2],
		      __u32 *num)
{
	__u32 i, n = *num;
	int ret;

	printf("  VMM -> vIOMMU %u (%s): IOMMU_HWPT_INVALIDATE [",
	       vs->viommu[idx].viommu_id, vs->viommu[idx].iommu);
	for (i = 0; i < n; i++) {
		__u64 w0 = le64toh(cmds[i][0]);

		printf("%s%s", i ? ", " : "", opname(w0));
		if (vsmmu1_route(cmds[i], NULL) == VSMMU1_TO_OWNER)
			printf(" vSID 0x%llx",
			       (unsigned long long)SMMU_GET(SMMU_CMD_0_SID, w0));
	}
	ret = ioctl_issue(vs, idx, cmds, num);
	printf("]: %s\n", ret ? strerror(-ret) : "done");
	return ret;
}

/* The guest's batch, ending with CMD_SYNC, through the layer. */
static void guest_batch(const char *what, __le64 (*cmds)[2], __u32 n)
{
	struct vsmmu1_result res;

	smmu_cmd_op(cmds[n], SMMU_CMD_SYNC);
	printf("guest: %s + CMD_SYNC into its one command queue\n", what);
	if (vsmmu1_issue(&v, (const __le64 (*)[2])cmds, n + 1, &res))
		fail("the batch stopped at command %u (CERROR %u)", res.cons,
		     res.cerror);
	printf("  VMM: CMD_SYNC completed after %u call%s returned; CONS = %u\n",
	       res.calls, res.calls == 1 ? "" : "s", res.cons);
}

/* Edu @i copies a fresh message from VA_SRC to VA_DST: where did it land? */
static void dma(int i, __u64 want, __u64 other, const char *note)
{
	struct edu_side *e = &eds[i];
	bool ok;

	pattern_fill(hva(src_ipa), PAGE, msg_seed++);
	if (edu_to_dev(&e->edu, VA_SRC, 0, PAGE) ||
	    edu_to_ram(&e->edu, VA_DST, 0, PAGE))
		fail("DMA of edu %s", e->pci.bdf);
	ok = pattern_diff(hva(src_ipa), hva(want), PAGE) == -1 &&
	     pattern_diff(hva(src_ipa), hva(other), PAGE) != -1;
	printf("  edu %s (vSID 0x%x, behind %s): landed in IPA 0x%llx%s\n",
	       e->pci.bdf, e->vsid, e->pci.iommu, want, note);
	if (!ok) {
		errno = EIO;
		fail("edu %s: the message is not (only) in IPA 0x%llx",
		     e->pci.bdf, want);
	}
}

static __u64 guest_page(void)
{
	__u64 ipa = smmu_ram_alloc(&ram);

	if (!ipa) {
		errno = ENOMEM;
		fail("guest RAM used up");
	}
	return ipa;
}

static void write_cd(__u16 asid, __u64 ttb0)
{
	struct smmu_cd_cfg cfg = {
		.asid = asid, .ttb0 = ttb0, .va_bits = 48, .ips = ips,
	};
	__le64 cd[8], *live = hva(cd_ipa);
	int i;

	smmu_cd_build(cd, &cfg);
	for (i = 7; i >= 0; i--)
		smmu_write64(&live[i], cd[i]);
}

static void setup(void)
{
	struct vmm_pci pci[4];
	int i, n, idx;

	step("9. The other shape: one guest vSMMU over both SMMUs");
	printf("The same VM, but its guest sees ONE SMMU: one stream table, one ASID\n"
	       "space, one command queue. The VMM keeps a vIOMMU per physical SMMU\n"
	       "behind it, all on the VM's one IOAS (lib/vsmmu1.[ch]).\n\n");
	n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, 4);
	if (n > 0 && n <= 4)
		n = vmm_pci_per_iommu(pci, n);
	if (n != 2) {
		errno = ENODEV;
		fail("expected an edu behind each of 2 SMMUs, found %d", n);
	}
	iommufd = vmm_iommufd_open();
	if (iommufd < 0 || vmm_ioas_alloc(iommufd, &ioas_id))
		fail("/dev/iommu, IOAS");
	ram_hva = pattern_alloc(GUEST_RAM_SIZE);
	if (!ram_hva || vmm_ioas_map(iommufd, ioas_id, ram_hva, GUEST_RAM_SIZE,
				     GUEST_RAM_IPA, RW))
		fail("guest RAM in IOAS %u", ioas_id);
	smmu_ram_init(&ram, ram_hva, GUEST_RAM_IPA, GUEST_RAM_SIZE);
	printf("VMM: IOAS %u holds the guest's RAM at IPA 0x%llx\n", ioas_id,
	       GUEST_RAM_IPA);

	vsmmu1_init(&v, iommufd, ioas_id);
	ioctl_issue = v.issue;
	v.issue = told_issue;
	for (i = 0; i < 2; i++) {
		struct edu_side *e = &eds[i];

		e->pci = pci[i];
		e->dev.fd = -1;
		e->vsid = 0x71 + i;
		if (vmm_dev_open(&e->dev, &e->pci) ||
		    vmm_dev_bind(&e->dev, iommufd))
			fail("open and bind %s", e->pci.bdf);
		if (vsmmu1_add_dev(&v, &e->dev, e->vsid, &idx))
			fail("vsmmu1_add_dev(%s, vSID 0x%x)", e->pci.bdf,
			     e->vsid);
		printf("VMM: edu %s is vSID 0x%x in the guest's stream table -> vIOMMU %u\n"
		       "  on %s (nesting parent HWPT %u on IOAS %u%s)\n",
		       e->pci.bdf, e->vsid, v.viommu[idx].viommu_id,
		       v.viommu[idx].iommu, v.viommu[idx].parent_id, ioas_id,
		       i ? ", a second parent: a parent belongs to one SMMU"
			 : "");
	}
	/* The CD's IPA size: what both SMMUs can output. */
	for (i = 0; i < 2; i++) {
		struct iommu_hw_info_arm_smmuv3 info;
		__u32 len = sizeof(info), type;

		if (vmm_hw_info(iommufd, eds[i].dev.dev_id, &info, &len, &type,
				NULL))
			fail("IOMMU_GET_HW_INFO");
		if (SMMU_GET(SMMU_IDR5_OAS, info.idr[5]) < ips)
			ips = SMMU_GET(SMMU_IDR5_OAS, info.idr[5]);
	}
	if (vsmmu1_add_dev(&v, &eds[1].dev, 0x71, NULL) != -EEXIST)
		fail("vSID 0x71 given twice was not refused");
	printf("VMM: vSID 0x71 again, for the other edu: refused (EEXIST) by the layer:\n"
	       "  the kernel would take it on the other vIOMMU (a vIOMMU's vSIDs are\n"
	       "  its own), but the guest has one stream table over both\n");
}

static void guest_tables(void)
{
	__le64 ste[2];
	int i;

	step("10. The guest builds ONE CD and ONE stage-1 table for both devices");
	cd_ipa = guest_page();
	if (smmu_s1_init(&t1, &ram) || smmu_s1_init(&t2, &ram))
		fail("stage-1 tables");
	src_ipa = guest_page();
	a_ipa = guest_page();
	b_ipa = guest_page();
	c_ipa = guest_page();
	if (smmu_s1_map(&t1, VA_SRC, src_ipa, SMMU_PROT_READ) ||
	    smmu_s1_map(&t1, VA_DST, a_ipa, SMMU_PROT_READ | SMMU_PROT_WRITE) ||
	    smmu_s1_map(&t2, VA_SRC, src_ipa, SMMU_PROT_READ) ||
	    smmu_s1_map(&t2, VA_DST, c_ipa, SMMU_PROT_READ | SMMU_PROT_WRITE))
		fail("stage-1 maps");
	write_cd(ASID, t1.root);
	printf("guest: CD at IPA 0x%llx, ASID %u, VA 0x%llx -> IPA 0x%llx (A)\n",
	       cd_ipa, ASID, VA_DST, a_ipa);
	smmu_ste_s1(ste, cd_ipa);
	for (i = 0; i < 2; i++) {
		if (vsmmu1_attach(&v, eds[i].vsid, &eds[i].dev, ste))
			fail("nested HWPT for vSID 0x%x", eds[i].vsid);
		printf("guest: STE of vSID 0x%x -> that CD; VMM: nested HWPT %u on vIOMMU %u, edu attached\n",
		       eds[i].vsid, vsmmu1_lookup(&v, eds[i].vsid)->nested_id,
		       v.viommu[i].viommu_id);
		if (edu_enable(&eds[i].edu, &eds[i].dev, &eds[i].bar0))
			fail("enable edu %s", eds[i].pci.bdf);
	}
	printf("\nDMA on both:\n");
	for (i = 0; i < 2; i++)
		dma(i, a_ipa, b_ipa, "");
}

static void commands(void)
{
	__le64 cmds[2][2];
	int i;

	step("11. One command queue, two SMMUs: the VMM selects or broadcasts");
	if (smmu_s1_map(&t1, VA_DST, b_ipa, SMMU_PROT_READ | SMMU_PROT_WRITE))
		fail("remap");
	printf("guest: VA 0x%llx now -> IPA 0x%llx (B), no TLBI yet\n", VA_DST,
	       b_ipa);
	for (i = 0; i < 2; i++)
		dma(i, a_ipa, b_ipa, " (A: stale IOTLB entry)");
	smmu_cmd_tlbi_nh_va(cmds[0], ASID, VA_DST, true);
	guest_batch("TLBI_NH_VA ASID 1", cmds, 1);
	printf("  ASID 1 is one ASID of the guest's one vSMMU, and either SMMU may\n"
	       "  cache it: the layer sent the TLBI to both vIOMMUs, each with its\n"
	       "  own VMID put in by the kernel\n");
	for (i = 0; i < 2; i++)
		dma(i, b_ipa, a_ipa, " (B: fresh)");

	write_cd(ASID_NEW, t2.root);
	printf("\nguest: its CD now says ASID %u, a table with VA 0x%llx -> IPA 0x%llx (C)\n",
	       ASID_NEW, VA_DST, c_ipa);
	smmu_cmd_cfgi_cd(cmds[0], eds[0].vsid, 0, true);
	guest_batch("CFGI_CD vSID 0x71", cmds, 1);
	printf("  a CFGI_CD names one device: only the vIOMMU that owns vSID 0x71\n");
	dma(0, c_ipa, b_ipa, " (C: its SMMU refetched the CD)");
	dma(1, b_ipa, c_ipa, " (B: the old CD, cached, until its own CFGI_CD)");
	smmu_cmd_cfgi_cd(cmds[0], eds[1].vsid, 0, true);
	guest_batch("CFGI_CD vSID 0x72", cmds, 1);
	dma(1, c_ipa, b_ipa, " (C)");
}

static void vcmdq(void)
{
	const char *why = NULL;

	step("12. No VCMDQ for this guest");
	if (vsmmu1_hw_queue_alloc(&v, 0, GUEST_RAM_IPA, PAGE, &why) !=
	    -EOPNOTSUPP)
		fail("a VCMDQ was not refused");
	printf("VMM: a direct-assigned VCMDQ for the one vSMMU: refused (EOPNOTSUPP):\n  %s.\n",
	       why);
	printf("  In step 7 each guest's VCMDQ page belonged to its own SMMU's CMDQV,\n"
	       "  and its TLBIs reached that SMMU only, which is right when there is a\n"
	       "  vSMMU per SMMU. Here the TLBI of step 11 had to reach both.\n\n"
	       "What a VMM author trades:\n"
	       "  one vSMMU per SMMU: the guest's commands go where they belong by\n"
	       "    construction, VCMDQs can be passed through (no VM exit), and the\n"
	       "    guest's topology (IORT) must show each SMMU with its devices;\n"
	       "  one vSMMU over all: the guest sees one SMMU whatever the host has\n"
	       "    (hotplug across SMMUs, migration to another host layout), but every\n"
	       "    command is trapped, each TLBI costs one call per SMMU, the VMM keeps\n"
	       "    one vSID space itself, and the vSMMU offers what ALL SMMUs have.\n");
}

static void teardown(void)
{
	int i;

	step("13. Teardown");
	for (i = 0; i < 2; i++) {
		edu_disable(&eds[i].edu, &eds[i].dev, &eds[i].bar0);
		if (vsmmu1_detach(&v, eds[i].vsid, &eds[i].dev) ||
		    vsmmu1_del_dev(&v, eds[i].vsid))
			fail("detach vSID 0x%x", eds[i].vsid);
		vmm_dev_close(&eds[i].dev);
	}
	if (vsmmu1_destroy(&v))
		fail("destroy the vIOMMUs and parents");
	printf("devices detached and closed, both vIOMMUs and parents destroyed\n");
	close(iommufd);
	munmap(ram_hva, GUEST_RAM_SIZE);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("one-vsmmu-demo: one guest vSMMU over two physical SMMUs\n");
	setup();
	guest_tables();
	commands();
	vcmdq();
	teardown();
	printf("\ndone: one vSMMU, two vIOMMUs; each CFGI_CD went to its device's SMMU,\n"
	       "the TLBI to both, and the VCMDQ was refused with its reason.\n");
	return 0;
}

#endif /* VSMMU1_HAVE */
