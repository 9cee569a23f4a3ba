// SPDX-License-Identifier: GPL-2.0
/*
 * edutest.c: the edus of the dual topology, found the way its tests want
 * them (edutest.h).
 */
#include <errno.h>
#include <string.h>

#include "edu.h"
#include "edutest.h"

int edutest_find(struct vmm_pci *pci)
{
	int n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, EDUTEST_MAX);

	return n < 0 || n > EDUTEST_MAX ? n : vmm_pci_per_iommu(pci, n);
}

int edutest_find_pair(struct vmm_pci *pair)
{
	struct vmm_pci pci[EDUTEST_MAX];
	int n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, EDUTEST_MAX);

	/* Sorted by IOMMU: the first two sit behind SMMU 0. */
	if (n != 3 || strcmp(pci[0].iommu, pci[1].iommu))
		return -ENODEV;
	pair[0] = pci[0];
	pair[1] = pci[1];
	return 0;
}
