/* SPDX-License-Identifier: GPL-2.0 */
/*
 * testdev.h: the devices the vIOMMU uAPI tests (guest/fuzz-viommu,
 * guest/race-viommu.c, guest/regress-viommu.c) bind, in either backend:
 *
 *   mock  devices of the iommufd selftest driver, made and driven through
 *         its test uAPI (IOMMU_TEST_CMD, iommufd_test.h) on the two mock
 *         IOMMU instances;
 *   smmu  the edus behind the emulated SMMUv3s, on vfio-pci, each with the
 *         index of its IOMMU instance.
 *
 * Errors: 0 or a negative errno, like guest/lib/vmm.h.
 */
#ifndef TESTDEV_H
#define TESTDEV_H

#include <linux/types.h>

#include "vmm.h"

/* An ioctl: 0 or -errno. The tests pass their own (fault injection). */
typedef int (*testdev_ioctl_t)(int fd, unsigned long req, void *arg);

/* ioctl(): 0 or -errno. */
int testdev_ioctl(int fd, unsigned long req, void *arg);

/*
 * A mock device on mock IOMMU instance @iommu (0, or 1: the second one,
 * MOCK_FLAGS_DEVICE_IOMMU2), bound to @iommufd and attached to @ioas_id
 * (IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS). *@dev_id gets its device id,
 * *@stdev_id (may be NULL) the selftest object that owns it: destroying
 * that object unbinds the device. @ioc makes the call (NULL:
 * testdev_ioctl).
 */
int mock_dev_add(int iommufd, __u32 ioas_id, int iommu, __u32 *dev_id,
		 __u32 *stdev_id, testdev_ioctl_t ioc);
/*
 * Attach the mock device of selftest object @stdev_id to @pt_id, replacing
 * what it is attached to (IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE).
 */
int mock_dev_replace(int iommufd, __u32 stdev_id, __u32 pt_id,
		     testdev_ioctl_t ioc);

/*
 * The edus (vmm_find_pci(), sorted by IOMMU instance), each with the index
 * of its IOMMU instance in @iommu: 0 for the first instance, 1 for the
 * next one, and so on. Returns how many exist (only @max filled in if
 * more), or a negative errno.
 */
int edu_find_all(struct vmm_pci *pci, int *iommu, int max);
/*
 * Open the VFIO cdev of @pci into @dev and bind it to @iommufd; closed
 * again if that fails. 0 or -errno.
 */
int edu_dev_bind(struct vmm_dev *dev, const struct vmm_pci *pci, int iommufd);

#endif
