// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-viommu, tegra mode: vIOMMUs of IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV (a
 * VINTF of the SMMU's CMDQV each), their VCMDQs (IOMMU_HW_QUEUE_ALLOC) and
 * the VINTF page0 mapped from /dev/iommu, through which the fuzzer is a
 * hostile guest. The other generators run beside these on the same
 * vIOMMUs (virtual IDs, nested HWPTs, trapped invalidations, vEVENTQs,
 * destroy, unbind). See fuzz.h.
 *
 * The guest's side is predicted register by register: the fuzzer runs the
 * CMDQV's rules (QEMU's model in patches/qemu, Tegra241's for a VINTF
 * without HYP_OWN) over the queue memory it wrote, with the vIOMMU's
 * virtual IDs of the model as the SID_MATCH pairs. QEMU consumes a VCMDQ
 * when its PROD, CONFIG or GERRORN is written, before the write returns,
 * and every queue of the CMDQV when a VINTF is enabled (any vIOMMU's
 * allocation): the guest never leaves a queue with commands it could
 * consume (a CONS it rewrote is followed by a PROD write), so every
 * register read has one right answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "vcmdq.h"

#if defined(VMM_HAVE_VIOMMU) && defined(VMM_HAVE_HW_QUEUE)

/* A CMDQV of the dual topology has 4 VINTFs: VINTF0 is the host's */
#define TEGRA_GUEST_VINTFS	3
/* The trace markers (TLBI_NH_VA addresses), + tag pages; below 2^48 */
#define MARK_VCMDQ		0x7e9a00000000ull
#define MARK_TRAPPED		0x7e9b00000000ull
#define VCMDQ_ERR_SHIFT		24
#define VCMDQ_ERR_MASK		(0x7fu << VCMDQ_ERR_SHIFT)

/* A page the kernel can read data from but not write its answer to */
static void *ro_page;
static __u32 next_tag;
/* The vIOMMU op_tegra_hw_queue_alloc() should mostly take, or -1 */
static int hwq_target = -1;
/* seq_close() closed the iommufd: no more ioctls, the guest goes on */
static bool fd_closed;

__u32 tegra_psid(const char *bdf)
{
	unsigned int dom, bus, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return ~0u;
	return bus << 8 | dev << 3 | fn;
}

void tegra_setup(void)
{
	/*
	 * Tags name vIOMMUs across the runs of one boot (the host check
	 * reads one trace): this process's number picks 4096 of them
	 */
	next_tag = (getpid() & 0xff) << 12;
	ro_page = mmap(NULL, pgsz, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_POPULATE, -1, 0);
	if (ro_page == MAP_FAILED)
		ro_page = NULL;
}

/* Live vIOMMUs with a VINTF on IOMMU @iommu */
static int ntegra(int iommu)
{
	int v, n = 0;

	for (v = 0; v < MAX_VIOMMU; v++)
		n += S.viommu[v].live && S.viommu[v].is_tegra &&
		     S.viommu[v].iommu == iommu;
	return n;
}

/* A live tegra vIOMMU (mapped if @mapped), from a random start, or -1 */
static int pick_tegra(bool mapped)
{
	int k, start = rn(MAX_VIOMMU);

	for (k = 0; k < MAX_VIOMMU; k++) {
		int v = (start + k) % MAX_VIOMMU;

		if (S.viommu[v].live && S.viommu[v].is_tegra &&
		    (!mapped || S.viommu[v].map))
			return v;
	}
	return -1;
}

/* ---- the console names each VINTF's vIOMMU -------------------------- */

static void tegra_name(int v)
{
	struct fviommu *vi = &S.viommu[v];
	const char *sep = " ";
	int i;

	printf("# tegra viommu %u iommu %d psids", vi->tag, vi->iommu);
	for (i = 0; i < S.ndev; i++) {
		if (vi->devs_seen & (1u << i)) {
			printf("%s0x%x", sep, S.dev[i].psid);
			sep = ",";
		}
	}
	printf("%s\n", *sep == ' ' ? " -" : "");
}

void tegra_viommu_gone(int v)
{
	tegra_name(v);
}

/* ---- IOMMU_VIOMMU_ALLOC of TEGRA241_CMDQV ---------------------------- */

/*
 * A TLBI_NH_VA of the marker address through IOMMU_HWPT_INVALIDATE: the
 * trace shows it with the VMID the kernel gives this vIOMMU's commands.
 * Outside the fault window: the marker must reach the SMMU.
 */
static void trap_marker(int v)
{
	struct fviommu *vi = &S.viommu[v];
	__u64 c[2] = {
		SMMU_CMD_TLBI_NH_VA,
		MARK_TRAPPED + ((__u64)vi->tag << 12),
	};
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = vi->id,
		.data_uptr = (uintptr_t)c,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(c),
		.entry_num = 1,
	};

	cur_op = "HWPT_INVALIDATE(trapped marker)";
	total_cmds++;
	if (ioctl(S.fd, IOMMU_HWPT_INVALIDATE, &cmd))
		report("trapped TLBI_NH_VA: %s", strerror(errno));
	else
		accepted_cmds++;
}

static void op_tegra_viommu_alloc(void)
{
	union {
		struct iommu_viommu_tegra241_cmdqv data;
		__u8 raw[32];
	} u = {};
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
		.data_len = sizeof(u.data),
		.data_uptr = (uintptr_t)&u,
	};
	struct fdev *d = pick_dev();
	int v, want = 0, iommu, p, ret, k, mut;
	struct fviommu *vi;
	static char opname[128];

	for (v = 0; v < MAX_VIOMMU && S.viommu[v].live; v++)
		;
	if (!d || v == MAX_VIOMMU)
		return;
	vi = &S.viommu[v];
	/* The input half of the data is ignored: garbage */
	u.data.out_vintf_mmap_offset = rnd();
	u.data.out_vintf_mmap_length = rnd();
	iommu = d->iommu;
	p = chance(90) ? iommu : !iommu;
	cmd.dev_id = d->dev_id;
	cmd.hwpt_id = S.parent[p].live ? S.parent[p].id : bogus_id();
	mut = chance(25) ? (int)rn(9) : 99;
	switch (mut) {
	case 0:
		cmd.flags = 1u << rn(32);
		break;
	case 1:
		cmd.dev_id = bogus_id();
		break;
	case 2:
		/* A paging HWPT that is no nesting parent */
		if (S.parent[iommu].plain_id) {
			p = iommu;
			cmd.hwpt_id = S.parent[iommu].plain_id;
		}
		break;
	case 3:
		cmd.data_len = 0;
		break;
	case 4:
		cmd.data_len = chance(50) ? 8 : 24;
		break;
	case 5:
		cmd.data_uptr = 0;
		break;
	case 6:
		/* Read fine, answered to a read-only page: EFAULT, last */
		if (ro_page)
			cmd.data_uptr = (uintptr_t)ro_page;
		break;
	case 7:
		cmd.type = IOMMU_VIOMMU_TYPE_DEFAULT;
		break;
	case 8:
		cmd.__reserved = 1 + rn(1000);
		break;
	}
	/* The core's checks, then the SMMUv3 vIOMMU's, then the VINTF's */
	if (cmd.flags || cmd.__reserved)
		want = -EOPNOTSUPP;
	else if (cmd.dev_id != d->dev_id)
		want = -ENOENT;
	else if (cmd.type == IOMMU_VIOMMU_TYPE_DEFAULT)
		want = -EOPNOTSUPP;
	else if (S.parent[iommu].plain_id &&
		 cmd.hwpt_id == S.parent[iommu].plain_id)
		want = -EINVAL;
	else if (!S.parent[p].live)
		want = -ENOENT;
	else if (p != iommu)
		want = -EINVAL;
	else if (cmd.data_len != sizeof(u.data))
		want = -EINVAL;
	else if (!cmd.data_uptr)
		want = -EFAULT;
	else if (ntegra(iommu) >= TEGRA_GUEST_VINTFS)
		want = -ENOSPC;		/* every guest VINTF is taken */
	else if (cmd.data_uptr == (uintptr_t)ro_page)
		want = -EFAULT;
	snprintf(opname, sizeof(opname),
		 "VIOMMU_ALLOC(TEGRA241_CMDQV, dev %u iommu %d, parent %u iommu %d, mutation %d, %d VINTFs taken)",
		 d->dev_id, iommu, cmd.hwpt_id, p, mut, ntegra(iommu));
	cur_op = opname;
	ret = fioctl(S.fd, IOMMU_VIOMMU_ALLOC, &cmd);
	if (!check(ret, want))
		return;
	check_new_id("vIOMMU", cmd.out_viommu_id);
	vintfs_made++;
	memset(vi, 0, sizeof(*vi));
	vi->live = true;
	vi->id = cmd.out_viommu_id;
	vi->iommu = iommu;
	vi->is_tegra = true;
	vi->tag = ++next_tag;
	S.parent[iommu].users++;
	/* Page0 of the VINTF: 64 KiB, page-aligned, no other vIOMMU's */
	if (u.data.out_vintf_mmap_length != VCMDQ_PAGE0_SIZE ||
	    u.data.out_vintf_mmap_offset % pgsz)
		report("VINTF mmap pair: offset 0x%llx length 0x%llx",
		       (unsigned long long)u.data.out_vintf_mmap_offset,
		       (unsigned long long)u.data.out_vintf_mmap_length);
	for (k = 0; k < MAX_VIOMMU; k++)
		if (k != v && S.viommu[k].live && S.viommu[k].mmap_len &&
		    S.viommu[k].mmap_off == u.data.out_vintf_mmap_offset)
			report("VINTF mmap offset 0x%llx is also vIOMMU %u's",
			       (unsigned long long)u.data.out_vintf_mmap_offset,
			       S.viommu[k].id);
	vi->mmap_off = u.data.out_vintf_mmap_offset;
	vi->mmap_len = u.data.out_vintf_mmap_length;
	old_offs[rn(8)] = vi->mmap_off;
	trap_marker(v);
}

/* ---- a device of its SMMU gets a virtual ID: a SID pair ------------- */

/*
 * SET_DEV_ID or IOMMU_VDEVICE_ALLOC of a device without an ID on a tegra
 * vIOMMU of its SMMU: the usual case, which the generic generators reach
 * rarely. Once the VINTF's pairs are used up: ENOSPC, and nothing is
 * recorded.
 */
static void op_tegra_give_id(void)
{
	int v = pick_tegra(false), i, start = rn(S.ndev), k, want = 0, ret;
	struct fdev *d = NULL;
	struct fviommu *vi;
	__u64 vid = chance(80) ? 0x40 + rn(6) : 0x100 + rn(0xfff00);
	bool vdev;

	if (v < 0)
		return;
	vi = &S.viommu[v];
	for (i = 0; i < S.ndev && !d; i++) {
		struct fdev *c = &S.dev[(start + i) % S.ndev];

		if (c->present && c->iommu == vi->iommu && c->viommu < 0)
			d = c;
	}
	if (!d)
		return;
	for (k = 0; k < MAX_VDEV && S.vdev[k].live; k++)
		;
	vdev = k < MAX_VDEV && chance(50);
	if (model_vid_owner(v, vid) >= 0)
		want = -EEXIST;
	else if (vi->nids >= (int)hw.npairs[vi->iommu])
		want = -ENOSPC;
	if (vdev) {
		struct iommu_vdevice_alloc cmd = {
			.size = sizeof(cmd), .viommu_id = vi->id,
			.dev_id = d->dev_id, .virt_id = vid,
		};

		cur_op = "VDEVICE_ALLOC(tegra)";
		ret = fioctl(S.fd, IOMMU_VDEVICE_ALLOC, &cmd);
		if (!check(ret, want))
			return;
		model_vdev_new(k, d, cmd.out_vdevice_id);
	} else {
		struct iommu_viommu_set_dev_id cmd = {
			.size = sizeof(cmd), .viommu_id = vi->id,
			.dev_id = d->dev_id, .id = vid,
		};

		cur_op = "SET_DEV_ID(tegra)";
		ret = fioctl(S.fd, IOMMU_VIOMMU_SET_DEV_ID, &cmd);
		if (!check(ret, want))
			return;
	}
	d->viommu = v;
	d->vid = vid;
	vi->nids++;
	vi->devs_seen |= 1u << (d - S.dev);
}

/* ---- IOMMU_HW_QUEUE_ALLOC ---------------------------------------------- */

/* The queue memory a VCMDQ of @len bytes may get, and what pinning says */
static int pick_vcmdq_mem(__u64 len, __u64 *iova, bool *misaligned,
			  bool *either)
{
	__u64 off;

	*misaligned = false;
	*either = false;
	switch (rn(20)) {
	case 0:		/* the hole */
		*iova = QIOVA_HOLE + (len < pgsz ? rn(pgsz / len) * len : 0);
		return -ENOENT;
	case 1:		/* not readable */
		if (len > pgsz)
			break;
		*iova = QIOVA_WO + rn(pgsz / len) * len;
		return -EPERM;
	case 2:		/* the end of the address space: EOVERFLOW, or ENOENT */
		*iova = ~0ull - 15 - rn(64) * 16;
		return -ENOENT;
	case 3:		/* misaligned */
		*misaligned = true;
		break;
	}
	off = len < pgsz ? rn(2 * pgsz / len) * len : 0;
	if (*misaligned)
		off += 16;
	*iova = QIOVA + off;
	if (off + len > 2 * pgsz)
		return -ENOENT;		/* into the hole */
	if (!S.qmem_mapped)
		return -ENOENT;
	/* Over the page boundary: EFAULT unless physically contiguous */
	*either = off / pgsz != (off + len - 1) / pgsz;
	return 0;
}

static void scrub_markers(int v, const struct fqueue *q);

void op_tegra_hw_queue_alloc(void)
{
	struct iommu_hw_queue_alloc cmd = { .size = sizeof(cmd) };
	int v = pick_viommu(), q, pre, mem, want, ret, tv;
	unsigned int maxlog = hw.cmdq_max_shift + 4;
	unsigned int pglog = __builtin_ctzll(pgsz), nq;
	bool misaligned, either, pow2, ovf;
	struct fviommu *vi;
	static char opname[160];

	cur_op = "HW_QUEUE_ALLOC";
	for (q = 0; q < MAX_QUEUE && S.queue[q].live; q++)
		;
	if (q == MAX_QUEUE)
		return;
	/* Mostly a live tegra vIOMMU (the guest's, when it asked) */
	tv = hwq_target >= 0 ? hwq_target : pick_tegra(false);
	if (tv >= 0 && chance(85))
		v = tv;
	vi = &S.viommu[v];
	nq = vi->live && vi->is_tegra ? hw.nlvcmdq[vi->iommu] : 2;
	cmd.viommu_id = viommu_id_of(v);
	cmd.type = IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV;
	if (chance(5))
		cmd.type = chance(50) ? IOMMU_HW_QUEUE_TYPE_DEFAULT :
			   chance(50) ? IOMMU_HW_QUEUE_TYPE_SELFTEST : 2 + rn(100);
	/* Mostly the next index, so that queues get made */
	cmd.index = chance(70) && vi->live ? (__u32)vi->nqueues :
		    chance(80) ? rn(nq + 1) : rnd();
	switch (rn(20)) {
	case 0:		/* one command */
		cmd.length = 16;
		break;
	case 1:		/* not a power of 2 */
		cmd.length = 32 + 16 * (1 + rn(60));
		if (!(cmd.length & (cmd.length - 1)))
			cmd.length += 16;
		break;
	case 2:		/* more than the SMMU's IDR1.CMDQS */
		cmd.length = 1ull << (maxlog + 1 + rn(3));
		break;
	case 3:		/* the largest: then more than the memory mapped */
		cmd.length = 1ull << maxlog;
		break;
	case 4:		/* both read-write pages */
		cmd.length = 2 * pgsz;
		break;
	default:	/* 2 commands to a page of them */
		cmd.length = 1ull << (5 + rn(pglog - 4));
		break;
	}
	if (chance(3))
		cmd.length = 0;
	mem = pick_vcmdq_mem(cmd.length ? cmd.length : 16,
			     &cmd.nesting_parent_iova, &misaligned, &either);
	if (chance(3))
		cmd.flags = 1u << rn(32);
	pow2 = cmd.length && !(cmd.length & (cmd.length - 1));
	ovf = cmd.length &&
	      cmd.nesting_parent_iova + (cmd.length - 1) < cmd.nesting_parent_iova;
	/* The core, then the driver's limits, before anything is pinned */
	pre = cmd.flags || cmd.type == IOMMU_HW_QUEUE_TYPE_DEFAULT ? -EOPNOTSUPP :
	      !cmd.length ? -EINVAL :
	      !vi->live ? -ENOENT :
	      !vi->is_tegra ? -EOPNOTSUPP :	/* ARM_SMMUV3: no HW queues */
	      cmd.type != IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV ? -EOPNOTSUPP :
	      ovf ? -EOVERFLOW :
	      cmd.index >= nq ? -EINVAL :
	      !pow2 || cmd.length < 32 ? -EINVAL :
	      (unsigned int)__builtin_ctzll(cmd.length) > maxlog ? -EINVAL : 0;
	/* The pin, then the driver: aligned to its size, in order */
	want = pre ? pre : mem ? mem :
	       misaligned ? -EINVAL :
	       queue_of(v, cmd.index) >= 0 ? -EEXIST :
	       cmd.index && queue_of(v, cmd.index - 1) < 0 ? -EINVAL : 0;
	snprintf(opname, sizeof(opname),
		 "HW_QUEUE_ALLOC(vIOMMU %u%s, index %u, iova 0x%llx, length 0x%llx)",
		 cmd.viommu_id, vi->is_tegra ? " tegra" : "", cmd.index,
		 (unsigned long long)cmd.nesting_parent_iova,
		 (unsigned long long)cmd.length);
	cur_op = opname;
	ret = fioctl(S.fd, IOMMU_HW_QUEUE_ALLOC, &cmd);
	/*
	 * Two pages that are not contiguous stop it at the pin; contiguous
	 * ones may still not be aligned to the queue's size in memory
	 */
	if (!pre && !mem && (either || cmd.length > pgsz) &&
	    (ret == -EFAULT || ret == -EINVAL) && ret != want)
		return;
	if (!check(ret, want))
		return;
	check_new_id("HW queue", cmd.out_hw_queue_id);
	memset(&S.queue[q], 0, sizeof(S.queue[q]));
	S.queue[q].live = true;
	S.queue[q].id = cmd.out_hw_queue_id;
	S.queue[q].viommu = v;
	S.queue[q].index = cmd.index;
	S.queue[q].iova = cmd.nesting_parent_iova;
	S.queue[q].log2 = __builtin_ctzll(cmd.length) - 4;
	vi->nqueues++;
	queues_made++;
	scrub_markers(v, &S.queue[q]);
	/* A new queue: reset, disabled, empty, no error pending */
	if (vi->map)
		tegra_mapped(v);
}

/* ---- the guest: the VINTF page0 -------------------------------------- */

static volatile __u32 *reg(int v, unsigned int lidx, unsigned int off)
{
	return (volatile __u32 *)((char *)S.viommu[v].map +
				  lidx * VCMDQ_REGS_STRIDE + off);
}

/* Commands in memory before the queue's registers see them */
static void mmio_barrier(void)
{
#ifdef __aarch64__
	__asm__ volatile("dsb st" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static bool q_in_error(const struct fqueue *q)
{
	return (q->gerror ^ q->gerrorn) & 1;
}

static __u8 *q_mem(const struct fqueue *q)
{
	return qmem + (q->iova - QIOVA);
}

/*
 * What a guest VINTF passes to the SMMU: TLBI_NH_ASID, TLBI_NH_VA and
 * CMD_SYNC, and ATC_INV of a StreamID an enabled SID_MATCH names: one of
 * the vIOMMU's virtual IDs. Anything else stops the queue.
 */
static bool vcmdq_refuses(int v, const __u64 c[2])
{
	switch (c[0] & 0xff) {
	case SMMU_CMD_TLBI_NH_ASID:
	case SMMU_CMD_TLBI_NH_VA:
	case SMMU_CMD_SYNC:
		return false;
	case SMMU_CMD_ATC_INV:
		return model_vid_owner(v, c[0] >> 32) < 0;
	default:
		return true;
	}
}

/* A VCMDQ marker, and its tag */
static bool is_marker(const __u64 c[2], __u32 *tag)
{
	if ((c[0] & 0xff) != SMMU_CMD_TLBI_NH_VA || c[1] < MARK_VCMDQ ||
	    c[1] >= MARK_VCMDQ + (1ull << 32))
		return false;
	*tag = (c[1] - MARK_VCMDQ) >> 12;
	return true;
}

/*
 * Does a queue of another vIOMMU read the queue memory at @off? Queues may
 * share memory (it is all the same VM's), but a marker must only ever be
 * consumed by a queue of its own vIOMMU.
 */
static bool mem_shared(int v, __u64 off)
{
	int k;

	for (k = 0; k < MAX_QUEUE; k++) {
		const struct fqueue *q = &S.queue[k];
		__u64 start = q->iova - QIOVA;

		if (q->live && q->viommu != v && off >= start &&
		    off < start + (VCMDQ_ENT_SIZE << q->log2))
			return true;
	}
	return false;
}

/* A new queue of vIOMMU @v: other vIOMMUs' old markers become CMD_SYNCs */
static void scrub_markers(int v, const struct fqueue *q)
{
	__u32 i, tag;

	for (i = 0; i < 1u << q->log2; i++) {
		__u64 c[2];

		memcpy(c, q_mem(q) + i * VCMDQ_ENT_SIZE, sizeof(c));
		if (is_marker(c, &tag) && tag != S.viommu[v].tag) {
			c[0] = SMMU_CMD_SYNC;
			c[1] = 0;
			memcpy(q_mem(q) + i * VCMDQ_ENT_SIZE, c, sizeof(c));
		}
	}
}

/* The CMDQV consumes queue @q of vIOMMU @v, if it may */
static void sim_consume(int v, struct fqueue *q)
{
	__u32 mask = (2u << q->log2) - 1;

	if (!(q->config & 1) || q_in_error(q))
		return;
	while ((q->cons & mask) != (q->prod & mask)) {
		__u32 idx = q->cons & ((1u << q->log2) - 1), tag;
		__u64 c[2];

		memcpy(c, q_mem(q) + idx * VCMDQ_ENT_SIZE, sizeof(c));
		if (is_marker(c, &tag) && tag != S.viommu[v].tag)
			report("model: tag %u's marker consumed by tag %u's queue",
			       tag, S.viommu[v].tag);
		if (vcmdq_refuses(v, c)) {
			/* CERROR_ILL in CONS.ERR, GERROR toggled */
			q->cons = (q->cons & ~VCMDQ_ERR_MASK) |
				  VCMDQ_CERROR_ILL << VCMDQ_ERR_SHIFT;
			q->gerror ^= 1;
			vcmdq_refused++;
			return;
		}
		q->cons = (q->cons & ~mask) | (((q->cons & mask) + 1) & mask);
		vcmdq_consumed++;
	}
}

/* The model of a 32-bit write to @off of logical queue @lidx */
static void model_write(int v, unsigned int lidx, unsigned int off, __u32 val)
{
	int k = queue_of(v, lidx);
	struct fqueue *q;
	bool was;

	/* A logical queue the VINTF has not been given ignores writes */
	if (k < 0)
		return;
	q = &S.queue[k];
	switch (off) {
	case VCMDQ_CONS:
		q->cons = val & ~(1u << 31);
		break;
	case VCMDQ_PROD:
		q->prod = val;
		sim_consume(v, q);
		break;
	case VCMDQ_CONFIG:
		q->config = val & 1;
		sim_consume(v, q);
		break;
	case VCMDQ_GERRORN:
		was = q_in_error(q);
		q->gerrorn = val & 1;
		if (was && !q_in_error(q))
			sim_consume(v, q);
		break;
	}
}

static void guest_write(int v, unsigned int lidx, unsigned int off, __u32 val)
{
	mmio_barrier();
	*reg(v, lidx, off) = val;
	model_write(v, lidx, off, val);
}

/* Two 32-bit writes to the CMDQV, the low word first */
static void guest_write64(int v, unsigned int lidx, unsigned int off,
			  __u64 val)
{
	mmio_barrier();
	*(volatile __u64 *)reg(v, lidx, off) = val;
	model_write(v, lidx, off, (__u32)val);
	model_write(v, lidx, off + 4, val >> 32);
}

/*
 * Read the registers of logical queue @lidx and compare them with the
 * model: a queue of this vIOMMU as modelled, anything else zero. A queue
 * the guest has not seen since the kernel reset it tells its GERROR (the
 * reset acknowledged it: GERRORN must equal it).
 */
static void check_regs(int v, unsigned int lidx)
{
	static const char *const names[] = {
		"CONS", "PROD", "CONFIG", "STATUS", "GERROR", "GERRORN",
	};
	int k = queue_of(v, lidx), i;
	struct fqueue *q = k >= 0 ? &S.queue[k] : NULL;
	unsigned int roff = 0x18 + 4 * rn(26);
	__u32 got[6], want[6] = {}, extra;
	bool bad = false;

	for (i = 0; i < 6; i++)
		got[i] = *reg(v, lidx, 4 * i);
	extra = *reg(v, lidx, roff);
	if (q && !q->gknown) {
		if (got[4] != got[5] || got[4] > 1)
			report("VCMDQ %u of vIOMMU %u after its reset: GERROR 0x%x GERRORN 0x%x",
			       lidx, S.viommu[v].id, got[4], got[5]);
		q->gerror = q->gerrorn = got[4] & 1;
		q->gknown = true;
	}
	if (q) {
		want[0] = q->cons;
		want[1] = q->prod;
		want[2] = q->config;
		want[3] = q->config & 1;
		want[4] = q->gerror;
		want[5] = q->gerrorn;
	}
	for (i = 0; i < 6; i++)
		bad |= got[i] != want[i];
	if (bad) {
		char buf[256];
		int n = 0;

		for (i = 0; i < 6; i++)
			n += snprintf(buf + n, sizeof(buf) - n, " %s 0x%x/0x%x",
				      names[i], got[i], want[i]);
		report("VINTF page of vIOMMU %u (tag %u), queue %u%s (read/expected):%s",
		       S.viommu[v].id, S.viommu[v].tag, lidx,
		       q ? "" : ", not given to it", buf);
		/* Follow the hardware from here on */
		if (q) {
			q->cons = got[0];
			q->prod = got[1];
			q->config = got[2] & 1;
			q->gerror = got[4] & 1;
			q->gerrorn = got[5] & 1;
		}
	}
	if (extra)
		report("VINTF page of vIOMMU %u, queue %u: offset 0x%x reads 0x%x",
		       S.viommu[v].id, lidx, roff, extra);
}

/* The page was just mapped, or a queue made: all it shows must be right */
void tegra_mapped(int v)
{
	unsigned int lidx, n = hw.nlvcmdq[S.viommu[v].iommu];

	for (lidx = 0; lidx < n + 2; lidx++)
		check_regs(v, lidx);
	check_regs(v, 64 + rn(64));
}

/* A command a hostile guest writes into its queue */
static void guest_cmd(int v, __u64 c[2])
{
	static const unsigned int host_only[] = {
		SMMU_CMD_CFGI_STE, SMMU_CMD_CFGI_ALL, SMMU_CMD_CFGI_CD,
		SMMU_CMD_CFGI_CD_ALL, SMMU_CMD_TLBI_S12_VMALL,
		SMMU_CMD_TLBI_NSNH_ALL, SMMU_CMD_TLBI_NH_ALL,
		SMMU_CMD_TLBI_NH_VAA, SMMU_CMD_TLBI_EL2_ALL,
		SMMU_CMD_TLBI_S2_IPA, SMMU_CMD_PREFETCH_CFG, 0x00, 0x02,
		0x41, 0x7f, 0xff,
	};
	__u32 sid;
	int i;

	/* A StreamID: its own vSID, a pSID, another vIOMMU's, any */
	switch (rn(6)) {
	case 0:
	case 1:
	case 5:
		sid = owned_vid(v);
		break;
	case 2:
		sid = S.dev[rn(S.ndev)].psid;
		break;
	case 3:
		sid = owned_vid(rn(MAX_VIOMMU));
		break;
	default:
		sid = chance(50) ? 0x40 + rn(6) : (__u32)rnd();
		break;
	}
	c[0] = 0;
	c[1] = 0;
	switch (rn(20)) {
	case 0: case 1: case 2: case 3: case 4: case 5:
		/* Its VMID field is the hardware's to fill */
		c[0] = SMMU_CMD_TLBI_NH_VA |
		       SMMU_FIELD(SMMU_CMD_0_ASID, rn(256)) |
		       (chance(30) ? SMMU_FIELD(SMMU_CMD_0_VMID, rnd()) : 0);
		c[1] = (rnd() & 0xfffffffff000ull) | rn(2);
		if (chance(20)) {
			c[0] |= rnd() & (SMMU_CMD_0_TLBI_NUM |
					 SMMU_CMD_0_TLBI_SCALE);
			c[1] |= rnd() & (SMMU_CMD_1_TLBI_TTL |
					 SMMU_CMD_1_TLBI_TG);
		}
		/* Never a marker address (the host check reads them) */
		if ((c[1] >> 32) == (MARK_VCMDQ >> 32) ||
		    (c[1] >> 32) == (MARK_TRAPPED >> 32))
			c[1] ^= 1ull << 40;
		break;
	case 6: case 7:
		c[0] = SMMU_CMD_TLBI_NH_ASID |
		       SMMU_FIELD(SMMU_CMD_0_ASID, rnd()) |
		       (chance(50) ? SMMU_FIELD(SMMU_CMD_0_VMID, rnd()) : 0);
		break;
	case 8: case 9:
		/* Any completion signal: the CMDQV makes it none */
		c[0] = SMMU_CMD_SYNC | (rnd() & 0x3000);
		c[1] = chance(20) ? rnd() & 0xffffffffffcull : 0;
		break;
	case 10: case 11: case 12: case 13:
		/* The whole ATC of a stream */
		c[0] = SMMU_CMD_ATC_INV | SMMU_FIELD(SMMU_CMD_0_SID, sid);
		c[1] = 52;
		break;
	case 14: case 15: case 16:
		c[0] = host_only[rn(16)] | SMMU_FIELD(SMMU_CMD_0_SID, sid);
		c[1] = rn(2);
		break;
	default:
		/* Garbage, but never an address range QEMU cannot end */
		c[0] = rnd();
		c[1] = rnd();
		if ((c[0] & 0xff) == SMMU_CMD_TLBI_NH_VA)
			c[0] |= 0xff;
		for (i = 0; i < 2 && chance(50); i++)
			c[rn(2)] ^= 1ull << rn(64);
		if ((c[0] & 0xff) == SMMU_CMD_TLBI_NH_VA)
			c[0] |= 0xff;
		break;
	}
}

/*
 * Write commands at PROD and move it: mostly past what was written now
 * and then (the queue then runs into old commands or zeros), with the
 * vIOMMU's marker first until it has gone through.
 */
static void guest_submit(int v, struct fqueue *q)
{
	struct fviommu *vi = &S.viommu[v];
	__u32 size = 1u << q->log2, mask = (2u << q->log2) - 1;
	__u32 n = 1 + rn(size < 8 ? size : 8), p = q->prod, prod, i;
	bool at_head = (q->cons & mask) == (p & mask) &&
		       (q->config & 1) && !q_in_error(q);

	for (i = 0; i < n; i++) {
		__u32 slot = (p + i) & (size - 1);
		__u64 c[2];

		if (i == 0 && (!vi->marked || chance(10)) &&
		    !mem_shared(v, q->iova - QIOVA + slot * VCMDQ_ENT_SIZE)) {
			c[0] = SMMU_CMD_TLBI_NH_VA;
			c[1] = MARK_VCMDQ + ((__u64)vi->tag << 12);
			if (at_head)
				vi->marked = true;
		} else if (i == n - 1 && chance(50)) {
			c[0] = SMMU_CMD_SYNC;
			c[1] = 0;
		} else {
			guest_cmd(v, c);
		}
		memcpy(q_mem(q) + slot * VCMDQ_ENT_SIZE, c, sizeof(c));
	}
	vcmdq_written += n;
	prod = (p & ~mask) | ((p + n) & mask);
	if (chance(10))
		prod = (p & ~mask) | ((p + n + 1 + rn(size)) & mask);
	if (chance(3))
		prod = rnd();
	guest_write(v, q->index, VCMDQ_PROD, prod);
}

/* Map the page of a live tegra vIOMMU that has none mapped */
static void guest_map(void)
{
	int k, start = rn(MAX_VIOMMU), ret;
	struct fviommu *vi;
	void *va;

	for (k = 0; k < MAX_VIOMMU; k++) {
		vi = &S.viommu[(start + k) % MAX_VIOMMU];
		if (vi->live && vi->is_tegra && !vi->map)
			break;
	}
	if (k == MAX_VIOMMU)
		return;
	cur_op = "mmap(VINTF page0)";
	fault_window(true);
	va = mmap(NULL, vi->mmap_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		  S.fd, vi->mmap_off);
	ret = va == MAP_FAILED ? -errno : 0;
	fault_window(false);
	if (!check(ret, 0))
		return;
	vi->map = va;
	pages_mapped++;
	tegra_mapped(vi - S.viommu);
}

/* One thing a hostile guest does with its VINTF page */
static void op_tegra_guest(void)
{
	int v = pick_tegra(true), k;
	unsigned int lidx, nq, size;
	struct fqueue *q;
	static char opname[96];

	/* A guest with nothing to drive asks its VMM for it */
	if (v < 0) {
		if (fd_closed)
			return;
		if (pick_tegra(false) >= 0)
			guest_map();
		else
			op_tegra_viommu_alloc();
		return;
	}
	if (!fd_closed && S.viommu[v].nqueues < 2 &&
	    chance(S.viommu[v].nqueues ? 10 : 60)) {
		hwq_target = v;
		op_tegra_hw_queue_alloc();
		hwq_target = -1;
		return;
	}
	nq = hw.nlvcmdq[S.viommu[v].iommu];
	lidx = chance(90) ? rn(nq) : chance(70) ? nq + rn(2) : rn(512);
	/* Mostly a queue it has */
	if (S.viommu[v].nqueues && queue_of(v, lidx) < 0 && chance(85))
		lidx = rn(S.viommu[v].nqueues);
	k = queue_of(v, lidx);
	q = k >= 0 ? &S.queue[k] : NULL;
	size = q ? 1u << q->log2 : 2;
	snprintf(opname, sizeof(opname), "guest VCMDQ %u of vIOMMU %u (tag %u)",
		 lidx, S.viommu[v].id, S.viommu[v].tag);
	cur_op = opname;
	switch (rn(16)) {
	case 0: case 1: case 2: case 3: case 4: case 5:
		/* Like a guest driver, mostly: enabled, its errors handled */
		if (q && !(q->config & 1) && chance(50))
			guest_write(v, lidx, VCMDQ_CONFIG, 1);
		if (q && q_in_error(q) && chance(60)) {
			__u64 c[2] = { SMMU_CMD_SYNC, 0 };

			memcpy(q_mem(q) + (q->cons & (size - 1)) * VCMDQ_ENT_SIZE,
			       c, sizeof(c));
			guest_write(v, lidx, VCMDQ_GERRORN, q->gerror);
		}
		if (q)
			guest_submit(v, q);
		else
			guest_write(v, lidx, VCMDQ_PROD, rn(64));
		break;
	case 6: case 7:
		/* Enable, at any moment; sometimes with other bits */
		guest_write(v, lidx, VCMDQ_CONFIG, chance(90) ? 1 : rnd());
		break;
	case 8:
		guest_write(v, lidx, VCMDQ_CONFIG, chance(90) ? 0 : rnd());
		break;
	case 9: case 10:
		/*
		 * Acknowledge an error as Linux does (the failing command
		 * made a CMD_SYNC), or just flip GERRORN (an error of its
		 * own making, or one left pending)
		 */
		if (q && q_in_error(q) && chance(80)) {
			if (chance(70)) {
				__u64 c[2] = { SMMU_CMD_SYNC, 0 };
				__u32 idx = q->cons & (size - 1);

				memcpy(q_mem(q) + idx * VCMDQ_ENT_SIZE, c,
				       sizeof(c));
			}
			guest_write(v, lidx, VCMDQ_GERRORN, q->gerror);
		} else {
			guest_write(v, lidx, VCMDQ_GERRORN, chance(80) ? rn(2) : rnd());
		}
		break;
	case 11:
		/*
		 * CONS rewritten, then PROD written again (QEMU consumes on a
		 * write to PROD, not to CONS: without it the queue would wait
		 * for the next VINTF enable, which any VINTF's allocation
		 * does), or CONS and PROD at once
		 */
		if (chance(50)) {
			guest_write(v, lidx, VCMDQ_CONS,
				    chance(50) ? rn(4 * size) : rnd());
			if (q)
				guest_write(v, lidx, VCMDQ_PROD, q->prod);
		} else
			guest_write64(v, lidx, VCMDQ_CONS,
				      (q ? q->cons : 0) |
				      (__u64)(rn(4 * size)) << 32);
		break;
	case 12:
		/* Read-only and reserved registers */
		if (chance(50))
			guest_write(v, lidx, chance(50) ? VCMDQ_STATUS : VCMDQ_GERROR,
				    rnd());
		else
			guest_write(v, lidx, 0x18 + 4 * rn(26), rnd());
		break;
	case 13:
		guest_write64(v, lidx, 8 * rn(3), rnd());
		break;
	default:
		break;
	}
	check_regs(v, lidx);
	/* The VMM reads what the CMDQV's interrupt reported */
	if (!fd_closed && chance(20)) {
		k = vevq_of(v, IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV);
		if (k >= 0 && S.vevq[k].fd >= 0)
			tegra_vevent_read(&S.vevq[k]);
	}
}

/* ---- vEVENTs of the VINTF's queue errors ----------------------------- */

/*
 * The CMDQV's interrupt reports a guest VINTF's errors when it likes:
 * records are whole, in sequence, and name only logical queues the VINTF
 * has (bits of LVCMDQ_ERR_MAP).
 */
void tegra_vevent_read(struct fvevq *q)
{
	const size_t hsz = sizeof(struct iommufd_vevent_header);
	const size_t esz = sizeof(struct iommu_vevent_tegra241_cmdqv);
	unsigned int nq = hw.nlvcmdq[S.viommu[q->viommu].iommu];
	__u8 buf[64 * 24];
	size_t off = 0;
	ssize_t n;

	cur_op = "read(TEGRA241_CMDQV vEVENTQ)";
	n = read(q->fd, buf, chance(80) ? sizeof(buf) : hsz + esz);
	if (n < 0) {
		report("read of a TEGRA241_CMDQV vEVENTQ: %s", strerror(errno));
		return;
	}
	while (off < (size_t)n) {
		struct iommufd_vevent_header h;
		struct iommu_vevent_tegra241_cmdqv e;
		__u32 gap;

		if (off + hsz > (size_t)n) {
			report("vEVENTQ read of %zd bytes ends in a header", n);
			return;
		}
		memcpy(&h, buf + off, hsz);
		off += hsz;
		gap = (h.sequence - q->next_seq) & 0x7fffffff;
		if (q->nev && (gap > (1u << 30)))
			report("vEVENT sequence %u after %u", h.sequence,
			       q->next_seq - 1);
		q->nev = 1;	/* a sequence has been seen */
		q->next_seq = (h.sequence + 1) & 0x7fffffff;
		vevents_read++;
		if (h.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
			vevents_lost++;
			continue;
		}
		if (h.flags || off + esz > (size_t)n) {
			report("vEVENT record: flags 0x%x, %zd bytes read",
			       h.flags, n);
			return;
		}
		memcpy(&e, buf + off, esz);
		off += esz;
		cmdqv_events++;
		if (!e.lvcmdq_err_map[0] || e.lvcmdq_err_map[1] ||
		    (nq < 64 && (e.lvcmdq_err_map[0] >> nq)))
			report("CMDQV vEVENT: LVCMDQ error map 0x%llx 0x%llx",
			       (unsigned long long)e.lvcmdq_err_map[0],
			       (unsigned long long)e.lvcmdq_err_map[1]);
	}
}

/*
 * A TEGRA241_CMDQV vEVENTQ for a tegra vIOMMU that has none: the VMM's way
 * to hear of its guest's queue errors (the generic generator picks any
 * vIOMMU and type).
 */
static void op_tegra_veventq(void)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV,
		.veventq_depth = 1 + rn(8),
	};
	int v = pick_tegra(false), k, ret;

	if (v < 0 || vevq_of(v, cmd.type) >= 0)
		return;
	for (k = 0; k < MAX_VEVQ && S.vevq[k].live; k++)
		;
	if (k == MAX_VEVQ)
		return;
	cur_op = "VEVENTQ_ALLOC(TEGRA241_CMDQV)";
	cmd.viommu_id = S.viommu[v].id;
	ret = fioctl(S.fd, IOMMU_VEVENTQ_ALLOC, &cmd);
	if (!check(ret, 0))
		return;
	model_vevq_new(k, v, &cmd);
}

/* ---- the end of a sequence ------------------------------------------ */

/*
 * The host's own command queues still work: an ARM_SMMUV3 vIOMMU of each
 * SMMU takes an invalidation, which the kernel ends with a CMD_SYNC on a
 * queue of the host (VINTF0's VCMDQs). A queue stuck in an error would
 * time out. Outside the fault window and the model.
 */
static void host_queue_check(void)
{
	__u64 c[2][2] = {
		{ SMMU_CMD_TLBI_NH_ALL, 0 },
		{ SMMU_CMD_TLBI_NH_ASID | SMMU_FIELD(SMMU_CMD_0_ASID, 1), 0 },
	};
	int i, k;

	cur_op = "host queue check";
	for (i = 0; i < MAX_IOMMU; i++) {
		struct iommu_viommu_alloc va = {
			.size = sizeof(va),
			.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
			.hwpt_id = S.parent[i].id,
		};
		struct iommu_hwpt_invalidate inv = {
			.size = sizeof(inv),
			.data_uptr = (uintptr_t)c,
			.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
			.entry_len = sizeof(c[0]),
			.entry_num = 2,
		};
		struct iommu_hwpt_alloc parent = {
			.size = sizeof(parent),
			.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
			.pt_id = S.ioas,
		};
		struct fdev *d = NULL;

		for (k = 0; k < S.ndev && !d; k++)
			if (S.dev[k].present && S.dev[k].iommu == i)
				d = &S.dev[k];
		if (!d)
			continue;
		/* A nesting parent of its own if the sequence's is gone */
		if (!S.parent[i].live) {
			parent.dev_id = d->dev_id;
			if (ioctl(S.fd, IOMMU_HWPT_ALLOC, &parent)) {
				report("nest parent of IOMMU %d: %s", i,
				       strerror(errno));
				continue;
			}
			va.hwpt_id = parent.out_hwpt_id;
		}
		va.dev_id = d->dev_id;
		if (ioctl(S.fd, IOMMU_VIOMMU_ALLOC, &va)) {
			report("ARM_SMMUV3 vIOMMU of IOMMU %d: %s", i,
			       strerror(errno));
			continue;
		}
		inv.hwpt_id = va.out_viommu_id;
		if (ioctl(S.fd, IOMMU_HWPT_INVALIDATE, &inv) ||
		    inv.entry_num != 2)
			report("invalidation on IOMMU %d: %s, %u entries",
			       i, strerror(errno), inv.entry_num);
		if (vmm_destroy(S.fd, va.out_viommu_id))
			report("destroy of the ARM_SMMUV3 vIOMMU: %s",
			       strerror(errno));
		if (parent.out_hwpt_id && vmm_destroy(S.fd, parent.out_hwpt_id))
			report("destroy of the nest parent: %s",
			       strerror(errno));
		health_checks++;
	}
}

void tegra_seq_end(void)
{
	int v;

	fd_closed = false;
	host_queue_check();
	for (v = 0; v < MAX_VIOMMU; v++)
		if (S.viommu[v].live && S.viommu[v].is_tegra)
			tegra_name(v);
}

/*
 * The iommufd is closed, but a mapped VINTF page holds the context (and
 * so do the devices still bound): the guest goes on, and devices go away
 * under its queues, until the last munmap() destroys it all with the
 * queues enabled.
 */
void tegra_after_close(void)
{
	int i, n = 5 + rn(20);

	if (pick_tegra(true) < 0)
		return;
	fd_closed = true;
	for (i = 0; i < n; i++) {
		if (chance(10)) {
			struct fdev *d = pick_dev();

			cur_op = "unbind after close";
			if (d)
				dev_unbind(d);
		} else {
			op_tegra_guest();
		}
	}
	fd_closed = false;
}

/* ---- the operations of tegra mode ------------------------------------ */

void tegra_step(void)
{
	switch (rn(50)) {
	case 40: case 41:
		op_tegra_give_id();
		break;
	case 42:
		op_tegra_veventq();
		break;
	case 0: case 1: case 2:
		op_tegra_viommu_alloc();
		break;
	case 3:
		op_viommu_alloc();
		break;
	case 4: case 5: case 6:
		op_set_dev_id(true);
		break;
	case 7: case 8:
		op_set_dev_id(false);
		break;
	case 9: case 10:
		op_vdevice();
		break;
	case 11:
		op_nested_alloc();
		break;
	case 12: case 13:
		op_attach();
		break;
	case 14: case 15:
		op_destroy();
		break;
	case 16:
		op_rebind();
		break;
	case 17: case 18: case 19: case 20:
		op_tegra_hw_queue_alloc();
		break;
	case 21: case 22:
		op_mmap();
		break;
	case 23:
		op_qmem();
		break;
	case 24: case 25:
		op_veventq();
		break;
	case 26: case 27:
		op_invalidate();
		break;
	default:
		op_tegra_guest();
		break;
	}
}

#endif
