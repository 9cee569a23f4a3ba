/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * edu_dma.h: ioctl interface of the edu_dma test driver (edu_dma.c) for
 * QEMU's "edu" PCI device (1234:11e8), shared by the driver and the
 * programs that drive it.
 *
 * Each edu the driver binds gets a misc device /dev/edu-dma-<BDF>
 * (e.g. /dev/edu-dma-0000:00:01.0, also found as
 * /sys/bus/pci/devices/<BDF>/misc/edu-dma-<BDF>). All its buffers are
 * mapped with the kernel's DMA API (dma_map_single() and
 * dma_unmap_single()), so behind an IOMMU its transfers go through the
 * device's default DMA domain. The ioctls of one device are serialised; a
 * signal interrupts one waiting for another (-EINTR).
 *
 * Every struct has the same layout on 32- and 64-bit user space. Fields
 * marked "in" are read by the driver, "out" are written back on success;
 * reserved fields and flags must be zero (-EINVAL otherwise).
 */
#ifndef _EDU_DMA_H
#define _EDU_DMA_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Size of the edu's own buffer: the largest transfer. */
#define EDU_DMA_BUF_SIZE	4096

/* Flags of EDU_DMA_COPY and EDU_DMA_STALE */
/* Poll the DMA command register for completion instead of taking the MSI */
#define EDU_DMA_POLL		0x1

/* Flags of struct edu_dma_info */
/* The device's DMA goes through an IOMMU (device_iommu_mapped()) */
#define EDU_DMA_INFO_IOMMU	0x1

/* Flags of struct edu_dma_copy, out */
/* The bus address of the RAM-to-device buffer is not its physical address */
#define EDU_DMA_TO_DEV_TRANSLATED	0x100
/* The bus address of the device-to-RAM buffer is not its physical address */
#define EDU_DMA_FROM_DEV_TRANSLATED	0x200

/**
 * struct edu_dma_info - EDU_DMA_INFO: the device and its interrupt
 * @segment: out: PCI segment (domain) number
 * @rid: out: requester ID, bus << 8 | devfn
 * @irq: out: Linux IRQ number of the device's MSI
 * @flags: out: EDU_DMA_INFO_*
 * @irq_count: out: edu interrupts (MSIs) handled since the driver bound
 * @dma_mask: out: the device's streaming DMA mask
 * @edu_id: out: the edu's identification register (0xRRrr00ed)
 * @reserved: out: zero
 */
struct edu_dma_info {
	__u32 segment;
	__u32 rid;
	__u32 irq;
	__u32 flags;
	__u64 irq_count;
	__u64 dma_mask;
	__u32 edu_id;
	__u32 reserved;
};

/**
 * struct edu_dma_copy - EDU_DMA_COPY: a round trip through the edu
 * @src: in: user address of the @len bytes to send
 * @dst: in: user address where the @len bytes that came back are written
 * @len: in: bytes, 1 .. EDU_DMA_BUF_SIZE - @dev_off
 * @dev_off: in: offset in the edu's buffer
 * @flags: in: EDU_DMA_POLL; out: the same, plus EDU_DMA_*_TRANSLATED
 * @irqs: out: edu interrupts handled during the call (2 without
 *	EDU_DMA_POLL: one per transfer; 0 with it)
 * @iova_to_dev: out: bus address of the kernel buffer the edu read
 * @iova_from_dev: out: bus address of the kernel buffer the edu wrote
 *
 * The driver copies @src into a kernel buffer, maps it DMA_TO_DEVICE, has
 * the edu copy it into its own buffer at @dev_off, and unmaps it; then maps
 * a second, zeroed buffer DMA_FROM_DEVICE, has the edu copy the same bytes
 * back into it, unmaps it, and copies it to @dst. -ETIMEDOUT when a
 * transfer does not finish (or its interrupt does not come) within 5 s.
 */
struct edu_dma_copy {
	__u64 src;
	__u64 dst;
	__u32 len;
	__u32 dev_off;
	__u32 flags;
	__u32 irqs;
	__u64 iova_to_dev;
	__u64 iova_from_dev;
};

/**
 * struct edu_dma_stale - EDU_DMA_STALE: DMA to a bus address just unmapped
 * @len: in: bytes the edu writes, 1 .. EDU_DMA_BUF_SIZE
 * @flags: in: EDU_DMA_POLL; out: EDU_DMA_STALE_PTE_SET,
 *	EDU_DMA_STALE_PTE_CLEARED as the IOMMU domain's page table said
 * @iova: out: the stale bus address
 * @arrived: out: bytes of the write while mapped that arrived (@len)
 * @changed: out: bytes of the canary the write after the unmap changed
 *	(0: it was blocked)
 * @irqs: out: edu interrupts handled during the call
 * @reserved: out: zero
 *
 * The driver fills the edu's buffer with 0x5a bytes, maps a buffer
 * DMA_FROM_DEVICE and has the edu write @len of them to it (so an IOMMU
 * has the translation cached), unmaps it (behind an IOMMU with strict
 * invalidation the mapping and the IOTLB entries are gone when
 * dma_unmap_single() returns), checks what arrived, fills the buffer with
 * the canary 0xa5, has the edu write the same bytes to the same bus address
 * again, and counts the canary bytes that changed. Behind an IOMMU the
 * second write must fault: an SMMUv3 logs a translation fault event for the
 * device. (QEMU's edu writes an unmapped range 4 bytes at a time, and
 * QEMU's SMMUv3 logs an event for each: keep @len small.)
 */
/*
 * EDU_DMA_STALE out flags: the device's DMA domain translated @iova to the
 * buffer while it was mapped, and to nothing once it was unmapped. With
 * both set, a write after the unmap that still lands (@changed != 0) can
 * only come from a stale IOTLB entry.
 */
#define EDU_DMA_STALE_PTE_SET		0x100
#define EDU_DMA_STALE_PTE_CLEARED	0x200

struct edu_dma_stale {
	__u32 len;
	__u32 flags;
	__u64 iova;
	__u32 arrived;
	__u32 changed;
	__u32 irqs;
	__u32 reserved;
};

/**
 * struct edu_dma_maploop - EDU_DMA_MAPLOOP: cost of map + unmap
 * @iters: in: map/unmap pairs, 1 .. EDU_DMA_MAPLOOP_MAX
 * @flags: in: zero
 * @elapsed_ns: out: time the @iters pairs took (ktime_get_ns())
 *
 * One 4 KiB page, dma_map_single() + dma_unmap_single() DMA_BIDIRECTIONAL
 * @iters times, no transfer. -EINTR if a fatal signal stops the loop.
 */
struct edu_dma_maploop {
	__u32 iters;
	__u32 flags;
	__u64 elapsed_ns;
};

#define EDU_DMA_MAPLOOP_MAX	0x1000000	/* 16 Mi */

#define EDU_DMA_IOC_MAGIC	0xED

#define EDU_DMA_INFO	_IOR(EDU_DMA_IOC_MAGIC, 0x00, struct edu_dma_info)
#define EDU_DMA_COPY	_IOWR(EDU_DMA_IOC_MAGIC, 0x01, struct edu_dma_copy)
#define EDU_DMA_STALE	_IOWR(EDU_DMA_IOC_MAGIC, 0x02, struct edu_dma_stale)
#define EDU_DMA_MAPLOOP	_IOWR(EDU_DMA_IOC_MAGIC, 0x03, struct edu_dma_maploop)

#endif /* _EDU_DMA_H */
