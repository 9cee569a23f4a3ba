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
#include "edutest.h"

/*
 * The tests, in the order they register. The kselftest harness keeps its
 * list of tests per translation unit, so the parts are included here,
 * not built on their own: this is the program's only .c file.
 */
#include "setup.h"		/* the guest and the VMM every test sets up */
#include "nested.h"		/* fixture nested: DMA and invalidation */
#include "cross-smmu.h"		/* one VM on both SMMUs */
#include "vevent.h"		/* vEVENTQs, QEMU 11.1's call order */
#include "msi.h"		/* the edu's MSI through both stages */
#include "cmdqv.h"		/* Tegra241 CMDQV: the guest's VCMDQs */

TEST_HARNESS_MAIN

#endif /* VMM_HAVE_VIOMMU */

