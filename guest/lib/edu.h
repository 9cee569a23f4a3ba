/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu.h: driving QEMU's "edu" PCI test device (1234:11e8) from user space
 * through its BAR0 mapped by VFIO.
 *
 * The edu has a 4 KiB buffer at device address EDU_BUF_ADDR and a DMA
 * engine that copies between it and a bus address (an IOVA: it goes
 * through the IOMMU). Registers used here (BAR0 offsets):
 *
 *	0x00 ID		0xRRrr00ed: major RR, minor rr
 *	0x04 LIVENESS	reads back the bitwise NOT of what was written
 *	0x24 IRQ_STATUS	the interrupt's pending bits
 *	0x60 IRQ_RAISE	ORs the value written into IRQ_STATUS and raises
 *			the interrupt (with MSI on: sends one MSI)
 *	0x64 IRQ_ACK	clears the bits written from IRQ_STATUS
 *	0x80 DMA_SRC	64-bit bus address (write it as one 8-byte access)
 *	0x88 DMA_DST	64-bit
 *	0x90 DMA_CNT	bytes
 *	0x98 DMA_CMD	bit 0 start (reads 1 until done), bit 1 direction
 *			(0 RAM to device, 1 device to RAM), bit 2 raise the
 *			interrupt (status EDU_IRQ_DMA) when the transfer is done
 *
 * The transfer runs about 100 ms (QEMU virtual clock) after the start.
 * While it is pending the device ignores writes to all four DMA registers.
 * QEMU does not check that the device side of a transfer stays inside the
 * buffer (it only logs), so these helpers do: never hand it a range
 * outside [EDU_BUF_ADDR, EDU_BUF_ADDR + EDU_BUF_SIZE).
 */
#ifndef EDU_H
#define EDU_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "vmm.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8

#define EDU_REG_ID	0x00
#define EDU_REG_LIVE	0x04
#define EDU_REG_DMA_SRC	0x80
#define EDU_REG_DMA_DST	0x88
#define EDU_REG_DMA_CNT	0x90
#define EDU_REG_DMA_CMD	0x98
#define EDU_DMA_START	(1u << 0)
#define EDU_DMA_TO_RAM	(1u << 1)
#define EDU_DMA_IRQ	(1u << 2)

#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_IRQ_DMA		0x100u	/* a transfer with EDU_DMA_IRQ is done */

#define EDU_BUF_ADDR	0x40000ull
#define EDU_BUF_SIZE	4096u

/* Default poll bound of a transfer; the device needs ~100 ms. */
#define EDU_DMA_TIMEOUT_MS	5000

struct edu {
	void *mmio;		/* BAR0, mapped (only touch it via edu_*) */
	__u64 size;
};

void edu_init(struct edu *edu, void *bar0, __u64 size);

/*
 * The edu of @dev (bound and attached) made ready to DMA, as a VMM does
 * before it starts its guest: BAR0 mapped into @bar0, memory decode and
 * bus master on, the ID register checked, the DMA engine idle. Returns 0
 * or a negative errno (-ENODEV: BAR0 too small, or not an edu).
 */
int edu_enable(struct edu *edu, struct vmm_dev *dev, struct vmm_region *bar0);
/*
 * The reverse: wait for a transfer in flight, bus master off, BAR0
 * unmapped. Safe on a device edu_enable() left half done.
 */
void edu_disable(struct edu *edu, struct vmm_dev *dev,
		 struct vmm_region *bar0);

/* MMIO accessors: single 32- or 64-bit loads and stores. */
__u32 edu_read32(struct edu *edu, __u32 off);
void edu_write32(struct edu *edu, __u32 off, __u32 val);
__u64 edu_read64(struct edu *edu, __u32 off);
void edu_write64(struct edu *edu, __u32 off, __u64 val);

/*
 * Check the identification register (low byte 0xed) and the liveness
 * register. 0 or -ENODEV; *@id (may be NULL) gets the ID register.
 */
int edu_check_id(struct edu *edu, __u32 *id);

/*
 * Start one transfer of @len bytes between bus address @iova and the
 * device buffer at byte @off (0 .. EDU_BUF_SIZE - 1), without waiting.
 * -EINVAL for a range outside the buffer, -EBUSY if one is running.
 */
int edu_dma_start(struct edu *edu, __u64 iova, __u32 off, __u32 len,
		  bool to_ram);
/* edu_dma_start() of a transfer that raises the interrupt when done. */
int edu_dma_start_irq(struct edu *edu, __u64 iova, __u32 off, __u32 len,
		      bool to_ram);
/*
 * Poll until the running transfer is done: 0, or -ETIMEDOUT after
 * @timeout_ms milliseconds. When this returns 0 after a device-to-RAM
 * transfer, the data is visible to the CPU.
 */
int edu_dma_wait(struct edu *edu, int timeout_ms);
/* edu_dma_start() + edu_dma_wait(). */
int edu_dma(struct edu *edu, __u64 iova, __u32 off, __u32 len, bool to_ram,
	    int timeout_ms);

/*
 * Raise the interrupt with status bits @bits (IRQ_RAISE); clear them
 * (IRQ_ACK). Each raise sends one MSI while MSI is enabled.
 */
void edu_irq_raise(struct edu *edu, __u32 bits);
void edu_irq_ack(struct edu *edu, __u32 bits);

static inline int edu_to_dev(struct edu *edu, __u64 iova, __u32 off,
			     __u32 len)
{
	return edu_dma(edu, iova, off, len, false, EDU_DMA_TIMEOUT_MS);
}

static inline int edu_to_ram(struct edu *edu, __u64 iova, __u32 off,
			     __u32 len)
{
	return edu_dma(edu, iova, off, len, true, EDU_DMA_TIMEOUT_MS);
}

#endif
