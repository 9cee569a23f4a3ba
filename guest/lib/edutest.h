/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edutest.h: the scaffolding the edu tests of the outer guest share
 * (e2e-dma, e2e-nested, isolation), on the dual topology: one edu behind
 * SMMU 0 and one behind SMMU 1, and a second edu behind SMMU 0.
 *
 *	edutest_find()		the first edu behind each SMMU
 *	edutest_find_pair()	the two edus behind SMMU 0
 *
 * With the kselftest harness (include this after kselftest_harness.h),
 * helpers that assert as they go:
 *
 *	seed_of()		the run's pattern seed, logged once
 *	vm_dev_bind()		the edu behind an SMMU, opened and bound
 *	vm_dev_enable()		BAR0, memory decode, bus master: it may DMA
 *	vm_dev_teardown()	the reverse, and the cdev closed
 *	dma_may_fault()		a transfer the IOMMU must stop
 *	dma_copy_both()		two devices copying at once
 */
#ifndef EDUTEST_H
#define EDUTEST_H

#include <errno.h>
#include <string.h>

#include "edu.h"
#include "pattern.h"
#include "vmm.h"

/* More edus than the dual topology has, so a surplus shows. */
#define EDUTEST_MAX	4

/*
 * One edu per SMMU: pci[i] is the first one behind SMMU i (@pci has room
 * for EDUTEST_MAX). Returns the number of SMMUs, or a negative errno.
 */
int edutest_find(struct vmm_pci *pci);
/*
 * The two edus behind SMMU 0 into pair[0] and pair[1]: 0, or -ENODEV
 * unless the topology has three edus, two of them behind the first SMMU.
 */
int edutest_find_pair(struct vmm_pci *pair);

#ifdef __KSELFTEST_HARNESS_H

/* One seed per test process (each test forks), logged for reproduction. */
static __u32 edutest_run_seed;

static inline __u32 seed_of(struct __test_metadata *_metadata, int smmu,
			    __u32 tag)
{
	if (!edutest_run_seed) {
		edutest_run_seed = pattern_run_seed();
		TH_LOG("pattern seed 0x%08x", edutest_run_seed);
	}
	return pattern_seed(edutest_run_seed, smmu, tag);
}

/* An edu as the VMM assigns it: its cdev, BAR0 and DMA engine. */
struct vm_dev {
	struct vmm_dev dev;
	struct vmm_region bar0;
	struct edu edu;
	int smmu;
};

/* Open the cdev of the edu behind SMMU @smmu and bind it to @iommufd. */
static inline void vm_dev_bind(struct __test_metadata *_metadata,
			       struct vm_dev *vd, int smmu, int iommufd)
{
	struct vmm_pci pci[EDUTEST_MAX];

	ASSERT_EQ(2, edutest_find(pci));
	vd->smmu = smmu;
	ASSERT_EQ(0, vmm_dev_open(&vd->dev, &pci[smmu])) {
		TH_LOG("open %s: %s", pci[smmu].cdev, strerror(errno));
	}
	ASSERT_EQ(0, vmm_dev_bind(&vd->dev, iommufd)) {
		TH_LOG("bind %s: %s", pci[smmu].bdf, strerror(errno));
	}
	ASSERT_NE(0u, vd->dev.dev_id);
}

/* BAR0, memory decode and bus master: the device may DMA now. */
static inline void vm_dev_enable(struct __test_metadata *_metadata,
				 struct vm_dev *vd)
{
	ASSERT_EQ(0, edu_enable(&vd->edu, &vd->dev, &vd->bar0)) {
		TH_LOG("enable edu %s: %s", vd->dev.pci.bdf, strerror(errno));
	}
}

static inline void vm_dev_teardown(struct vm_dev *vd)
{
	edu_disable(&vd->edu, &vd->dev, &vd->bar0);
	vmm_dev_close(&vd->dev);
}

/*
 * A transfer of @len bytes at device offset @off towards @iova, which the
 * device may not use. The IOMMU aborts it; how the device reacts is
 * QEMU's business (edu ignores the error and completes), so accept
 * completion or a timeout, never another error.
 */
static inline void dma_may_fault(struct __test_metadata *_metadata,
				 struct edu *edu, __u64 iova, __u32 off,
				 __u32 len, bool to_ram)
{
	int ret = edu_dma(edu, iova, off, len, to_ram, EDU_DMA_TIMEOUT_MS);

	if (ret == -ETIMEDOUT) {
		TH_LOG("faulting DMA did not complete");
		/* Let it finish before anything else uses the engine. */
		edu_dma_wait(edu, EDU_DMA_TIMEOUT_MS);
	} else {
		ASSERT_EQ(0, ret);
	}
}

/*
 * Two devices at once: each reads @len bytes at from[i] into its buffer,
 * both transfers in flight together, then writes them to to[i], again
 * both at once.
 */
static inline void dma_copy_both(struct __test_metadata *_metadata,
				 struct edu *edu[2], const __u64 from[2],
				 const __u64 to[2], __u32 len)
{
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, edu_dma_start(edu[i], from[i], 0, len, false));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, edu_dma_wait(edu[i], EDU_DMA_TIMEOUT_MS));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, edu_dma_start(edu[i], to[i], 0, len, true));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, edu_dma_wait(edu[i], EDU_DMA_TIMEOUT_MS));
}

#endif /* __KSELFTEST_HARNESS_H */
#endif
