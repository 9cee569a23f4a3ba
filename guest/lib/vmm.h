/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmm.h: a minimal reference VMM layer over VFIO cdev + iommufd.
 *
 * The sequence a VMM follows to give a device to its guest is:
 *
 *	vmm_find_pci()			which devices, behind which IOMMU
 *	vmm_iommufd_open()		one /dev/iommu per VM (an "iommufd")
 *	vmm_dev_open()			/dev/vfio/devices/vfioN of the device
 *	vmm_dev_bind()			VFIO_DEVICE_BIND_IOMMUFD: a dev_id
 *	vmm_ioas_alloc()		an IO address space: the guest's IPA
 *	vmm_ioas_map()			guest RAM at its IPA (fixed IOVA)
 *	vmm_dev_attach()		the device now translates through it
 *	vmm_dev_map_region()		BAR0 in the VMM's address space
 *	vmm_dev_set_command()		bus master on: the device may DMA
 *
 * Until vmm_dev_attach() the device is blocked: binding to iommufd puts
 * it in a DMA-blocking state, and so does vmm_dev_detach().
 *
 * Nested translation (see shared/design/uapi.md and the vmm_viommu_*()
 * calls below) changes only what the device is attached to: the IOAS stays
 * the guest's IPA space, vmm_hwpt_alloc() makes a nesting-parent HWPT
 * (stage 2) from it, a vIOMMU is allocated on that parent, a nested HWPT
 * (the guest's stage 1) on the vIOMMU, and vmm_dev_attach() takes that
 * HWPT's id instead of the IOAS id.
 *
 * Errors: every function that can fail returns 0 (or a count) on success
 * and a negative errno on failure, and then leaves errno set to that same
 * (positive) value, so callers may use either style. Nothing in the
 * library exits or prints.
 */
#ifndef VMM_H
#define VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

/* A PCI function as sysfs describes it. */
struct vmm_pci {
	char bdf[16];		/* "0000:00:01.0" */
	char iommu[64];		/* IOMMU instance: /sys/class/iommu/NAME */
	char cdev[64];		/* "/dev/vfio/devices/vfio1", "" if none */
};

/* A device the VMM has opened through its VFIO cdev. */
struct vmm_dev {
	struct vmm_pci pci;
	int fd;			/* the cdev; -1 when closed */
	__u32 dev_id;		/* iommufd's id of the device once bound */
	__u32 pt_id;		/* what it is attached to, 0 if nothing */
	bool bound;
};

/* A device region mapped into the VMM (for BARs). */
struct vmm_region {
	void *va;
	size_t size;
	__u64 offset;		/* region offset in the cdev's file */
	__u32 flags;		/* VFIO_REGION_INFO_FLAG_* */
};

/*
 * Devices with PCI IDs @vendor:@device, sorted by IOMMU instance name then
 * BDF, so that on the dual topology out[0] sits behind SMMU 0 and out[1]
 * behind SMMU 1. Returns how many exist; if that is more than @max, only
 * @max (unsorted among all) were filled in: call again with more room.
 */
int vmm_find_pci(__u16 vendor, __u16 device, struct vmm_pci *out, int max);
/*
 * Of the @n devices vmm_find_pci() sorted into @pci, keep the first one
 * behind each IOMMU instance, in order, so that pci[i] is a device of the
 * i-th IOMMU (the dual topology has a second edu behind SMMU 0). Returns
 * the number of IOMMU instances.
 */
int vmm_pci_per_iommu(struct vmm_pci *pci, int n);

/* Write @val to the sysfs, debugfs or procfs file @path: 0 or -errno. */
int vmm_write_file(const char *path, const char *val);

/* /dev/iommu: returns the iommufd, or a negative errno. */
int vmm_iommufd_open(void);

/* iommufd objects. */
int vmm_ioas_alloc(int iommufd, __u32 *ioas_id);
int vmm_destroy(int iommufd, __u32 id);
/*
 * Map @len bytes of user memory at @va to exactly @iova (FIXED_IOVA) with
 * @prot = IOMMU_IOAS_MAP_READABLE and/or IOMMU_IOAS_MAP_WRITEABLE.
 */
int vmm_ioas_map(int iommufd, __u32 ioas_id, void *va, __u64 len, __u64 iova,
		 __u32 prot);
/* Unmap [@iova, @iova + @len); *@unmapped (may be NULL) gets the bytes. */
int vmm_ioas_unmap(int iommufd, __u32 ioas_id, __u64 iova, __u64 len,
		   __u64 *unmapped);
/*
 * The IOVA ranges the IOAS accepts now (they shrink as devices attach:
 * reserved regions such as the MSI window are cut out) and the alignment a
 * map must have. @ranges may hold @max entries; returns the total count.
 */
int vmm_ioas_ranges(int iommufd, __u32 ioas_id, struct iommu_iova_range *ranges,
		    int max, __u64 *alignment);
/*
 * IOMMU_HWPT_ALLOC: a HW page table for @dev_id on @pt_id (an IOAS for a
 * paging HWPT, later a vIOMMU for a nested one). @data may be NULL.
 */
int vmm_hwpt_alloc(int iommufd, __u32 dev_id, __u32 pt_id, __u32 flags,
		   __u32 data_type, void *data, __u32 data_len, __u32 *hwpt_id);
/*
 * IOMMU_GET_HW_INFO of the IOMMU behind @dev_id: @data (@*data_len bytes,
 * updated to what the kernel has), *@type = enum iommu_hw_info_type,
 * *@caps = IOMMU_HW_CAP_*. Any output pointer may be NULL.
 */
int vmm_hw_info(int iommufd, __u32 dev_id, void *data, __u32 *data_len,
		__u32 *type, __u64 *caps);

#ifdef IOMMU_VIOMMU_SET_DEV_ID
/*
 * vIOMMU (nested translation, see shared/design/uapi.md). These exist only
 * when the uAPI headers have them; VMM_HAVE_VIOMMU says so to callers.
 *
 * The sequence, per physical IOMMU instance the VM's devices sit behind:
 *
 *	vmm_hwpt_alloc(IOMMU_HWPT_ALLOC_NEST_PARENT)	stage 2 on the IOAS
 *	vmm_viommu_alloc()				the VM's slice of that
 *							IOMMU (its VMID)
 *	vmm_viommu_set_dev_id()				device <-> guest's vSID
 *	vmm_hwpt_alloc(pt_id = vIOMMU, guest's STE)	the guest's stage 1
 *	vmm_dev_attach(nested HWPT)			device now translates
 *							stage 1 then stage 2
 *	vmm_viommu_invalidate()				each time the guest
 *							issues TLBI/CFGI commands
 */
#define VMM_HAVE_VIOMMU 1

/*
 * IOMMU_VIOMMU_ALLOC: a vIOMMU of @type (enum iommu_viommu_type) on the
 * physical IOMMU behind @dev_id, over the nesting parent @parent_id.
 * @data/@data_len: driver data (NULL/0 for IOMMU_VIOMMU_TYPE_ARM_SMMUV3).
 */
int vmm_viommu_alloc(int iommufd, __u32 dev_id, __u32 parent_id, __u32 type,
		     void *data, __u32 data_len, __u32 *viommu_id);
/* Give @dev_id the virtual ID @vid (the vSID on SMMUv3) on the vIOMMU. */
int vmm_viommu_set_dev_id(int iommufd, __u32 viommu_id, __u32 dev_id,
			  __u64 vid);
/* Take it away again (EBUSY while attached to a nested HWPT of it). */
int vmm_viommu_unset_dev_id(int iommufd, __u32 viommu_id, __u32 dev_id,
			    __u64 vid);
/*
 * IOMMU_HWPT_INVALIDATE on a vIOMMU (or a nested HWPT): *@num entries of
 * @entry_len bytes at @entries, of @data_type (for SMMUv3:
 * IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, struct
 * iommu_viommu_arm_smmuv3_invalidate). On return *@num is the number of
 * entries the kernel handled, also on failure: there it is the index of
 * the entry that failed.
 */
int vmm_viommu_invalidate(int iommufd, __u32 viommu_id, __u32 data_type,
			  const void *entries, __u32 entry_len, __u32 *num);
#endif

#ifdef IOMMU_HW_QUEUE_ALLOC
/*
 * Hardware the guest drives without VM exits (Tegra241 CMDQV): a vIOMMU of
 * type IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV returns the mmap() pair of its VINTF
 * page0 in its driver data; the VMM maps it for the guest and allocates the
 * guest's queues (VCMDQs) in guest memory. See lib/vcmdq.h for the guest.
 */
#define VMM_HAVE_HW_QUEUE 1

/* mmap() of @len bytes at @offset of the iommufd: shared, read/write. */
void *vmm_iommufd_mmap(int iommufd, __u64 offset, __u64 len);
/*
 * IOMMU_HW_QUEUE_ALLOC: queue @index of @type (enum iommu_hw_queue_type) on
 * the vIOMMU, its memory at guest physical address @ipa (an IOVA of the
 * nesting parent's IOAS), @len bytes, physically contiguous.
 */
int vmm_hw_queue_alloc(int iommufd, __u32 viommu_id, __u32 type, __u32 index,
		       __u64 ipa, __u64 len, __u32 *hw_queue_id);
#endif

/* VFIO cdev of one device. */
int vmm_dev_open(struct vmm_dev *dev, const struct vmm_pci *pci);
int vmm_dev_bind(struct vmm_dev *dev, int iommufd);
/*
 * Attach to @pt_id (IOAS or HWPT). Attaching an attached device replaces
 * its page table. *@hwpt_id (may be NULL) gets the HWPT in use: for an
 * IOAS, the one the kernel found or made for it.
 */
int vmm_dev_attach(struct vmm_dev *dev, __u32 pt_id, __u32 *hwpt_id);
int vmm_dev_detach(struct vmm_dev *dev);
int vmm_dev_region_info(struct vmm_dev *dev, __u32 index,
			struct vfio_region_info *info);
/* mmap() region @index (e.g. VFIO_PCI_BAR0_REGION_INDEX), read/write. */
int vmm_dev_map_region(struct vmm_dev *dev, __u32 index,
		       struct vmm_region *reg);
void vmm_region_unmap(struct vmm_region *reg);
/* PCI config space through the config region (little endian). */
int vmm_dev_cfg_read16(struct vmm_dev *dev, __u32 off, __u16 *val);
int vmm_dev_cfg_write16(struct vmm_dev *dev, __u32 off, __u16 val);
/* Set and clear bits of the PCI command register (PCI_COMMAND_*). */
int vmm_dev_set_command(struct vmm_dev *dev, __u16 set, __u16 clear);
/*
 * Interrupts (VFIO_DEVICE_SET_IRQS): vmm_dev_irq_eventfd() routes vector 0
 * of IRQ index @index (VFIO_PCI_MSI_IRQ_INDEX, ...) to the eventfd @efd,
 * which the kernel signals each time the device raises it (a VMM hands
 * that eventfd to KVM as an irqfd); for MSI this enables MSI on the
 * device. vmm_dev_irq_off() tears the whole index down again.
 */
int vmm_dev_irq_eventfd(struct vmm_dev *dev, __u32 index, int efd);
int vmm_dev_irq_off(struct vmm_dev *dev, __u32 index);
/* Close the cdev: unbinds, detaches; cannot fail. */
void vmm_dev_close(struct vmm_dev *dev);

#endif
