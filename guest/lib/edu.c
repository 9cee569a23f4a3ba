// SPDX-License-Identifier: GPL-2.0
/*
 * edu.c: QEMU edu device helpers (edu.h).
 */
#include <errno.h>
#include <time.h>
#include <linux/pci_regs.h>

#include "edu.h"

/*
 * MMIO must be one access of the right size, never split, merged or
 * turned into a load/store-pair or a write-back addressing mode (a KVM
 * host cannot emulate those). On arm64 use plain LDR/STR, as the kernel's
 * readl()/writel() do; elsewhere a volatile access.
 */
#if defined(__aarch64__)
static inline __u32 raw_read32(void *p)
{
	__u32 v;

	asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(p) : "memory");
	return v;
}

static inline void raw_write32(void *p, __u32 v)
{
	asm volatile("str %w0, [%1]" : : "rZ"(v), "r"(p) : "memory");
}

static inline __u64 raw_read64(void *p)
{
	__u64 v;

	asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(p) : "memory");
	return v;
}

static inline void raw_write64(void *p, __u64 v)
{
	asm volatile("str %x0, [%1]" : : "rZ"(v), "r"(p) : "memory");
}

/* CPU stores to RAM reach the device before the doorbell store. */
static inline void wmb_before_mmio(void)
{
	asm volatile("dmb oshst" : : : "memory");
}

/* The device's DMA writes are seen after the MMIO load that saw "done". */
static inline void rmb_after_mmio(void)
{
	asm volatile("dmb oshld" : : : "memory");
}
#else
static inline __u32 raw_read32(void *p)
{
	return *(volatile __u32 *)p;
}

static inline void raw_write32(void *p, __u32 v)
{
	*(volatile __u32 *)p = v;
}

static inline __u64 raw_read64(void *p)
{
	return *(volatile __u64 *)p;
}

static inline void raw_write64(void *p, __u64 v)
{
	*(volatile __u64 *)p = v;
}

static inline void wmb_before_mmio(void)
{
	__sync_synchronize();
}

static inline void rmb_after_mmio(void)
{
	__sync_synchronize();
}
#endif

void edu_init(struct edu *edu, void *bar0, __u64 size)
{
	edu->mmio = bar0;
	edu->size = size;
}

__u32 edu_read32(struct edu *edu, __u32 off)
{
	return raw_read32((char *)edu->mmio + off);
}

void edu_write32(struct edu *edu, __u32 off, __u32 val)
{
	raw_write32((char *)edu->mmio + off, val);
}

__u64 edu_read64(struct edu *edu, __u32 off)
{
	return raw_read64((char *)edu->mmio + off);
}

void edu_write64(struct edu *edu, __u32 off, __u64 val)
{
	raw_write64((char *)edu->mmio + off, val);
}

int edu_check_id(struct edu *edu, __u32 *id)
{
	__u32 val = edu_read32(edu, EDU_REG_ID);

	if (id)
		*id = val;
	/* 0xffffffff would be a read of nothing (memory decode off). */
	if ((val & 0xff) != 0xed || val == 0xffffffff)
		goto nodev;
	edu_write32(edu, EDU_REG_LIVE, 0x12345678);
	if (edu_read32(edu, EDU_REG_LIVE) != ~0x12345678u)
		goto nodev;
	return 0;
nodev:
	errno = ENODEV;
	return -ENODEV;
}

static int dma_start(struct edu *edu, __u64 iova, __u32 off, __u32 len,
		     bool to_ram, __u32 irq)
{
	__u64 dev = EDU_BUF_ADDR + off;

	if (!len || off >= EDU_BUF_SIZE || len > EDU_BUF_SIZE - off) {
		errno = EINVAL;
		return -EINVAL;
	}
	/* Writes to a running engine are dropped: refuse instead. */
	if (edu_read64(edu, EDU_REG_DMA_CMD) & EDU_DMA_START) {
		errno = EBUSY;
		return -EBUSY;
	}
	/* 64-bit addresses: one 8-byte store each, not two 4-byte halves. */
	edu_write64(edu, EDU_REG_DMA_SRC, to_ram ? dev : iova);
	edu_write64(edu, EDU_REG_DMA_DST, to_ram ? iova : dev);
	edu_write64(edu, EDU_REG_DMA_CNT, len);
	wmb_before_mmio();
	edu_write64(edu, EDU_REG_DMA_CMD,
		    EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0) | irq);
	return 0;
}

int edu_dma_start(struct edu *edu, __u64 iova, __u32 off, __u32 len,
		  bool to_ram)
{
	return dma_start(edu, iova, off, len, to_ram, 0);
}

int edu_dma_start_irq(struct edu *edu, __u64 iova, __u32 off, __u32 len,
		      bool to_ram)
{
	return dma_start(edu, iova, off, len, to_ram, EDU_DMA_IRQ);
}

void edu_irq_raise(struct edu *edu, __u32 bits)
{
	wmb_before_mmio();
	edu_write32(edu, EDU_REG_IRQ_RAISE, bits);
}

void edu_irq_ack(struct edu *edu, __u32 bits)
{
	edu_write32(edu, EDU_REG_IRQ_ACK, bits);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int edu_dma_wait(struct edu *edu, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	/* Poll every millisecond: each read is a trap into QEMU. */
	const struct timespec tick = { .tv_nsec = 1000000 };

	for (;;) {
		if (!(edu_read64(edu, EDU_REG_DMA_CMD) & EDU_DMA_START)) {
			rmb_after_mmio();
			return 0;
		}
		if (now_ms() > deadline)
			break;
		nanosleep(&tick, NULL);
	}
	errno = ETIMEDOUT;
	return -ETIMEDOUT;
}

int edu_dma(struct edu *edu, __u64 iova, __u32 off, __u32 len, bool to_ram,
	    int timeout_ms)
{
	int ret = edu_dma_start(edu, iova, off, len, to_ram);

	return ret ? ret : edu_dma_wait(edu, timeout_ms);
}

int edu_enable(struct edu *edu, struct vmm_dev *dev, struct vmm_region *bar0)
{
	__u32 id;
	int ret;

	ret = vmm_dev_map_region(dev, VFIO_PCI_BAR0_REGION_INDEX, bar0);
	if (ret)
		return ret;
	if (bar0->size < EDU_REG_DMA_CMD + 8ull) {
		errno = ENODEV;
		return -ENODEV;
	}
	edu_init(edu, bar0->va, bar0->size);
	ret = vmm_dev_set_command(dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
				  0);
	if (ret)
		return ret;
	ret = edu_check_id(edu, &id);
	if (ret)
		return ret;
	/* A transfer left by a previous user finishes within ~100 ms. */
	return edu_dma_wait(edu, EDU_DMA_TIMEOUT_MS);
}

void edu_disable(struct edu *edu, struct vmm_dev *dev,
		 struct vmm_region *bar0)
{
	if (!bar0->va)
		return;
	edu_dma_wait(edu, EDU_DMA_TIMEOUT_MS);
	if (dev->fd >= 0)
		vmm_dev_set_command(dev, 0, PCI_COMMAND_MASTER);
	vmm_region_unmap(bar0);
}
