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
 *	vmm_ioas_map_file()		the same for RAM in a memfd (QEMU's
 *					memfd and file memory backends)
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
#include <endian.h>
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
/*
 * Bind the PCI device @bdf ("0000:00:01.0") to vfio-pci, as a VMM's set-up
 * does before it opens /dev/vfio/devices/vfioN: its driver unbound,
 * driver_override, drivers_probe. 0 (also if it already was), or -errno;
 * -EBUSY if another driver took it.
 */
int vmm_bind_vfio_pci(const char *bdf);

/* /dev/iommu: returns the iommufd, or a negative errno. */
int vmm_iommufd_open(void);

/* iommufd objects. */
int vmm_ioas_alloc(int iommufd, __u32 *ioas_id);
int vmm_destroy(int iommufd, __u32 id);
/*
 * The host's page size (sysconf(_SC_PAGESIZE): 4, 16 or 64 KiB on arm64),
 * the unit of the host side of DMA: once a device of an IOMMU that maps
 * pages is attached, an IOAS mapping needs its IOVA, length and user
 * address aligned to it (the SMMU driver picks its granule from the host
 * page size), else IOMMU_IOAS_MAP is EINVAL. What the guest owns (its
 * stage-1 tables and their granule) is not bound to it.
 */
__u64 vmm_page_size(void);
/* @len rounded up to a multiple of vmm_page_size(). */
__u64 vmm_page_align(__u64 len);
/*
 * Map @len bytes of user memory at @va to exactly @iova (FIXED_IOVA) with
 * @prot = IOMMU_IOAS_MAP_READABLE and/or IOMMU_IOAS_MAP_WRITEABLE.
 */
int vmm_ioas_map(int iommufd, __u32 ioas_id, void *va, __u64 len, __u64 iova,
		 __u32 prot);
/*
 * Map @len bytes of the memfd or hugetlbfs file @fd, from byte @start, to
 * exactly @iova, as vmm_ioas_map() does for user memory
 * (IOMMU_IOAS_MAP_FILE). The mapping holds the file: the VMM may close @fd.
 */
int vmm_ioas_map_file(int iommufd, __u32 ioas_id, int fd, __u64 start,
		      __u64 len, __u64 iova, __u32 prot);
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
 *	  (vmm_viommu_create(): these two in one call)
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
/*
 * The first two steps in one: a nesting parent on the IOAS @ioas_id (the
 * guest's IPA space) for the IOMMU behind @dev_id, and a vIOMMU of @type
 * over it. On failure nothing is left (the vIOMMU's errno is returned).
 */
int vmm_viommu_create(int iommufd, __u32 dev_id, __u32 ioas_id, __u32 type,
		      void *data, __u32 data_len, __u32 *parent_id,
		      __u32 *viommu_id);
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

#ifdef IOMMU_VDEVICE_ALLOC
/*
 * Mainline's front door to virtual IDs (Linux >= 6.13, and this series):
 * the ioctls an unmodified VMM such as QEMU 11.1 (arm-smmuv3,accel=on)
 * calls. They share everything with vmm_viommu_set_dev_id(): one record of
 * "device -> virtual ID" per vIOMMU, whichever call made it, with the same
 * rules and errnos. A VMM picks one front door per device; both work.
 *
 * QEMU's order, which the kernel allows since a nested HWPT of an abort,
 * bypass or V=0 vSTE needs no virtual ID:
 *
 *	vmm_viommu_alloc()				at machine creation
 *	vmm_hwpt_alloc(vIOMMU, abort vSTE {0x1, 0})	two nested HWPTs the
 *	vmm_hwpt_alloc(vIOMMU, bypass vSTE {0x9, 0})	guest's STE starts as
 *	vmm_dev_attach(bypass or abort HWPT)		no virtual ID yet
 *	vmm_veventq_alloc(ARM_SMMUV3)			when the guest enables
 *							its event queue
 *	  ...the guest writes an STE and issues CFGI_STE:
 *	vmm_vdevice_alloc(vSID)				once per device
 *	vmm_hwpt_alloc(vIOMMU, the guest's vSTE)	its stage 1
 *	vmm_dev_attach(that HWPT)
 *	  ...teardown, in this order:
 *	vmm_dev_attach(bypass/abort HWPT or the nesting parent)
 *	vmm_destroy(stage-1 HWPT), vmm_vdevice_destroy(), vmm_veventq_free(),
 *	vmm_destroy(abort, bypass HWPTs), vmm_destroy(vIOMMU)
 */
#define VMM_HAVE_VDEVICE 1

/*
 * IOMMU_VDEVICE_ALLOC: give @dev_id the virtual ID @virt_id (the vSID on
 * SMMUv3) on the vIOMMU, owned by a new object, *@vdevice_id. Errors as
 * vmm_viommu_set_dev_id(): ENOENT unknown ids; EINVAL the device sits
 * behind another physical IOMMU, or @virt_id does not fit the driver's ID
 * space (20 bits on a Tegra241 CMDQV vIOMMU: SID_MATCH); EEXIST the ID is
 * taken or the device already has one (from either call); ENOSPC the
 * driver is out of resources (a Tegra241 VINTF's SID_MATCH/SID_REPLACE
 * pairs, programmed here). On failure nothing is recorded.
 */
int vmm_vdevice_alloc(int iommufd, __u32 viommu_id, __u32 dev_id,
		      __u64 virt_id, __u32 *vdevice_id);
/*
 * IOMMU_DESTROY of the vDEVICE: the virtual ID is gone (and its Tegra241
 * SID pair). EBUSY while the device is attached to a nested HWPT of the
 * vIOMMU that translates (a stage-1 vSTE): attach it elsewhere first.
 * Unbinding the device (closing its cdev) destroys the vDEVICE itself;
 * its id then answers ENOENT. While a vDEVICE exists its vIOMMU cannot be
 * destroyed (EBUSY), and vmm_viommu_unset_dev_id() of its ID is EBUSY.
 */
int vmm_vdevice_destroy(int iommufd, __u32 vdevice_id);
#endif

#ifdef IOMMU_VEVENTQ_ALLOC
/*
 * vEVENTQ: the events of the physical IOMMU that belong to the guest, for
 * the VMM to put in its virtual IOMMU's event queue (and the Tegra241
 * CMDQV's queue errors, for the VMM to raise its virtual CMDQV's IRQ).
 * One queue per type per vIOMMU, read through a file descriptor:
 *
 *	vmm_veventq_alloc()	the queue, its fd (poll() for POLLIN)
 *	vmm_veventq_read()	wait up to a timeout, parse the records
 *	vmm_veventq_free()	close the fd, then IOMMU_DESTROY
 *
 * Each record read() returns is a struct iommufd_vevent_header { flags,
 * sequence } followed by the data of the queue's type, whole records
 * only:
 *
 *	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3	  struct iommu_vevent_arm_smmuv3: the
 *		32-byte SMMUv3 event record as the SMMU wrote it, with the
 *		virtual ID of the device (vmm_vdevice_alloc() or SET_DEV_ID)
 *		in its StreamID field (evt[0] bits 63:32). Only stage-1
 *		events (C_BAD_STE, F_STREAM_DISABLED, C_BAD_SUBSTREAMID,
 *		C_BAD_CD, F_TRANSLATION, F_ADDR_SIZE, F_ACCESS,
 *		F_PERMISSION) of a device with a virtual ID on this vIOMMU,
 *		attached to a nested HWPT of it; stage-2 faults are the
 *		VMM's own business and stay with the host.
 *		An SMMU reports every faulting access: one faulting DMA of
 *		a page can be hundreds of events (QEMU: one per 4 bytes),
 *		so size the depth for bursts and expect LOST_EVENTS.
 *	IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV struct iommu_vevent_tegra241_cmdqv:
 *		the VINTF's LVCMDQ error map, bit n for the guest's queue n,
 *		each time one of its queues stops on an error. The host
 *		reads the map in its interrupt thread: an error the guest
 *		acknowledged (GERRORN) before that is not reported, as the
 *		map is clear by then. A guest driven by its (virtual) CMDQV
 *		interrupt, which the VMM raises on the record, acks after
 *		it; one that polls CONS and acks at once may leave none.
 *
 * The sequence number counts every record up from 0 and wraps from
 * INT_MAX to 0. A full queue (more than its depth unread) drops new events
 * and keeps one header-only record with IOMMU_VEVENTQ_FLAG_LOST_EVENTS at
 * its tail, renumbered with each loss; so each sequence number missing
 * before a record is one event lost, and the LOST_EVENTS record stands for
 * one more. A VMM with an SMMUv3 queue of its own reports an overflow to
 * its guest (GERROR.EVTQ_ABT_ERR, or the queue's OVFLG).
 */
#define VMM_HAVE_VEVENTQ 1

/* The largest record data (ARM_SMMUV3's 32 bytes). */
#define VMM_VEVENT_DATA_MAX	32u

/* One record as vmm_veventq_read() parsed it. */
struct vmm_vevent {
	__u32 flags;		/* IOMMU_VEVENTQ_FLAG_LOST_EVENTS or 0 */
	__u32 sequence;		/* the header's */
	__u32 lost_before;	/* sequence numbers missing before this one */
	__u32 data_len;		/* bytes in data: 0 for LOST_EVENTS */
	union {
		struct iommu_vevent_arm_smmuv3 smmuv3;
		struct iommu_vevent_tegra241_cmdqv cmdqv;
		__u8 raw[VMM_VEVENT_DATA_MAX];
	} data;
};

/* A vEVENTQ and what its reader keeps. */
struct vmm_veventq {
	int fd;			/* read() and poll() it; -1 once closed */
	__u32 id;		/* the object, for IOMMU_DESTROY */
	__u32 type;		/* enum iommu_veventq_type */
	__u32 data_len;		/* record data of that type, in bytes */
	__u32 next_seq;		/* the sequence number expected next */
	__u64 records;		/* records read, LOST_EVENTS ones included */
	__u64 lost;		/* events lost: gaps, plus LOST_EVENTS records */
	/* Records read() returned that the caller has not taken yet. */
	__u8 buf[4096];
	size_t buf_len, buf_off;
};

/* The data size of a record of vEVENTQ @type; 0 for an unknown type. */
__u32 vmm_vevent_data_len(__u32 type);
/*
 * IOMMU_VEVENTQ_ALLOC: a queue of @type (enum iommu_veventq_type) for the
 * vIOMMU, holding at most @depth unread events. EEXIST if the vIOMMU has
 * one of @type; EOPNOTSUPP for IOMMU_VEVENTQ_TYPE_DEFAULT (or a type this
 * library cannot parse); EINVAL for @depth 0; ENOENT unknown vIOMMU. The
 * queue holds the vIOMMU (EBUSY on its IOMMU_DESTROY until freed).
 */
int vmm_veventq_alloc(int iommufd, __u32 viommu_id, __u32 type, __u32 depth,
		      struct vmm_veventq *q);
/*
 * Read up to @max records into @ev, waiting up to @timeout_ms (0: do not
 * wait, -1: forever) for the first. Returns how many (0 when none came in
 * time) or a negative errno. Each record's lost_before is checked against
 * the sequence expected (a new queue starts at 0); q->lost adds up the
 * events lost. A partial record, or a flag this library does not know
 * (which could change the record's length), is EPROTO.
 */
int vmm_veventq_read(struct vmm_veventq *q, struct vmm_vevent *ev, int max,
		     int timeout_ms);
/*
 * Close the fd, then IOMMU_DESTROY the queue (which is EBUSY while its fd
 * is open: the file holds the queue). Unread events are dropped.
 */
int vmm_veventq_free(int iommufd, struct vmm_veventq *q);

/* The fields of an ARM_SMMUV3 record a VMM looks at. */
static inline __u8 vmm_vevent_smmuv3_id(const struct vmm_vevent *ev)
{
	return (__u8)le64toh(ev->data.smmuv3.evt[0]);
}

/* The StreamID field: the device's virtual ID. */
static inline __u32 vmm_vevent_smmuv3_sid(const struct vmm_vevent *ev)
{
	return (__u32)(le64toh(ev->data.smmuv3.evt[0]) >> 32);
}

/*
 * IOMMU_GET_HW_INFO with IOMMU_HW_INFO_FLAG_INPUT_TYPE: the data of type
 * @in_type (enum iommu_hw_info_type), for IOMMUs that report more than one:
 * IOMMU_HW_INFO_TYPE_ARM_SMMUV3 (struct iommu_hw_info_arm_smmuv3, what
 * vmm_hw_info() returns by default), IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV
 * (struct iommu_hw_info_tegra241_cmdqv: the CMDQV version, log2 of the
 * VCMDQs and of the SID_MATCH/SID_REPLACE pairs of one VINTF, i.e. of one
 * vIOMMU of type TEGRA241_CMDQV) where the SMMU has a CMDQV, or
 * IOMMU_HW_INFO_TYPE_DEFAULT for the driver's default. A type the IOMMU
 * does not have is EOPNOTSUPP, which is how a VMM learns there is no CMDQV
 * (QEMU 11.1 then refuses cmdqv=on). @data, @data_len, @out_type, @caps
 * as vmm_hw_info(). A kernel older than the flag answers EOPNOTSUPP too.
 */
int vmm_hw_info_type(int iommufd, __u32 dev_id, __u32 in_type, void *data,
		     __u32 *data_len, __u32 *out_type, __u64 *caps);
#endif
#endif /* IOMMU_VIOMMU_SET_DEV_ID */

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
