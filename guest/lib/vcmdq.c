// SPDX-License-Identifier: GPL-2.0
/*
 * vcmdq.c: the guest's side of a Tegra241 VCMDQ, see vcmdq.h.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "vcmdq.h"

/* The hardware moves within microseconds; QEMU consumes on the PROD write */
#define VCMDQ_TIMEOUT_NS	(2ull * 1000 * 1000 * 1000)
#define VCMDQ_OP_SYNC		0x46u

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static __u32 reg_read(struct vcmdq *vq, unsigned int off)
{
	return __atomic_load_n(&vq->regs[off / 4], __ATOMIC_ACQUIRE);
}

static void reg_write(struct vcmdq *vq, unsigned int off, __u32 val)
{
	__atomic_store_n(&vq->regs[off / 4], val, __ATOMIC_RELEASE);
}

void vcmdq_init(struct vcmdq *vq, void *page0, unsigned int index,
		__le64 *q, unsigned int log2size)
{
	vq->regs = (volatile __u32 *)((char *)page0 +
				      index * VCMDQ_REGS_STRIDE);
	vq->q = q;
	vq->log2size = log2size;
	vq->prod = 0;
}

static int wait_status(struct vcmdq *vq, __u32 want)
{
	__u64 end = now_ns() + VCMDQ_TIMEOUT_NS;

	while ((reg_read(vq, VCMDQ_STATUS) & 1) != want) {
		if (now_ns() > end)
			return -ETIMEDOUT;
	}
	return 0;
}

int vcmdq_enable(struct vcmdq *vq)
{
	/* A queue starts empty: both indexes where the hardware has them */
	vq->prod = reg_read(vq, VCMDQ_PROD);
	reg_write(vq, VCMDQ_CONFIG, 1);
	return wait_status(vq, 1);
}

int vcmdq_disable(struct vcmdq *vq)
{
	reg_write(vq, VCMDQ_CONFIG, 0);
	return wait_status(vq, 0);
}

/* Index and wrap bit of a PROD/CONS value. */
static __u32 q_mask(struct vcmdq *vq)
{
	return (2u << vq->log2size) - 1;
}

static __u32 q_idx(struct vcmdq *vq, __u32 v)
{
	return v & ((1u << vq->log2size) - 1);
}

/* Entries between @cons and @prod, both with the wrap bit. */
static __u32 q_used(struct vcmdq *vq, __u32 prod, __u32 cons)
{
	return (prod - cons) & q_mask(vq);
}

unsigned int vcmdq_cons_err(struct vcmdq *vq)
{
	return VCMDQ_CONS_ERR(reg_read(vq, VCMDQ_CONS));
}

bool vcmdq_error_pending(struct vcmdq *vq)
{
	return ((reg_read(vq, VCMDQ_GERROR) ^ reg_read(vq, VCMDQ_GERRORN)) &
		1) != 0;
}

int vcmdq_submit(struct vcmdq *vq, const __le64 (*cmds)[2], unsigned int num,
		 unsigned int *err_index)
{
	__u32 start = vq->prod, cons = reg_read(vq, VCMDQ_CONS) & q_mask(vq);
	__u64 end;
	unsigned int i;

	if (q_used(vq, vq->prod, cons) + num > (1u << vq->log2size))
		return -ENOSPC;
	for (i = 0; i < num; i++) {
		__le64 *ent = &vq->q[q_idx(vq, vq->prod) * 2];

		__atomic_store_n(&ent[0], cmds[i][0], __ATOMIC_RELAXED);
		__atomic_store_n(&ent[1], cmds[i][1], __ATOMIC_RELAXED);
		vq->prod = (vq->prod + 1) & q_mask(vq);
	}
	/* The commands are in memory before the hardware sees the index */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	reg_write(vq, VCMDQ_PROD, vq->prod);

	end = now_ns() + VCMDQ_TIMEOUT_NS;
	for (;;) {
		__u32 c = reg_read(vq, VCMDQ_CONS);

		if ((c & q_mask(vq)) == vq->prod)
			return 0;
		if (vcmdq_error_pending(vq)) {
			if (err_index)
				*err_index = q_used(vq, c & q_mask(vq), start);
			return -EIO;
		}
		if (now_ns() > end)
			return -ETIMEDOUT;
	}
}

int vcmdq_ack_error(struct vcmdq *vq)
{
	__u32 cons = reg_read(vq, VCMDQ_CONS) & q_mask(vq);
	__le64 *ent = &vq->q[q_idx(vq, cons) * 2];
	__u64 end = now_ns() + VCMDQ_TIMEOUT_NS;

	__atomic_store_n(&ent[1], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ent[0], (__le64)VCMDQ_OP_SYNC, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	reg_write(vq, VCMDQ_GERRORN, reg_read(vq, VCMDQ_GERROR));
	while ((reg_read(vq, VCMDQ_CONS) & q_mask(vq)) != vq->prod) {
		if (vcmdq_error_pending(vq))
			return -EIO;
		if (now_ns() > end)
			return -ETIMEDOUT;
	}
	return 0;
}
