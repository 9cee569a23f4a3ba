/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcmdq.h: the guest's side of a Tegra241 CMDQV virtual command queue
 * (VCMDQ), driven through the VINTF page0 that the VMM maps from
 * /dev/iommu (mmap() with the pair IOMMU_VIOMMU_ALLOC returned for a
 * vIOMMU of type IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV).
 *
 * Page0 of a VINTF holds, for each of its logical queues at 0x80 * index:
 *
 *	0x00 CONS	read index (with the wrap bit), ERR in [30:24]
 *	0x04 PROD	write index (with the wrap bit)
 *	0x08 CONFIG	bit 0 EN
 *	0x0c STATUS	bit 0 ENABLED
 *	0x10 GERROR	bit 0 CMDQ_ERR: an error while it differs from GERRORN
 *	0x14 GERRORN
 *
 * The queue memory is the guest's: 2^n commands of 16 bytes, which the VMM
 * gave the kernel with IOMMU_HW_QUEUE_ALLOC. The guest writes commands
 * there and moves PROD; the hardware consumes them with the VINTF's VMID
 * and its vSID to pSID pairs applied, and moves CONS. No system call is
 * made on this path. A command a guest queue may not issue (anything but
 * TLBI_NH_ASID, TLBI_NH_VA, ATC_INV and CMD_SYNC, or an ATC_INV of an
 * unknown vSID) stops the queue with CONS.ERR = CERROR_ILL at that command.
 *
 * Nothing here depends on the iommufd uAPI headers.
 */
#ifndef VCMDQ_H
#define VCMDQ_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#define VCMDQ_PAGE0_SIZE	0x10000u	/* the mmap() length */
#define VCMDQ_REGS_STRIDE	0x80u
#define VCMDQ_CONS		0x00u
#define VCMDQ_PROD		0x04u
#define VCMDQ_CONFIG		0x08u
#define VCMDQ_STATUS		0x0cu
#define VCMDQ_GERROR		0x10u
#define VCMDQ_GERRORN		0x14u
#define VCMDQ_CONS_ERR(cons)	(((cons) >> 24) & 0x7fu)
#define VCMDQ_CERROR_ILL	1u
#define VCMDQ_ENT_SIZE		16u

struct vcmdq {
	volatile __u32 *regs;	/* this queue's registers in page0 */
	__le64 *q;		/* the queue memory, as the guest sees it */
	unsigned int log2size;	/* 1 << log2size entries */
	__u32 prod;		/* the next PROD to write (index + wrap) */
};

/*
 * Bind @vq to logical queue @index of the mapped VINTF @page0, with queue
 * memory @q of 1 << @log2size entries. Does not touch the hardware.
 */
void vcmdq_init(struct vcmdq *vq, void *page0, unsigned int index,
		__le64 *q, unsigned int log2size);
/* CONFIG.EN and wait for STATUS.ENABLED: 0 or -ETIMEDOUT. */
int vcmdq_enable(struct vcmdq *vq);
/* CONFIG.EN clear and wait for STATUS: 0 or -ETIMEDOUT. */
int vcmdq_disable(struct vcmdq *vq);
/*
 * Write @num commands (2 words each) at PROD and publish them with one PROD
 * write, then wait until CONS has caught up. 0 when all were consumed;
 * -EIO when the queue stopped on an error (*@err_index, may be NULL, gets
 * the position of the failing command among the @num, and the queue stays
 * stopped until vcmdq_ack_error()); -ETIMEDOUT; -ENOSPC if @num does not
 * fit the free space.
 */
int vcmdq_submit(struct vcmdq *vq, const __le64 (*cmds)[2], unsigned int num,
		 unsigned int *err_index);
/* The error code in CONS (0: none), and whether GERROR flags an error. */
unsigned int vcmdq_cons_err(struct vcmdq *vq);
bool vcmdq_error_pending(struct vcmdq *vq);
/*
 * Recover from an error like the Linux driver does on its own queues: the
 * failing command is replaced by a CMD_SYNC and GERRORN acknowledges the
 * error; the queue resumes and consumes the rest. 0 or -ETIMEDOUT.
 */
int vcmdq_ack_error(struct vcmdq *vq);

#endif
