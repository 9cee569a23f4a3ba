// SPDX-License-Identifier: GPL-2.0
/* testdev.c: the devices of the vIOMMU uAPI tests (see testdev.h). */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/iommufd.h>

#include "iommufd_test.h"
#include "edu.h"
#include "testdev.h"

int testdev_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

int mock_dev_add(int iommufd, __u32 ioas_id, int iommu, __u32 *dev_id,
		 __u32 *stdev_id, testdev_ioctl_t ioc)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = ioas_id,
		.mock_domain_flags.dev_flags =
			iommu ? MOCK_FLAGS_DEVICE_IOMMU2 : 0,
	};
	int ret = (ioc ? ioc : testdev_ioctl)(iommufd, IOMMU_TEST_CMD, &cmd);

	if (ret)
		return ret;
	*dev_id = cmd.mock_domain_flags.out_idev_id;
	if (stdev_id)
		*stdev_id = cmd.mock_domain_flags.out_stdev_id;
	return 0;
}

int mock_dev_replace(int iommufd, __u32 stdev_id, __u32 pt_id,
		     testdev_ioctl_t ioc)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev_id,
		.mock_domain_replace.pt_id = pt_id,
	};

	return (ioc ? ioc : testdev_ioctl)(iommufd, IOMMU_TEST_CMD, &cmd);
}

int edu_find_all(struct vmm_pci *pci, int *iommu, int max)
{
	int n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, max), i;

	for (i = 0; i < n && i < max; i++)
		iommu[i] = !i ? 0 : iommu[i - 1] +
			   !!strcmp(pci[i].iommu, pci[i - 1].iommu);
	return n;
}

int edu_dev_bind(struct vmm_dev *dev, const struct vmm_pci *pci, int iommufd)
{
	int ret = vmm_dev_open(dev, pci);

	if (!ret)
		ret = vmm_dev_bind(dev, iommufd);
	if (ret)
		vmm_dev_close(dev);
	return ret;
}
