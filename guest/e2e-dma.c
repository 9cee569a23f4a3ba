// SPDX-License-Identifier: GPL-2.0
/*
 * e2e-dma: end-to-end DMA through VFIO cdev + iommufd on the dual-SMMU VM.
 *
 * Each edu device (one behind each SMMUv3) is driven the way a VMM drives
 * an assigned device: bound to an iommufd, attached to an IOAS holding
 * "guest RAM" (buffers of this process) at fixed IOVAs, then told to DMA.
 * Every data check compares bytes: patterns differ per device, per test
 * and per run (the seed is logged), and buffers that must not change are
 * compared with a copy taken before the transfer.
 *
 * Needs: every edu bound to vfio-pci (bind-vfio 1234:11e8 runs first).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>

/*
 * The harness's macros leave parameters unused (ucontext, variant), which
 * -Wextra reports.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <kselftest_harness.h>

#include "edu.h"
#include "edutest.h"
#include "pattern.h"
#include "vmm.h"

/*
 * The host's page (vmm.h): the unit of every IOAS mapping here, its IOVA,
 * length and buffer. A transfer is at most the edu's buffer, 4 KiB: on a
 * 64 KiB-page host it covers the start of a page.
 */
#define PAGE		vmm_page_size()
#define BUF_LEN		(4 * PAGE)

/*
 * IOVAs ("guest physical addresses") used by the tests. They are above
 * 4 GiB, so the edu's address registers need their high half, and far
 * above the VM's RAM, so data that arrives there was translated. They
 * avoid the MSI window the SMMU driver reserves at 0x8000000. All are
 * aligned to any host page size (up to 1 MiB).
 */
#define IOVA_SRC	0x0000004000000000ull
#define IOVA_DST	0x0000004000100000ull
/* Never mapped: right after the end of the IOVA_DST mapping. */
#define IOVA_HOLE	(IOVA_DST + BUF_LEN)
#define IOVA_X		0x0000004000200000ull
#define IOVA_RO		0x0000004000300000ull
#define IOVA_LATE	0x0000004000400000ull
/* arm-smmu-v3's software MSI window (MSI_IOVA_BASE, MSI_IOVA_LENGTH). */
#define MSI_IOVA	0x8000000ull
#define MSI_IOVA_LEN	0x100000ull

#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/* ---- a device set up the way a VMM does ----------------------------- */

/*
 * Open and bind to @iommufd the edu behind SMMU @smmu, attach it to
 * @pt_id, map its BAR0 and let it master the bus. *@hwpt_id gets what it
 * attached to. Leaves the DMA engine idle.
 */
static void vm_dev_setup(struct __test_metadata *_metadata, struct vm_dev *vd,
			 int smmu, int iommufd, __u32 pt_id, __u32 *hwpt_id)
{
	vm_dev_bind(_metadata, vd, smmu, iommufd);
	ASSERT_EQ(0, vmm_dev_attach(&vd->dev, pt_id, hwpt_id)) {
		TH_LOG("attach %s: %s", vd->dev.pci.bdf, strerror(errno));
	}
	vm_dev_enable(_metadata, vd);
}

/* ---- the fixture: one edu, one iommufd, one IOAS, two buffers ------- */

FIXTURE(edu) {
	int iommufd;
	__u32 ioas_id;
	__u32 hwpt_id;
	struct vm_dev vd;
	__u8 *src, *dst, *copy;
};

FIXTURE_VARIANT(edu) {
	int smmu;
};

FIXTURE_VARIANT_ADD(edu, smmu0) {
	.smmu = 0,
};

FIXTURE_VARIANT_ADD(edu, smmu1) {
	.smmu = 1,
};

FIXTURE_SETUP(edu)
{
	self->iommufd = vmm_iommufd_open();
	ASSERT_LE(0, self->iommufd);
	ASSERT_EQ(0, vmm_ioas_alloc(self->iommufd, &self->ioas_id));
	ASSERT_NE(0u, self->ioas_id);
	vm_dev_setup(_metadata, &self->vd, variant->smmu, self->iommufd,
		     self->ioas_id, &self->hwpt_id);
	/* Attaching to an IOAS attaches to a HWPT the kernel made for it. */
	ASSERT_NE(0u, self->hwpt_id);
	ASSERT_NE(self->ioas_id, self->hwpt_id);

	self->src = pattern_alloc(BUF_LEN);
	self->dst = pattern_alloc(BUF_LEN);
	self->copy = pattern_alloc(BUF_LEN);
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->copy);
	pattern_fill(self->src, BUF_LEN, seed_of(_metadata, variant->smmu, 1));
	pattern_fill(self->dst, BUF_LEN, seed_of(_metadata, variant->smmu, 2));
	/* The device reads src and writes dst. */
	ASSERT_EQ(0, vmm_ioas_map(self->iommufd, self->ioas_id, self->src,
				  BUF_LEN, IOVA_SRC, IOMMU_IOAS_MAP_READABLE));
	ASSERT_EQ(0, vmm_ioas_map(self->iommufd, self->ioas_id, self->dst,
				  BUF_LEN, IOVA_DST, RW));
}

FIXTURE_TEARDOWN(edu)
{
	vm_dev_teardown(&self->vd);
	/* Closing /dev/iommu destroys the IOAS, its HWPT and mappings. */
	if (self->iommufd >= 0)
		close(self->iommufd);
}

/*
 * @page (a host page), filled with the pattern of @tag, mapped read-only
 * at @iova: the device reads it from there and writes it to IOVA_DST,
 * every byte of a transfer.
 */
static void map_readable(struct __test_metadata *_metadata,
			 FIXTURE_DATA(edu) *self, __u8 *page, __u64 iova,
			 __u32 tag)
{
	struct edu *edu = &self->vd.edu;

	pattern_fill(page, PAGE, seed_of(_metadata, self->vd.smmu, tag));
	ASSERT_EQ(0, vmm_ioas_map(self->iommufd, self->ioas_id, page, PAGE,
				  iova, IOMMU_IOAS_MAP_READABLE));
	ASSERT_EQ(0, edu_to_dev(edu, iova, 0, EDU_BUF_SIZE));
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_DST, 0, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(page, self->dst, EDU_BUF_SIZE));
}

/* RAM -> device -> RAM through the IOMMU, every byte checked. */
TEST_F(edu, dma_round_trip)
{
	struct edu *edu = &self->vd.edu;
	long d;

	memcpy(self->copy, self->dst, BUF_LEN);
	ASSERT_NE(-1, pattern_diff(self->src, self->dst, EDU_BUF_SIZE));
	ASSERT_EQ(0, edu_to_dev(edu, IOVA_SRC, 0, EDU_BUF_SIZE));
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_DST, 0, EDU_BUF_SIZE));
	d = pattern_diff(self->src, self->dst, EDU_BUF_SIZE);
	ASSERT_EQ(-1, d) {
		TH_LOG("%s: byte %ld: 0x%02x, sent 0x%02x",
		       self->vd.dev.pci.bdf, d, self->dst[d], self->src[d]);
	}
	/* Exactly 4 KiB moved: the rest of dst is untouched. */
	ASSERT_EQ(-1, pattern_diff(self->copy + EDU_BUF_SIZE,
				 self->dst + EDU_BUF_SIZE,
				 BUF_LEN - EDU_BUF_SIZE));
}

/*
 * Unaligned transfers that cross IOVA page boundaries: each page (the
 * host's, the IOMMU's granule) of an IOVA range is translated on its own
 * (the buffers are not physically contiguous), and offsets and counts are
 * honoured exactly.
 */
TEST_F(edu, dma_unaligned_cross_page)
{
	struct edu *edu = &self->vd.edu;
	const __u32 len = 300, dev_off = 0x321;
	const __u64 s = PAGE - 100, t = 2 * PAGE - 123;

	memcpy(self->copy, self->dst, BUF_LEN);
	ASSERT_EQ(0, edu_to_dev(edu, IOVA_SRC + s, dev_off, len));
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_DST + t, dev_off, len));
	/* What the copy should look like now. */
	memcpy(self->copy + t, self->src + s, len);
	ASSERT_EQ(-1, pattern_diff(self->copy, self->dst, BUF_LEN));
}

/* A DMA write to an IOVA that is not mapped lands nowhere we can see. */
TEST_F(edu, unmapped_write_blocked)
{
	struct edu *edu = &self->vd.edu;

	ASSERT_EQ(0, edu_to_dev(edu, IOVA_SRC, 0, EDU_BUF_SIZE));
	memcpy(self->copy, self->dst, BUF_LEN);
	/* Right past the end of the dst mapping, and at IOVA 0. */
	dma_may_fault(_metadata, edu, IOVA_HOLE, 0, EDU_BUF_SIZE, true);
	dma_may_fault(_metadata, edu, 0, 0, EDU_BUF_SIZE, true);
	ASSERT_EQ(-1, pattern_diff(self->copy, self->dst, BUF_LEN));
	/* The fault did not wedge the device or the SMMU. */
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_DST, 0, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(self->src, self->dst, EDU_BUF_SIZE));
}

/*
 * A DMA read from an IOVA that is not mapped brings in none of our data:
 * not the buffers mapped around the hole (src, dst). What the device gets
 * instead is QEMU's choice (logged): its old content, or zeros.
 */
TEST_F(edu, unmapped_read_blocked)
{
	struct edu *edu = &self->vd.edu;
	__u8 *q = pattern_alloc(PAGE), *zero = pattern_alloc(EDU_BUF_SIZE);

	ASSERT_NE(NULL, q);
	ASSERT_NE(NULL, zero);
	/* Load the device with q, which is then mapped no more. */
	pattern_fill(q, PAGE, seed_of(_metadata, self->vd.smmu, 8));
	ASSERT_EQ(0, vmm_ioas_map(self->iommufd, self->ioas_id, q, PAGE,
				  IOVA_LATE, IOMMU_IOAS_MAP_READABLE));
	ASSERT_EQ(0, edu_to_dev(edu, IOVA_LATE, 0, EDU_BUF_SIZE));
	ASSERT_EQ(0, vmm_ioas_unmap(self->iommufd, self->ioas_id, IOVA_LATE,
				    PAGE, NULL));
	/* Read 4 KiB from the hole after dst, then from IOVA 0. */
	dma_may_fault(_metadata, edu, IOVA_HOLE, 0, EDU_BUF_SIZE, false);
	dma_may_fault(_metadata, edu, 0, 0, EDU_BUF_SIZE, false);
	/* What does the device hold now? */
	memcpy(self->copy, self->dst, BUF_LEN);
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_DST, 0, EDU_BUF_SIZE));
	if (pattern_diff(self->dst, zero, EDU_BUF_SIZE) == -1)
		TH_LOG("faulting read filled the device buffer with zeros");
	else if (pattern_diff(self->dst, q, EDU_BUF_SIZE) == -1)
		TH_LOG("faulting read left the device buffer as it was");
	else
		TH_LOG("faulting read left other data in the device buffer");
	ASSERT_NE(-1, pattern_diff(self->dst, self->copy, EDU_BUF_SIZE));
	ASSERT_NE(-1, pattern_diff(self->dst, self->src, EDU_BUF_SIZE));
}

/* The IOMMU enforces the mapping's permissions: no DMA write to R/O. */
TEST_F(edu, read_only_mapping)
{
	struct edu *edu = &self->vd.edu;
	__u8 *ro = pattern_alloc(PAGE);

	ASSERT_NE(NULL, ro);
	/* Reading it works... */
	map_readable(_metadata, self, ro, IOVA_RO, 3);
	/* ...writing it does not. */
	memcpy(self->copy, ro, PAGE);
	ASSERT_EQ(0, edu_to_dev(edu, IOVA_SRC, 0, EDU_BUF_SIZE));
	dma_may_fault(_metadata, edu, IOVA_RO, 0, EDU_BUF_SIZE, true);
	ASSERT_EQ(-1, pattern_diff(self->copy, ro, PAGE));
}

/*
 * Unmap invalidates the IOTLB: after map, DMA (which fills the SMMU's
 * TLB), unmap, remap of the same IOVA to another buffer, the device's
 * next DMA lands in the new buffer only; after a plain unmap it lands
 * nowhere. The old buffer stays allocated, so a stale TLB entry would
 * show as data in it.
 */
TEST_F(edu, unmap_invalidates)
{
	struct edu *edu = &self->vd.edu;
	__u8 *a = pattern_alloc(PAGE), *b = pattern_alloc(PAGE);
	__u8 *a0 = pattern_alloc(PAGE), *b0 = pattern_alloc(PAGE);
	__u64 unmapped = 0;
	int smmu = self->vd.smmu;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_NE(NULL, a0);
	ASSERT_NE(NULL, b0);
	pattern_fill(a, PAGE, seed_of(_metadata, smmu, 4));
	pattern_fill(b, PAGE, seed_of(_metadata, smmu, 5));

	/* 1. X -> a: the device reads a, then writes src's data into a. */
	ASSERT_EQ(0, vmm_ioas_map(self->iommufd, self->ioas_id, a, PAGE,
				  IOVA_X, RW));
	ASSERT_EQ(0, edu_to_dev(edu, IOVA_X, 0, EDU_BUF_SIZE));
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_DST, 0, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(a, self->dst, EDU_BUF_SIZE));
	ASSERT_EQ(0, edu_to_dev(edu, IOVA_SRC, 0, EDU_BUF_SIZE));
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_X, 0, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(self->src, a, EDU_BUF_SIZE));

	/* 2. Unmap X, map b at X: reads see b, writes land in b only. */
	ASSERT_EQ(0, vmm_ioas_unmap(self->iommufd, self->ioas_id, IOVA_X, PAGE,
				    &unmapped));
	ASSERT_EQ(PAGE, unmapped);
	ASSERT_EQ(0, vmm_ioas_map(self->iommufd, self->ioas_id, b, PAGE,
				  IOVA_X, RW));
	ASSERT_EQ(0, edu_to_dev(edu, IOVA_X, 0, EDU_BUF_SIZE));
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_DST, 0, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(b, self->dst, EDU_BUF_SIZE)) {
		if (pattern_diff(a, self->dst, EDU_BUF_SIZE) == -1)
			TH_LOG("read the old buffer: stale IOTLB entry");
	}
	memcpy(a0, a, PAGE);
	pattern_fill(self->copy, PAGE, seed_of(_metadata, smmu, 6));
	ASSERT_EQ(0, vmm_ioas_map(self->iommufd, self->ioas_id, self->copy,
				  PAGE, IOVA_LATE, IOMMU_IOAS_MAP_READABLE));
	ASSERT_EQ(0, edu_to_dev(edu, IOVA_LATE, 0, EDU_BUF_SIZE));
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_X, 0, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(self->copy, b, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(a0, a, PAGE)) {
		TH_LOG("wrote the old buffer: stale IOTLB entry");
	}

	/* 3. Unmap X for good: a write to X lands in neither buffer. */
	ASSERT_EQ(0, vmm_ioas_unmap(self->iommufd, self->ioas_id, IOVA_X, PAGE,
				    &unmapped));
	ASSERT_EQ(PAGE, unmapped);
	memcpy(b0, b, PAGE);
	ASSERT_EQ(0, edu_to_dev(edu, IOVA_SRC + PAGE, 0, EDU_BUF_SIZE));
	dma_may_fault(_metadata, edu, IOVA_X, 0, EDU_BUF_SIZE, true);
	ASSERT_EQ(-1, pattern_diff(a0, a, PAGE));
	ASSERT_EQ(-1, pattern_diff(b0, b, PAGE));
}

/* A detached device is blocked; attaching again restores DMA. */
TEST_F(edu, detach_blocks_dma)
{
	struct edu *edu = &self->vd.edu;
	__u32 hwpt;

	ASSERT_EQ(0, edu_to_dev(edu, IOVA_SRC, 0, EDU_BUF_SIZE));
	ASSERT_EQ(0, vmm_dev_detach(&self->vd.dev));
	memcpy(self->copy, self->dst, BUF_LEN);
	dma_may_fault(_metadata, edu, IOVA_DST, 0, EDU_BUF_SIZE, true);
	ASSERT_EQ(-1, pattern_diff(self->copy, self->dst, BUF_LEN));

	ASSERT_EQ(0, vmm_dev_attach(&self->vd.dev, self->ioas_id, &hwpt));
	ASSERT_NE(0u, hwpt);
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_DST, 0, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(self->src, self->dst, EDU_BUF_SIZE));
}

/* Bus master off: the device cannot DMA even though it is attached. */
TEST_F(edu, bus_master_gates_dma)
{
	struct edu *edu = &self->vd.edu;
	__u16 cmd;

	ASSERT_EQ(0, edu_to_dev(edu, IOVA_SRC, 0, EDU_BUF_SIZE));
	ASSERT_EQ(0, vmm_dev_set_command(&self->vd.dev, 0,
					 PCI_COMMAND_MASTER));
	ASSERT_EQ(0, vmm_dev_cfg_read16(&self->vd.dev, PCI_COMMAND, &cmd));
	ASSERT_EQ(0, cmd & PCI_COMMAND_MASTER);
	memcpy(self->copy, self->dst, BUF_LEN);
	dma_may_fault(_metadata, edu, IOVA_DST, 0, EDU_BUF_SIZE, true);
	ASSERT_EQ(-1, pattern_diff(self->copy, self->dst, BUF_LEN));

	ASSERT_EQ(0, vmm_dev_set_command(&self->vd.dev, PCI_COMMAND_MASTER,
					 0));
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_DST, 0, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(self->src, self->dst, EDU_BUF_SIZE));
}

/*
 * The explicit form of what nesting will use: allocate a paging HWPT from
 * the IOAS and attach the device to the HWPT by id. Mappings added to the
 * IOAS afterwards reach the HWPT too.
 */
TEST_F(edu, explicit_hwpt)
{
	struct edu *edu = &self->vd.edu;
	__u32 hwpt, got, auto_hwpt;
	__u8 *late = pattern_alloc(PAGE);

	ASSERT_NE(NULL, late);
	ASSERT_EQ(0, vmm_hwpt_alloc(self->iommufd, self->vd.dev.dev_id,
				    self->ioas_id, 0, IOMMU_HWPT_DATA_NONE,
				    NULL, 0, &hwpt));
	ASSERT_NE(0u, hwpt);
	ASSERT_NE(self->ioas_id, hwpt);
	ASSERT_NE(self->hwpt_id, hwpt);
	/* Replace the automatic HWPT with ours: no detach in between. */
	ASSERT_EQ(0, vmm_dev_attach(&self->vd.dev, hwpt, &got));
	ASSERT_EQ(hwpt, got);

	map_readable(_metadata, self, late, IOVA_LATE, 7);

	/* In use: neither the HWPT nor the IOAS under it can go. */
	ASSERT_EQ(-EBUSY, vmm_destroy(self->iommufd, hwpt));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(-EBUSY, vmm_destroy(self->iommufd, self->ioas_id));
	/* Back to the IOAS: a fresh automatic HWPT, then ours can go. */
	ASSERT_EQ(0, vmm_dev_attach(&self->vd.dev, self->ioas_id,
				    &auto_hwpt));
	ASSERT_NE(hwpt, auto_hwpt);
	ASSERT_EQ(0, vmm_destroy(self->iommufd, hwpt));
	ASSERT_EQ(-ENOENT, vmm_destroy(self->iommufd, hwpt));
	ASSERT_EQ(0, edu_to_ram(edu, IOVA_DST + PAGE, 0, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(late, self->dst + PAGE, EDU_BUF_SIZE));
}

/* What the IOAS accepts once the device is attached. */
TEST_F(edu, iova_ranges)
{
	struct iommu_iova_range r[16];
	__u64 align = 0;
	int n, i, msi_free = 1, src_ok = 0;
	__u8 *p = self->copy;

	n = vmm_ioas_ranges(self->iommufd, self->ioas_id, r, 16, &align);
	ASSERT_LE(1, n);
	ASSERT_GE(16, n);
	/* The SMMU maps host-sized pages: IOVAs are page aligned now. */
	ASSERT_EQ(PAGE, align);
	for (i = 0; i < n; i++) {
		TH_LOG("allowed IOVA 0x%llx-0x%llx", r[i].start, r[i].last);
		if (r[i].start <= MSI_IOVA + MSI_IOVA_LEN - 1 &&
		    r[i].last >= MSI_IOVA)
			msi_free = 0;
		if (r[i].start <= IOVA_SRC && r[i].last >= IOVA_LATE + PAGE)
			src_ok = 1;
	}
	/* The MSI window is reserved, the IOVAs of these tests are not. */
	ASSERT_EQ(1, msi_free);
	ASSERT_EQ(1, src_ok);
	ASSERT_EQ(-EINVAL, vmm_ioas_map(self->iommufd, self->ioas_id, p, PAGE,
					MSI_IOVA, RW));
	ASSERT_EQ(EINVAL, errno);
}

/* IOMMU_GET_HW_INFO answers for a bound device and only for one. */
TEST_F(edu, hw_info)
{
	__u8 data[256];
	__u32 len = sizeof(data), type = ~0u;
	__u64 caps = ~0ull;

	memset(data, 0xa5, sizeof(data));
	ASSERT_EQ(0, vmm_hw_info(self->iommufd, self->vd.dev.dev_id, data,
				 &len, &type, &caps));
	TH_LOG("hw_info type %u, %u bytes, caps 0x%llx", type, len, caps);
	ASSERT_NE(~0u, type);
	/*
	 * No driver data means no bytes; some data means a real type. (An
	 * ASSERT_* is two statements: the braces are needed.)
	 */
	if (type == IOMMU_HW_INFO_TYPE_NONE) {
		ASSERT_EQ(0u, len);
	} else {
		ASSERT_LT(0u, len);
	}
	ASSERT_GE(sizeof(data), len);
	/* An id that is not a device: ENOENT. */
	len = sizeof(data);
	ASSERT_EQ(-ENOENT, vmm_hw_info(self->iommufd, self->ioas_id, data,
				       &len, NULL, NULL));
	ASSERT_EQ(-ENOENT, vmm_hw_info(self->iommufd, 0xfffff, data, &len,
				       NULL, NULL));
}

/* ---- uAPI errors a VMM author meets --------------------------------- */

FIXTURE(uapi) {
	int iommufd;
	__u32 ioas_id;
	struct vmm_pci pci;
	struct vmm_dev dev;
	__u8 *buf;
};

FIXTURE_VARIANT(uapi) {
	int smmu;
};

FIXTURE_VARIANT_ADD(uapi, smmu0) {
	.smmu = 0,
};

FIXTURE_VARIANT_ADD(uapi, smmu1) {
	.smmu = 1,
};

FIXTURE_SETUP(uapi)
{
	struct vmm_pci pci[EDUTEST_MAX];

	ASSERT_EQ(2, edutest_find(pci));
	self->pci = pci[variant->smmu];
	self->dev.fd = -1;
	self->iommufd = vmm_iommufd_open();
	ASSERT_LE(0, self->iommufd);
	ASSERT_EQ(0, vmm_ioas_alloc(self->iommufd, &self->ioas_id));
	self->buf = pattern_alloc(2 * PAGE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(uapi)
{
	vmm_dev_close(&self->dev);
	if (self->iommufd >= 0)
		close(self->iommufd);
}

/* Nothing but BIND works on a cdev that is not bound yet: EINVAL. */
TEST_F(uapi, attach_before_bind)
{
	struct vfio_region_info info;

	ASSERT_EQ(0, vmm_dev_open(&self->dev, &self->pci));
	ASSERT_EQ(-EINVAL, vmm_dev_attach(&self->dev, self->ioas_id, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-EINVAL, vmm_dev_detach(&self->dev));
	ASSERT_EQ(-EINVAL, vmm_dev_region_info(&self->dev,
					       VFIO_PCI_BAR0_REGION_INDEX,
					       &info));
	/* After the bind, the same calls work. */
	ASSERT_EQ(0, vmm_dev_bind(&self->dev, self->iommufd));
	ASSERT_NE(0u, self->dev.dev_id);
	ASSERT_EQ(0, vmm_dev_region_info(&self->dev,
					 VFIO_PCI_BAR0_REGION_INDEX, &info));
	ASSERT_EQ(0, vmm_dev_attach(&self->dev, self->ioas_id, NULL));
	ASSERT_EQ(0, vmm_dev_detach(&self->dev));
	/* Detaching a detached device is not an error. */
	ASSERT_EQ(0, vmm_dev_detach(&self->dev));
}

TEST_F(uapi, bind_errors)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.flags = 1,
		.iommufd = self->iommufd,
	};
	struct vmm_dev second;
	int null_fd, other;
	__u32 first_id;

	ASSERT_EQ(0, vmm_dev_open(&self->dev, &self->pci));
	/* Unknown flags: EINVAL (VFIO's convention, not EOPNOTSUPP). */
	ASSERT_EQ(-1, ioctl(self->dev.fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	ASSERT_EQ(EINVAL, errno);
	/* A file that is not /dev/iommu: EBADFD; no file at all: EBADF. */
	null_fd = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null_fd);
	ASSERT_EQ(-EBADFD, vmm_dev_bind(&self->dev, null_fd));
	close(null_fd);
	ASSERT_EQ(-EBADF, vmm_dev_bind(&self->dev, 1000));
	ASSERT_EQ(-EINVAL, vmm_dev_bind(&self->dev, -1));
	ASSERT_FALSE(self->dev.bound);

	ASSERT_EQ(0, vmm_dev_bind(&self->dev, self->iommufd));
	first_id = self->dev.dev_id;
	ASSERT_NE(0u, first_id);
	/* Bound once: a second bind, even to another iommufd, is EINVAL. */
	ASSERT_EQ(-EINVAL, vmm_dev_bind(&self->dev, self->iommufd));
	other = vmm_iommufd_open();
	ASSERT_LE(0, other);
	ASSERT_EQ(-EINVAL, vmm_dev_bind(&self->dev, other));
	/* A second open of the cdev succeeds, its bind does not. */
	ASSERT_EQ(0, vmm_dev_open(&second, &self->pci));
	ASSERT_EQ(-EINVAL, vmm_dev_bind(&second, other));
	vmm_dev_close(&second);
	/* Closing the cdev unbinds: the device can be bound again. */
	vmm_dev_close(&self->dev);
	ASSERT_EQ(0, vmm_dev_open(&self->dev, &self->pci));
	ASSERT_EQ(0, vmm_dev_bind(&self->dev, other));
	ASSERT_NE(0u, self->dev.dev_id);
	vmm_dev_close(&self->dev);
	close(other);
}

TEST_F(uapi, attach_errors)
{
	ASSERT_EQ(0, vmm_dev_open(&self->dev, &self->pci));
	ASSERT_EQ(0, vmm_dev_bind(&self->dev, self->iommufd));
	/* No such object: ENOENT. */
	ASSERT_EQ(-ENOENT, vmm_dev_attach(&self->dev, 0, NULL));
	ASSERT_EQ(-ENOENT, vmm_dev_attach(&self->dev, 0xfffff, NULL));
	/* An object that is not a page table (the device itself): EINVAL. */
	ASSERT_EQ(-EINVAL, vmm_dev_attach(&self->dev, self->dev.dev_id,
					  NULL));
	ASSERT_EQ(0u, self->dev.pt_id);
}

TEST_F(uapi, map_unmap_errors)
{
	int fd = self->iommufd;
	__u32 ioas = self->ioas_id;
	__u8 *p = self->buf;
	__u64 unmapped;

	ASSERT_EQ(0, vmm_dev_open(&self->dev, &self->pci));
	ASSERT_EQ(0, vmm_dev_bind(&self->dev, fd));
	ASSERT_EQ(0, vmm_dev_attach(&self->dev, ioas, NULL));

	/*
	 * Misaligned IOVA, length or buffer (once an SMMU is attached):
	 * EINVAL. Half a page off: on a 64 KiB-page host that is 4 KiB
	 * aligned, which is not enough.
	 */
	ASSERT_EQ(-EINVAL, vmm_ioas_map(fd, ioas, p, PAGE, IOVA_SRC + PAGE / 2,
					RW));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-EINVAL, vmm_ioas_map(fd, ioas, p, PAGE + 1, IOVA_SRC, RW));
	ASSERT_EQ(-EINVAL, vmm_ioas_map(fd, ioas, p + PAGE / 2, PAGE, IOVA_SRC,
					RW));
	/* Neither readable nor writeable: EINVAL; unknown flag: EOPNOTSUPP. */
	ASSERT_EQ(-EINVAL, vmm_ioas_map(fd, ioas, p, PAGE, IOVA_SRC, 0));
	ASSERT_EQ(-EOPNOTSUPP, vmm_ioas_map(fd, ioas, p, PAGE, IOVA_SRC,
					    RW | 1u << 7));
	/* No such IOAS: ENOENT. */
	ASSERT_EQ(-ENOENT, vmm_ioas_map(fd, 0xfffff, p, PAGE, IOVA_SRC, RW));
	/* Memory that is not there: EFAULT. */
	ASSERT_EQ(-EFAULT, vmm_ioas_map(fd, ioas, NULL, PAGE, IOVA_SRC, RW));

	/* A fixed IOVA that is in use: EEXIST. */
	ASSERT_EQ(0, vmm_ioas_map(fd, ioas, p, 2 * PAGE, IOVA_SRC, RW));
	ASSERT_EQ(-EEXIST, vmm_ioas_map(fd, ioas, p, PAGE, IOVA_SRC + PAGE,
					RW));
	/* Unmap cannot split a mapping, or unmap nothing: ENOENT. */
	ASSERT_EQ(-ENOENT, vmm_ioas_unmap(fd, ioas, IOVA_SRC, PAGE, NULL));
	ASSERT_EQ(-ENOENT, vmm_ioas_unmap(fd, ioas, IOVA_DST, PAGE, NULL));
	ASSERT_EQ(-EINVAL, vmm_ioas_unmap(fd, ioas, IOVA_SRC, 0, NULL));
	/* A superset of whole mappings is fine. */
	ASSERT_EQ(0, vmm_ioas_unmap(fd, ioas, IOVA_SRC - PAGE, 4 * PAGE,
				    &unmapped));
	ASSERT_EQ(2 * PAGE, unmapped);
}

/*
 * The alignment rule bites at attach too: an IOAS with no device accepts
 * a byte-aligned mapping, and then a device whose IOMMU maps pages cannot
 * attach to it (EADDRINUSE) until that mapping is gone.
 */
TEST_F(uapi, misaligned_mapping_blocks_attach)
{
	int fd = self->iommufd;
	__u32 ioas = self->ioas_id;
	__u64 align = 0;

	ASSERT_LE(1, vmm_ioas_ranges(fd, ioas, NULL, 0, &align));
	ASSERT_EQ(1ull, align);
	ASSERT_EQ(0, vmm_ioas_map(fd, ioas, self->buf + PAGE / 2, PAGE,
				  IOVA_SRC + PAGE / 2, RW));
	ASSERT_EQ(0, vmm_dev_open(&self->dev, &self->pci));
	ASSERT_EQ(0, vmm_dev_bind(&self->dev, fd));
	ASSERT_EQ(-EADDRINUSE, vmm_dev_attach(&self->dev, ioas, NULL));
	ASSERT_EQ(0, vmm_ioas_unmap(fd, ioas, IOVA_SRC + PAGE / 2, PAGE,
				    NULL));
	ASSERT_EQ(0, vmm_dev_attach(&self->dev, ioas, NULL));
	ASSERT_LE(1, vmm_ioas_ranges(fd, ioas, NULL, 0, &align));
	ASSERT_EQ(PAGE, align);
}

/* Objects in use cannot be destroyed; detaching frees the auto HWPT. */
TEST_F(uapi, destroy_busy)
{
	int fd = self->iommufd;
	__u32 hwpt;

	ASSERT_EQ(0, vmm_dev_open(&self->dev, &self->pci));
	ASSERT_EQ(0, vmm_dev_bind(&self->dev, fd));
	ASSERT_EQ(0, vmm_dev_attach(&self->dev, self->ioas_id, &hwpt));
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, self->ioas_id));
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, hwpt));
	/* The driver holds the device object: only closing the cdev ends it. */
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, self->dev.dev_id));
	ASSERT_EQ(0, vmm_dev_detach(&self->dev));
	ASSERT_EQ(-ENOENT, vmm_destroy(fd, hwpt));
	ASSERT_EQ(0, vmm_destroy(fd, self->ioas_id));
	ASSERT_EQ(-ENOENT, vmm_destroy(fd, self->ioas_id));
}

/* ---- both devices ----------------------------------------------------- */

/*
 * The platform this test was written for: two SMMUs, and the first edu
 * behind each at a fixed address.
 */
TEST(topology)
{
	struct vmm_pci pci[EDUTEST_MAX];
	int i;

	ASSERT_EQ(2, edutest_find(pci));
	for (i = 0; i < 2; i++) {
		TH_LOG("edu %s behind %s, %s", pci[i].bdf, pci[i].iommu,
		       pci[i].cdev);
		ASSERT_EQ(0, strncmp(pci[i].iommu, "smmu3.", 6));
		ASSERT_EQ(0, strncmp(pci[i].cdev, "/dev/vfio/devices/vfio",
				     22));
		ASSERT_EQ(0, access(pci[i].cdev, R_OK | W_OK));
	}
	ASSERT_NE(0, strcmp(pci[0].iommu, pci[1].iommu));
	ASSERT_STREQ("0000:00:01.0", pci[0].bdf);
	ASSERT_STREQ("0000:09:00.0", pci[1].bdf);
}

/*
 * Two VMs' worth of isolation: each device in its own iommufd, both using
 * the same IOVAs for different buffers, both transfers in flight at once.
 * Each device's data lands in its own buffers, and a device cannot reach
 * an IOVA that only the other context maps.
 */
TEST(two_contexts_concurrent)
{
	struct vm_dev vd[2] = {};
	struct edu *edu[2] = { &vd[0].edu, &vd[1].edu };
	__u8 *src[2], *dst[2], *only0, *copy;
	int fd[2], i;
	__u32 ioas[2], hwpt[2];

	only0 = pattern_alloc(PAGE);
	copy = pattern_alloc(PAGE);
	ASSERT_NE(NULL, only0);
	ASSERT_NE(NULL, copy);
	for (i = 0; i < 2; i++) {
		fd[i] = vmm_iommufd_open();
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, vmm_ioas_alloc(fd[i], &ioas[i]));
		vm_dev_setup(_metadata, &vd[i], i, fd[i], ioas[i], &hwpt[i]);
		src[i] = pattern_alloc(PAGE);
		dst[i] = pattern_alloc(PAGE);
		ASSERT_NE(NULL, src[i]);
		ASSERT_NE(NULL, dst[i]);
		pattern_fill(src[i], PAGE, seed_of(_metadata, i, 10));
		pattern_fill(dst[i], PAGE, seed_of(_metadata, i, 11));
		ASSERT_EQ(0, vmm_ioas_map(fd[i], ioas[i], src[i], PAGE,
					  IOVA_SRC, IOMMU_IOAS_MAP_READABLE));
		ASSERT_EQ(0, vmm_ioas_map(fd[i], ioas[i], dst[i], PAGE,
					  IOVA_DST, RW));
	}
	ASSERT_NE(-1, pattern_diff(src[0], src[1], EDU_BUF_SIZE));

	dma_copy_both(_metadata, edu,
		      (const __u64[]){ IOVA_SRC, IOVA_SRC },
		      (const __u64[]){ IOVA_DST, IOVA_DST }, EDU_BUF_SIZE);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(-1, pattern_diff(src[i], dst[i], EDU_BUF_SIZE)) {
			TH_LOG("device %s", vd[i].dev.pci.bdf);
		}

	/* IOVA_X exists in context 0 only: device 1 cannot write it. */
	pattern_fill(only0, PAGE, seed_of(_metadata, 0, 12));
	memcpy(copy, only0, PAGE);
	ASSERT_EQ(0, vmm_ioas_map(fd[0], ioas[0], only0, PAGE, IOVA_X, RW));
	dma_may_fault(_metadata, &vd[1].edu, IOVA_X, 0, EDU_BUF_SIZE, true);
	ASSERT_EQ(-1, pattern_diff(copy, only0, PAGE));
	/* ...while device 0 can. */
	ASSERT_EQ(0, edu_to_ram(&vd[0].edu, IOVA_X, 0, EDU_BUF_SIZE));
	ASSERT_EQ(-1, pattern_diff(src[0], only0, EDU_BUF_SIZE));

	for (i = 0; i < 2; i++) {
		vm_dev_teardown(&vd[i]);
		close(fd[i]);
	}
}

/*
 * One VM, one guest address space, devices behind two SMMUs: both attach
 * to the same IOAS, each through a HWPT of its own SMMU (a page table
 * cannot be shared across IOMMU instances). A map reaches both; an unmap
 * takes the IOVA away from both.
 */
TEST(shared_ioas_two_smmus)
{
	struct vm_dev vd[2] = {};
	struct edu *edu[2] = { &vd[0].edu, &vd[1].edu };
	__u8 *src, *dst[2], *copy;
	__u32 ioas, hwpt[2];
	int fd, i;

	fd = vmm_iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmm_ioas_alloc(fd, &ioas));
	for (i = 0; i < 2; i++)
		vm_dev_setup(_metadata, &vd[i], i, fd, ioas, &hwpt[i]);
	ASSERT_NE(hwpt[0], hwpt[1]);
	ASSERT_NE(vd[0].dev.dev_id, vd[1].dev.dev_id);

	src = pattern_alloc(PAGE);
	copy = pattern_alloc(PAGE);
	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, copy);
	pattern_fill(src, PAGE, seed_of(_metadata, 0, 20));
	/* Mapped after both attached: reaches both HWPTs. */
	ASSERT_EQ(0, vmm_ioas_map(fd, ioas, src, PAGE, IOVA_SRC,
				  IOMMU_IOAS_MAP_READABLE));
	for (i = 0; i < 2; i++) {
		dst[i] = pattern_alloc(PAGE);
		ASSERT_NE(NULL, dst[i]);
		pattern_fill(dst[i], PAGE, seed_of(_metadata, i, 21));
		ASSERT_EQ(0, vmm_ioas_map(fd, ioas, dst[i], PAGE,
					  IOVA_DST + i * PAGE, RW));
	}
	dma_copy_both(_metadata, edu,
		      (const __u64[]){ IOVA_SRC, IOVA_SRC },
		      (const __u64[]){ IOVA_DST, IOVA_DST + PAGE },
		      EDU_BUF_SIZE);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(-1, pattern_diff(src, dst[i], EDU_BUF_SIZE));

	/* Unmap dst 0: device 0 and device 1 both lose it. */
	ASSERT_EQ(0, vmm_ioas_unmap(fd, ioas, IOVA_DST, PAGE, NULL));
	pattern_fill(dst[0], PAGE, seed_of(_metadata, 0, 22));
	memcpy(copy, dst[0], PAGE);
	for (i = 0; i < 2; i++)
		dma_may_fault(_metadata, &vd[i].edu, IOVA_DST, 0,
			      EDU_BUF_SIZE, true);
	ASSERT_EQ(-1, pattern_diff(copy, dst[0], PAGE));

	for (i = 0; i < 2; i++)
		vm_dev_teardown(&vd[i]);
	close(fd);
}

TEST_HARNESS_MAIN
