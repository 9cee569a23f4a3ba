// SPDX-License-Identifier: GPL-2.0
/*
 * race-viommu: threads that hammer the vIOMMU uAPI at the same time, for a
 * bounded time, so that the kernel's locking (igroup->lock, the vIOMMU's
 * vdevs_rwsem, the SMMU's invalidation mutex, object refcounts) is
 * exercised under lockdep and KASAN on the debug kernel.
 *
 *   race-viommu mock|smmu|tegra [secs=N] [seed=N]
 *
 * One context (an iommufd, an IOAS, a nesting parent, a vIOMMU and two
 * nested HWPTs per IOMMU instance: one that translates through the guest's
 * stage 1 and needs a virtual ID, one that bypasses and does not; the
 * devices) and one thread each for:
 *
 *   set      IOMMU_VIOMMU_SET_DEV_ID of a random device and vSID
 *   unset    IOMMU_VIOMMU_UNSET_DEV_ID
 *   inval    IOMMU_HWPT_INVALIDATE through the vIOMMU, naming the vSIDs
 *   attach   attach a device to one of its vIOMMU's nested HWPTs, or to
 *            the IOAS
 *   destroy  IOMMU_DESTROY of a nested HWPT or a vIOMMU, re-allocating it
 *            when that worked
 *   vdevice  IOMMU_VDEVICE_ALLOC of a random device and vSID (the same
 *            vSIDs as set), or IOMMU_DESTROY of a vDEVICE
 *   vevent   IOMMU_VEVENTQ_ALLOC on a vIOMMU, events of random devices
 *            (mock) read back and checked (strictly rising sequence, a
 *            vSID in range, LOST_EVENTS records without data), or close
 *            and destroy of a queue
 *   unbind   unbind a device (close its VFIO cdev / destroy the mock
 *            device) and bind it again
 *   close    now and then, close the whole context and open a new one
 *            (under a lock the others take for each call: the file's
 *            release then tears down what the threads left behind)
 *
 * tegra (the dual topology, whose SMMUs both have a Tegra241 CMDQV): the
 * vIOMMUs are of type IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, each with its
 * VINTF page0 mmapped from /dev/iommu and VCMDQs (IOMMU_HW_QUEUE_ALLOC) in
 * queue memory mapped in the IOAS; every thread above runs on them (vevent
 * with IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV: the LVCMDQ error maps of the
 * guest queues, which must name logical queues the VINTF has), and:
 *
 *   doorbell two threads that write valid guest commands (TLBI_NH_ASID,
 *            TLBI_NH_VA, ATC_INV of a vSID 0x40-0x43, CMD_SYNC) into a
 *            queue's memory and ring its doorbell (PROD) through page0,
 *            enable and disable the queue and acknowledge its errors, as
 *            a guest does. A ring must end with every command consumed,
 *            with the queue stopped at an ATC_INV (CERROR_ILL: its vSID
 *            has no SID pair just then), or with the queue gone or
 *            disabled under it; a stop at any other command, another
 *            error code, or an enabled queue that consumes nothing, is a
 *            failure, and so is a run without one consumed ring.
 *   hwq      IOMMU_HW_QUEUE_ALLOC of VCMDQs in index order and against it
 *            (an index past the next free one, a taken one, one past the
 *            VINTF's, a length that is no power of two), IOMMU_DESTROY of
 *            them in descending order and against it, and munmap/mmap of
 *            page0. The thread keeps which queues it made, an upper bound
 *            of those that exist (other threads destroy stale ids too):
 *            an allocation the order rules forbid that succeeds, an
 *            EEXIST for an index it never made, or a run without one
 *            allocated queue, is a failure.
 *
 * page0 is touched under the context lock (the close thread unmaps it
 * under the write side) and a per-SMMU lock the hwq thread takes for
 * writing around munmap/mmap. The mapping holds the vIOMMU: its DESTROY is
 * EBUSY then, as with queues, IDs and vEVENTQs. After the run, in a new
 * context, the host's command queues must still work (attach and detach,
 * an ARM_SMMUV3 invalidation through each vIOMMU, a VCMDQ that consumes),
 * and the kernel log of the run must hold no SMMU or CMDQV command queue
 * error (test host-cmdq); the plan's cmdq-errors check reads QEMU's trace.
 *
 * Object ids are shared without locks, so a thread often uses an id that
 * another thread just made stale: that must give an errno, never a crash.
 * Each call's errno must be one the uAPI allows for it; anything else is a
 * failure. Whatever the kernel prints (lockdep, KASAN, WARN) is caught by
 * the console check of the plan, kmemleak by the debug plan's scan.
 * Prints TAP, one test per thread kind, with the counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "iommufd_test.h"
#include "seed.h"
#include "smmuv3.h"
#include "testdev.h"
#include "vcmdq.h"
#include "vmm.h"

#ifndef VMM_HAVE_VIOMMU
int main(void)
{
	printf("TAP version 13\n1..0 # SKIP no vIOMMU uAPI in the headers\n");
	return 4;
}
#else

#define MAX_DEV		4
#define NR_IOMMU	2

enum { SMMU, MOCK, TEGRA };
static int mode;

struct rdev {
	pthread_rwlock_t lock;	/* held for writing while (un)binding */
	int iommu;
	_Atomic __u32 dev_id;
	__u32 stdev_id;
	struct vmm_dev vd;
	struct vmm_pci pci;
};

static struct {
	pthread_rwlock_t lock;	/* held for writing by the close thread */
	int fd;
	__u32 ioas;
	int ndev;
	struct rdev dev[MAX_DEV];
	__u32 parent[NR_IOMMU];
	_Atomic __u32 viommu[NR_IOMMU];
	_Atomic __u32 nested[NR_IOMMU];		/* translates: needs an ID */
	_Atomic __u32 bypass[NR_IOMMU];		/* needs none */
	_Atomic __u32 vdev[8];			/* vDEVICE ids, 0 = free slot */
	/* a vEVENTQ per vIOMMU, owned by the vevent thread */
	__u32 veventq[NR_IOMMU];
	int veventq_fd[NR_IOMMU];
	__u32 last_seq[NR_IOMMU];
	bool seen_seq[NR_IOMMU];
} C;

static atomic_bool stop;
static time_t deadline;

/* The thread kinds of every mode, then those of tegra only */
enum { T_SET, T_UNSET, T_INVAL, T_ATTACH, T_DESTROY, T_UNBIND, T_VDEV,
	T_VEVENT, T_CLOSE, NR_T_BASE, T_DOORBELL = NR_T_BASE, T_HWQ, NR_T };
static const char *const tname[NR_T] = {
	"set", "unset", "inval", "attach", "destroy", "unbind", "vdevice",
	"vevent", "close", "doorbell", "hwq",
};
static atomic_ulong calls[NR_T], oks[NR_T], bad[NR_T];
#define NR_DOORBELL	2	/* doorbell threads */

/*
 * tegra: per SMMU, the VINTF page0 of its vIOMMU and the VCMDQs of the hwq
 * thread. Queue k of SMMU i always lives in the same slot of qmem (mapped
 * at QIOVA in every context's IOAS), with 1 << qlog2(k) entries; a shadow
 * of the opcodes there tells a doorbell thread which command a queue
 * stopped at. The memory starts full of CMD_SYNCs, so a queue that
 * consumes more than one ring wrote finds valid commands only.
 */
#define MAX_LVQ		8
#define QSLOT		1024u		/* bytes: the largest queue */
#define QIOVA		0x40000000ull
#define QOFF(i, k)	(((i) * MAX_LVQ + (k)) * QSLOT)
#define QOFF_SCRATCH(i)	QOFF(NR_IOMMU, i)	/* past every SMMU's slots */
#define QMEM_SLOTS	((NR_IOMMU + 1) * MAX_LVQ)

static unsigned int qlog2(unsigned int k)
{
	return 4 + k % 3;		/* 16, 32 or 64 commands */
}

static struct tg {
	/* page0: read side for a doorbell, write side for munmap/mmap */
	pthread_rwlock_t map_lock;
	void *page0;
	/*
	 * Held while the vIOMMU of this SMMU changes: its id in C.viommu,
	 * its page0's mmap pair and the generation, which counts vIOMMUs
	 */
	pthread_mutex_t lock;
	__u64 mmap_off, mmap_len;
	unsigned long gen;
	/* A second vIOMMU the destroy thread makes and destroys */
	__u32 scratch;
	__u64 sc_off, sc_len;
	/* The hwq thread's: queues 0..nq-1 were made, ids, for which gen */
	_Atomic unsigned int nq;
	__u32 hwq[MAX_LVQ];
	unsigned long hwq_gen;
	unsigned int nlvq;		/* logical queues of a VINTF */
	/* One doorbell thread per queue at a time; shadow of its opcodes */
	pthread_mutex_t qlock[MAX_LVQ];
	__u8 shadow[MAX_LVQ][QSLOT / VCMDQ_ENT_SIZE];
} T[NR_IOMMU];
static __u8 *qmem;
static size_t qmem_len;

/* What the doorbell and hwq threads did, beyond calls and successes */
enum { D_RING, D_CONSUMED, D_REFUSED, D_GONE, D_ENABLE, D_DISABLE, D_ACK,
	D_NOPAGE, H_ALLOC, H_DESTROY, H_MMAP, H_MUNMAP, H_RACED,
	H_RESYNC, H_SCRATCH, H_ALLOC_UP, V_DESTROYED, V_RECORDS, NR_D };
static atomic_ulong dcount[NR_D];

static __u64 seed;
static int npci;
static struct vmm_pci pcis[MAX_DEV];
static int pci_iommu[MAX_DEV];

static __u32 rnd(__u64 *s)
{
	return xorshift64s(s) >> 32;
}

/* Count a call; an errno outside @ok (0-terminated list) is a failure. */
static void account(int t, int ret, const int *ok)
{
	calls[t]++;
	if (!ret) {
		oks[t]++;
		return;
	}
	for (; *ok; ok++)
		if (-ret == *ok)
			return;
	if (bad[t]++ < 5)
		printf("# %s: unexpected %s (seed 0x%" PRIx64 ")\n", tname[t],
		       strerror(-ret), (uint64_t)seed);
}

/* ---- the context ------------------------------------------------------ */

static int dev_bind(struct rdev *d)
{
	__u32 dev_id;
	int ret;

	if (mode == MOCK)
		ret = mock_dev_add(C.fd, C.ioas, d->iommu, &dev_id,
				   &d->stdev_id, NULL);
	else
		ret = edu_dev_bind(&d->vd, &d->pci, C.fd);
	if (ret)
		return ret;
	d->dev_id = mode == MOCK ? dev_id : d->vd.dev_id;
	return 0;
}

static void dev_unbind(struct rdev *d)
{
	if (mode == MOCK) {
		if (d->dev_id)
			vmm_destroy(C.fd, d->stdev_id);
	} else {
		vmm_dev_close(&d->vd);
	}
	d->dev_id = 0;
}

/*
 * A vIOMMU for SMMU @i. tegra: the caller holds T[i].lock, which covers
 * the page0 mmap pair recorded here.
 */
static int viommu_alloc(int i, __u32 *id, __u64 *off, __u64 *len)
{
	struct iommu_viommu_tegra241_cmdqv data = {};
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = mode == MOCK ? IOMMU_VIOMMU_TYPE_SELFTEST :
			mode == TEGRA ? IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV :
					IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.hwpt_id = C.parent[i],
	};
	int d;

	int ret;

	for (d = 0; d < C.ndev; d++)
		if (C.dev[d].iommu == i && C.dev[d].dev_id)
			break;
	if (d == C.ndev)
		return -ENODEV;
	cmd.dev_id = C.dev[d].dev_id;
	if (mode == TEGRA) {
		cmd.data_uptr = (uintptr_t)&data;
		cmd.data_len = sizeof(data);
	}
	ret = testdev_ioctl(C.fd, IOMMU_VIOMMU_ALLOC, &cmd);
	if (ret)
		return ret;
	*id = cmd.out_viommu_id;
	*off = data.out_vintf_mmap_offset;
	*len = data.out_vintf_mmap_length;
	return 0;
}

static __u32 alloc_viommu(int i)
{
	__u64 off, len;
	__u32 id;

	if (viommu_alloc(i, &id, &off, &len))
		return 0;
	if (mode == TEGRA) {
		T[i].mmap_off = off;
		T[i].mmap_len = len;
	}
	return id;
}

/* tegra: a new vIOMMU for SMMU @i, a new generation */
static void renew_viommu(int i)
{
	pthread_mutex_lock(&T[i].lock);
	T[i].gen++;
	T[i].mmap_off = T[i].mmap_len = 0;
	C.viommu[i] = alloc_viommu(i);
	pthread_mutex_unlock(&T[i].lock);
}

/* A nested HWPT that translates (S1 vSTE), or one that bypasses */
static __u32 alloc_nested(int i, __u32 viommu, bool translate)
{
	struct iommu_hwpt_selftest mock = {
		.iotlb = translate ? IOMMU_TEST_IOTLB_DEFAULT :
				     IOMMU_TEST_IOTLB_NO_TRANSLATE,
	};
	__le64 ste[2];
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.pt_id = viommu,
	};
	int d;

	for (d = 0; d < C.ndev; d++)
		if (C.dev[d].iommu == i && C.dev[d].dev_id)
			break;
	if (d == C.ndev || !viommu)
		return 0;
	cmd.dev_id = C.dev[d].dev_id;
	if (mode == MOCK) {
		cmd.data_type = IOMMU_HWPT_DATA_SELFTEST;
		cmd.data_uptr = (uintptr_t)&mock;
		cmd.data_len = sizeof(mock);
	} else {
		/*
		 * The guest's STE says bypass (stage 2 only, no CD to fetch),
		 * or stage 1 with a CD nothing fetches: no device DMAs here
		 */
		if (translate)
			smmu_ste_s1(ste, 0x1000);
		else
			smmu_ste_cfg(ste, SMMU_STE_0_CFG_BYPASS);
		cmd.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3;
		cmd.data_uptr = (uintptr_t)ste;
		cmd.data_len = sizeof(ste);
	}
	return testdev_ioctl(C.fd, IOMMU_HWPT_ALLOC, &cmd) ? 0 : cmd.out_hwpt_id;
}

/* ---- tegra: page0 and VCMDQs -------------------------------------------- */

static int hwq_alloc(__u32 viommu, int i, unsigned int k, __u64 len,
		     __u32 *id)
{
	struct iommu_hw_queue_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu,
		.type = IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
		.index = k,
		/* Its slot (an index past the VINTF's is refused first) */
		.nesting_parent_iova = QIOVA + QOFF(i, k % MAX_LVQ),
		.length = len,
	};
	int ret = testdev_ioctl(C.fd, IOMMU_HW_QUEUE_ALLOC, &cmd);

	if (!ret)
		*id = cmd.out_hw_queue_id;
	return ret;
}

static __u64 qlen(unsigned int k)
{
	return (__u64)VCMDQ_ENT_SIZE << qlog2(k);
}

/* The logical queues of a VINTF of SMMU @i, from IOMMU_GET_HW_INFO */
static int query_nlvq(int i, __u32 dev_id)
{
	struct iommu_hw_info_tegra241_cmdqv info = {};
	__u32 len = sizeof(info), type = 0;
	int ret;

	ret = vmm_hw_info_type(C.fd, dev_id, IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV,
			       &info, &len, &type, NULL);
	if (ret)
		return ret;
	if (info.log2vcmdqs < 1 || 1u << info.log2vcmdqs > MAX_LVQ)
		return -ERANGE;
	T[i].nlvq = 1u << info.log2vcmdqs;
	return 0;
}

/* Map page0 of SMMU @i's vIOMMU: 0 or -errno. Under T[i].map_lock (write) */
static int page0_map(int i, __u64 off, __u64 len)
{
	void *p;

	if (len != VCMDQ_PAGE0_SIZE)
		return -ERANGE;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, C.fd, off);
	if (p == MAP_FAILED)
		return -errno;
	T[i].page0 = p;
	return 0;
}

static void page0_unmap(int i)
{
	if (T[i].page0 && munmap(T[i].page0, VCMDQ_PAGE0_SIZE))
		bad[T_HWQ]++;
	T[i].page0 = NULL;
}

/*
 * tegra's part of a new context: the queue memory in the IOAS, and per
 * SMMU page0 mapped and queue 0 allocated, so that doorbells ring at once
 */
static int ctx_open_tegra(void)
{
	int i, d, ret;

	ret = vmm_ioas_map(C.fd, C.ioas, qmem, qmem_len, QIOVA,
			   IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE);
	if (ret)
		return ret;
	for (i = 0; i < NR_IOMMU; i++) {
		if (!T[i].nlvq) {
			for (d = 0; d < C.ndev && C.dev[d].iommu != i; d++)
				;
			ret = query_nlvq(i, C.dev[d].dev_id);
			if (ret)
				return ret;
		}
		T[i].scratch = T[i].sc_len = 0;
		ret = page0_map(i, T[i].mmap_off, T[i].mmap_len);
		if (ret)
			return ret;
		ret = hwq_alloc(C.viommu[i], i, 0, qlen(0), &T[i].hwq[0]);
		if (ret)
			return ret;
		T[i].nq = 1;
		T[i].hwq_gen = T[i].gen;
	}
	return 0;
}

static int ctx_open(void)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	int i, ret;

	C.fd = vmm_iommufd_open();
	if (C.fd < 0)
		return C.fd;
	ret = testdev_ioctl(C.fd, IOMMU_IOAS_ALLOC, &ioas);
	if (ret)
		return ret;
	C.ioas = ioas.out_ioas_id;
	for (i = 0; i < C.ndev; i++) {
		ret = dev_bind(&C.dev[i]);
		if (ret)
			return ret;
	}
	for (i = 0; i < NR_IOMMU; i++) {
		struct iommu_hwpt_alloc cmd = {
			.size = sizeof(cmd),
			.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
			.pt_id = C.ioas,
		};
		int d;

		for (d = 0; d < C.ndev && C.dev[d].iommu != i; d++)
			;
		cmd.dev_id = C.dev[d].dev_id;
		ret = testdev_ioctl(C.fd, IOMMU_HWPT_ALLOC, &cmd);
		if (ret)
			return ret;
		C.parent[i] = cmd.out_hwpt_id;
		renew_viommu(i);
		C.nested[i] = alloc_nested(i, C.viommu[i], true);
		C.bypass[i] = alloc_nested(i, C.viommu[i], false);
		if (!C.viommu[i] || !C.nested[i] || !C.bypass[i])
			return -ENODEV;
		C.veventq[i] = 0;
		C.veventq_fd[i] = -1;
		C.seen_seq[i] = false;
	}
	for (i = 0; i < (int)(sizeof(C.vdev) / sizeof(C.vdev[0])); i++)
		C.vdev[i] = 0;
	return mode == TEGRA ? ctx_open_tegra() : 0;
}

/* Teardown cannot fail: close in a random order. */
static void ctx_close(__u64 *s)
{
	bool queues_first = rnd(s) & 1;
	bool unmap_first = mode == TEGRA && (rnd(s) & 1);
	int i;

	/*
	 * A mapping holds the file: unmapped first, the close releases the
	 * context; unmapped last, the munmap does
	 */
	for (i = 0; i < NR_IOMMU; i++)
		if (unmap_first)
			page0_unmap(i);

	/* An open vEVENTQ file keeps the context alive until it is closed */
	for (i = 0; i < NR_IOMMU; i++) {
		if (queues_first && C.veventq_fd[i] >= 0)
			close(C.veventq_fd[i]);
	}
	if (rnd(s) & 1) {
		close(C.fd);
		for (i = 0; i < C.ndev; i++)
			if (mode != MOCK)
				vmm_dev_close(&C.dev[i].vd);
	} else {
		for (i = 0; i < C.ndev; i++)
			if (rnd(s) & 1)
				dev_unbind(&C.dev[i]);
		close(C.fd);
		for (i = 0; i < C.ndev; i++)
			if (mode != MOCK)
				vmm_dev_close(&C.dev[i].vd);
	}
	for (i = 0; i < NR_IOMMU; i++) {
		page0_unmap(i);
		T[i].nq = 0;
		if (!queues_first && C.veventq_fd[i] >= 0)
			close(C.veventq_fd[i]);
		C.veventq_fd[i] = -1;
	}
	C.fd = -1;
}

/* ---- the threads ------------------------------------------------------- */

static bool running(void)
{
	if (time(NULL) >= deadline)
		stop = true;
	return !stop;
}

static struct rdev *pick(__u64 *s)
{
	return &C.dev[rnd(s) % C.ndev];
}

static void do_set(__u64 *s, bool set)
{
	static const int ok_set[] = { EEXIST, ENOENT, EINVAL, ENOSPC, 0 };
	static const int ok_unset[] = { EINVAL, EBUSY, ENOENT, 0 };
	struct rdev *d = pick(s);
	struct iommu_viommu_set_dev_id cmd = {
		.size = sizeof(cmd),
		.viommu_id = C.viommu[d->iommu],
		.dev_id = d->dev_id,
		.id = 0x40 + rnd(s) % 4,
	};

	account(set ? T_SET : T_UNSET,
		testdev_ioctl(C.fd, set ? IOMMU_VIOMMU_SET_DEV_ID :
					  IOMMU_VIOMMU_UNSET_DEV_ID, &cmd),
		set ? ok_set : ok_unset);
}

static void do_inval(__u64 *s)
{
	static const int ok[] = { EIO, ENOENT, 0 };
	int i = rnd(s) % NR_IOMMU, n = 1 + rnd(s) % 16, k, ret;
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = C.viommu[i],
		.entry_num = n,
	};
	union {
		struct iommu_viommu_invalidate_selftest mock[16];
		__le64 smmu[16][2];
	} e;

	for (k = 0; k < n; k++) {
		__u32 vsid = 0x40 + rnd(s) % 4;

		if (mode == MOCK) {
			e.mock[k].flags = IOMMU_TEST_INVALIDATE_FLAG_ALL;
			e.mock[k].vdev_id = vsid;
			e.mock[k].cache_id = 0;
		} else if (rnd(s) & 1) {
			smmu_cmd_cfgi_cd(e.smmu[k], vsid, 0, true);
		} else {
			smmu_cmd_tlbi_nh_va(e.smmu[k], 1, 0x1000ull * k, true);
		}
	}
	cmd.data_uptr = (uintptr_t)&e;
	if (mode == MOCK) {
		cmd.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST;
		cmd.entry_len = sizeof(e.mock[0]);
	} else {
		cmd.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;
		cmd.entry_len = sizeof(e.smmu[0]);
	}
	ret = testdev_ioctl(C.fd, IOMMU_HWPT_INVALIDATE, &cmd);
	if (cmd.entry_num > (__u32)n || (!ret && cmd.entry_num != (__u32)n))
		ret = -ERANGE;	/* never an allowed answer */
	account(T_INVAL, ret, ok);
}

static void do_attach(__u64 *s)
{
	/* EINVAL: a VFIO cdev whose device is being unbound */
	static const int ok[] = { ENOENT, EINVAL, EBUSY, 0 };
	struct rdev *d = pick(s);
	unsigned int which = rnd(s) % 4;
	__u32 pt = which == 0 ? C.ioas :
		   which == 1 ? C.bypass[d->iommu] : C.nested[d->iommu];
	int ret;

	pthread_rwlock_rdlock(&d->lock);
	if (mode == MOCK)
		ret = mock_dev_replace(C.fd, d->stdev_id, pt, NULL);
	else if (d->vd.fd >= 0)
		ret = vmm_dev_attach(&d->vd, pt, NULL);
	else
		ret = -ENOENT;
	pthread_rwlock_unlock(&d->lock);
	account(T_ATTACH, ret, ok);
}

static int destroy_id(__u32 id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return testdev_ioctl(C.fd, IOMMU_DESTROY, &cmd);
}

/*
 * tegra: as a VMM tears a vIOMMU down, its nested HWPTs first. It still
 * stays while mapped, or while it has queues, IDs or a vEVENTQ (EBUSY).
 */
static void destroy_viommu(int i)
{
	static const int ok[] = { EBUSY, ENOENT, 0 };
	int rn = destroy_id(C.nested[i]), rb = destroy_id(C.bypass[i]), ret;

	account(T_DESTROY, rn, ok);
	account(T_DESTROY, rb, ok);
	ret = destroy_id(C.viommu[i]);
	account(T_DESTROY, ret, ok);
	if (!ret) {
		dcount[V_DESTROYED]++;
		renew_viommu(i);
	}
	if (!ret || !rn)
		C.nested[i] = alloc_nested(i, C.viommu[i], true);
	if (!ret || !rb)
		C.bypass[i] = alloc_nested(i, C.viommu[i], false);
}

/*
 * tegra: a second vIOMMU on SMMU @i (its own VINTF), made or destroyed; the
 * hwq thread maps its page0 and makes a queue on it meanwhile (EBUSY)
 */
static void scratch_toggle(int i)
{
	static const int ok_alloc[] = { ENOENT, ENOSPC, ENODEV, 0 };
	static const int ok_destroy[] = { EBUSY, ENOENT, 0 };
	__u64 off = 0, len = 0;
	__u32 id;
	int ret;

	pthread_mutex_lock(&T[i].lock);
	id = T[i].scratch;
	if (!id) {
		ret = viommu_alloc(i, &id, &off, &len);
		if (!ret) {
			T[i].scratch = id;
			T[i].sc_off = off;
			T[i].sc_len = len;
		}
		pthread_mutex_unlock(&T[i].lock);
		/* ENODEV: no device of the SMMU is bound just now */
		if (ret != -ENODEV)
			account(T_DESTROY, ret, ok_alloc);
		return;
	}
	pthread_mutex_unlock(&T[i].lock);
	ret = destroy_id(id);
	account(T_DESTROY, ret, ok_destroy);
	if (ret == -EBUSY)
		return;
	if (!ret)
		dcount[V_DESTROYED]++;
	pthread_mutex_lock(&T[i].lock);
	if (T[i].scratch == id)
		T[i].scratch = T[i].sc_len = 0;
	pthread_mutex_unlock(&T[i].lock);
}

static void do_destroy(__u64 *s)
{
	static const int ok[] = { EBUSY, ENOENT, 0 };
	int i = rnd(s) % NR_IOMMU, ret;
	unsigned int what = rnd(s) % 6;
	struct iommu_destroy cmd = {
		.size = sizeof(cmd),
		.id = what == 0 ? C.viommu[i] :
		      what == 1 ? C.bypass[i] : C.nested[i],
	};

	if (mode == TEGRA && what == 0) {
		if (rnd(s) & 1)
			destroy_viommu(i);
		else
			scratch_toggle(i);
		return;
	}
	ret = testdev_ioctl(C.fd, IOMMU_DESTROY, &cmd);
	account(T_DESTROY, ret, ok);
	if (ret)
		return;
	if (what == 0) {
		renew_viommu(i);
		C.nested[i] = alloc_nested(i, C.viommu[i], true);
		C.bypass[i] = alloc_nested(i, C.viommu[i], false);
	} else if (what == 1) {
		C.bypass[i] = alloc_nested(i, C.viommu[i], false);
	} else {
		C.nested[i] = alloc_nested(i, C.viommu[i], true);
	}
}

/*
 * A vDEVICE owns a vSID the set thread also uses; its DESTROY races the
 * attach that holds it (EBUSY) and the unbind that destroys it (ENOENT).
 */
static void do_vdevice(__u64 *s)
{
	static const int ok_alloc[] = { EEXIST, ENOENT, EINVAL, ENOSPC, 0 };
	static const int ok_destroy[] = { EBUSY, ENOENT, 0 };
	unsigned int slot = rnd(s) % (sizeof(C.vdev) / sizeof(C.vdev[0]));
	__u32 id = C.vdev[slot];
	int ret;

	if (!id || rnd(s) % 3 == 0) {
		struct rdev *d = pick(s);
		struct iommu_vdevice_alloc cmd = {
			.size = sizeof(cmd),
			.viommu_id = C.viommu[d->iommu],
			.dev_id = d->dev_id,
			.virt_id = 0x40 + rnd(s) % 4,
		};

		ret = testdev_ioctl(C.fd, IOMMU_VDEVICE_ALLOC, &cmd);
		account(T_VDEV, ret, ok_alloc);
		/* A slot's old vDEVICE, if any, is left to unbind and close */
		if (!ret)
			C.vdev[slot] = cmd.out_vdevice_id;
	} else {
		struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

		ret = testdev_ioctl(C.fd, IOMMU_DESTROY, &cmd);
		account(T_VDEV, ret, ok_destroy);
		if (ret != -EBUSY)
			C.vdev[slot] = 0;
	}
}

/* Read a vIOMMU's queue, checking every record; returns 0 or -ERANGE */
static int read_vevents(int i)
{
	union {
		struct iommufd_vevent_header hdr;
		__u8 b[512];
	} buf;
	ssize_t n = read(C.veventq_fd[i], buf.b, sizeof(buf));
	size_t off = 0;

	if (n < 0)
		return -errno;
	while (off + sizeof(struct iommufd_vevent_header) <= (size_t)n) {
		struct iommufd_vevent_header h;
		__u32 virt_id = 0;

		memcpy(&h, buf.b + off, sizeof(h));
		off += sizeof(h);
		/* Sequences only rise (no wrap in a run this short) */
		if (C.seen_seq[i] && h.sequence <= C.last_seq[i])
			return -ERANGE;
		C.seen_seq[i] = true;
		C.last_seq[i] = h.sequence;
		if (h.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)
			continue;
		if (!h.flags && mode == TEGRA) {
			struct iommu_vevent_tegra241_cmdqv ev;

			/* A new error of a logical queue the VINTF has */
			if (off + sizeof(ev) > (size_t)n)
				return -ERANGE;
			memcpy(&ev, buf.b + off, sizeof(ev));
			off += sizeof(ev);
			if (!ev.lvcmdq_err_map[0] || ev.lvcmdq_err_map[1] ||
			    le64toh(ev.lvcmdq_err_map[0]) >> T[i].nlvq)
				return -ERANGE;
			dcount[V_RECORDS]++;
			continue;
		}
		if (h.flags || mode != MOCK)
			return -ERANGE;	/* no DMA here: no SMMU event */
		memcpy(&virt_id, buf.b + off, sizeof(virt_id));
		off += sizeof(struct iommu_viommu_event_selftest);
		if (virt_id < 0x40 || virt_id > 0x43)
			return -ERANGE;
	}
	return off == (size_t)n ? 0 : -ERANGE;
}

static void do_vevent(__u64 *s)
{
	static const int ok_alloc[] = { EEXIST, ENOENT, 0 };
	static const int ok_use[] = { ENOENT, EOPNOTSUPP, EOVERFLOW, 0 };
	int i = rnd(s) % NR_IOMMU, ret;
	unsigned int op = rnd(s) % 16;

	if (C.veventq_fd[i] < 0) {
		struct iommu_veventq_alloc cmd = {
			.size = sizeof(cmd),
			.viommu_id = C.viommu[i],
			.type = mode == MOCK ? IOMMU_VEVENTQ_TYPE_SELFTEST :
				mode == TEGRA ? IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV :
						IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
			.veventq_depth = 1 + rnd(s) % 8,
		};

		ret = testdev_ioctl(C.fd, IOMMU_VEVENTQ_ALLOC, &cmd);
		account(T_VEVENT, ret, ok_alloc);
		if (!ret) {
			C.veventq[i] = cmd.out_veventq_id;
			C.veventq_fd[i] = cmd.out_veventq_fd;
			C.seen_seq[i] = false;
		}
		return;
	}
	if (op == 0) {
		/* The file holds the queue: after the close, DESTROY frees it */
		struct iommu_destroy cmd = {
			.size = sizeof(cmd), .id = C.veventq[i],
		};

		close(C.veventq_fd[i]);
		C.veventq_fd[i] = -1;
		account(T_VEVENT, testdev_ioctl(C.fd, IOMMU_DESTROY, &cmd),
			(const int[]){ 0 });
		return;
	}
	if (mode == MOCK && op < 10) {
		struct iommu_test_cmd cmd = {
			.size = sizeof(cmd),
			.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
			.trigger_vevent.dev_id = pick(s)->dev_id,
		};

		account(T_VEVENT, testdev_ioctl(C.fd, IOMMU_TEST_CMD, &cmd), ok_use);
		return;
	}
	ret = read_vevents(i);
	account(T_VEVENT, ret, ok_use);
}

static void do_unbind(__u64 *s)
{
	static const int ok[] = { ENOMEM, 0 };
	struct rdev *d = pick(s);
	int ret;

	pthread_rwlock_wrlock(&d->lock);
	dev_unbind(d);
	usleep(rnd(s) % 2000);
	ret = dev_bind(d);
	pthread_rwlock_unlock(&d->lock);
	account(T_UNBIND, ret, ok);
}

/* ---- tegra: the guest's doorbells, the VMM's queues --------------------- */

/* A VCMDQ's register in page0 */
static __u32 rreg(volatile __u32 *r, unsigned int off)
{
	return __atomic_load_n(&r[off / 4], __ATOMIC_ACQUIRE);
}

static void wreg(volatile __u32 *r, unsigned int off, __u32 val)
{
	__atomic_store_n(&r[off / 4], val, __ATOMIC_RELEASE);
}

static bool db_pending(volatile __u32 *r)
{
	return ((rreg(r, VCMDQ_GERROR) ^ rreg(r, VCMDQ_GERRORN)) & 1) != 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * QEMU's CMDQV consumes on the register write; hardware within
 * microseconds. Longer than this, an enabled queue is stuck.
 */
#define DB_POLL_NS	(200ull * 1000 * 1000)

/* Write command @cmd (opcode @op) at entry @idx of queue @k of SMMU @i */
static void db_put(int i, unsigned int k, unsigned int idx, const __le64 cmd[2],
		   __u8 op)
{
	__le64 *ent = (__le64 *)(qmem + QOFF(i, k)) + 2 * idx;

	__atomic_store_n(&ent[0], cmd[0], __ATOMIC_RELAXED);
	__atomic_store_n(&ent[1], cmd[1], __ATOMIC_RELAXED);
	T[i].shadow[k][idx] = op;
}

/* A valid guest command: what a guest's VCMDQ may issue */
static __u8 db_cmd(__u64 *s, __le64 cmd[2])
{
	switch (rnd(s) % 4) {
	case 0:
		smmu_cmd_tlbi_nh_asid(cmd, 1 + rnd(s) % 4);
		return SMMU_CMD_TLBI_NH_ASID;
	case 1:
		smmu_cmd_tlbi_nh_va(cmd, 1 + rnd(s) % 4,
				    (__u64)(rnd(s) % 256) << 12, rnd(s) & 1);
		return SMMU_CMD_TLBI_NH_VA;
	case 2:
		/* The whole ATC of a vSID the set and vdevice threads use */
		cmd[0] = htole64(SMMU_CMD_ATC_INV |
				 SMMU_FIELD(SMMU_CMD_0_SID, 0x40 + rnd(s) % 4));
		cmd[1] = htole64(52);
		return SMMU_CMD_ATC_INV;
	default:
		smmu_cmd_op(cmd, SMMU_CMD_SYNC);
		return SMMU_CMD_SYNC;
	}
}

/*
 * Queue @k of SMMU @i flags an error: it must have stopped at an ATC_INV
 * the VINTF refused (CERROR_ILL: no SID pair for its vSID just then).
 * Acknowledge it as Linux does: a CMD_SYNC in its place, GERRORN.
 */
static void db_ack(int i, unsigned int k, volatile __u32 *r)
{
	unsigned int size = 1u << qlog2(k);
	__u32 cons = rreg(r, VCMDQ_CONS), idx = cons & (size - 1);
	__u8 op = T[i].shadow[k][idx];
	__le64 sync[2];

	/* Gone or reset meanwhile (page0 reads 0 then): nothing to judge */
	if (!db_pending(r)) {
		dcount[D_GONE]++;
		return;
	}
	if (VCMDQ_CONS_ERR(cons) == VCMDQ_CERROR_ILL && op == SMMU_CMD_ATC_INV) {
		dcount[D_REFUSED]++;
	} else if (bad[T_DOORBELL]++ < 5) {
		printf("# doorbell: SMMU %d queue %u stopped at entry %u, opcode 0x%02x, error %u (seed 0x%" PRIx64 ")\n",
		       i, k, idx, op, VCMDQ_CONS_ERR(cons), (uint64_t)seed);
	}
	smmu_cmd_op(sync, SMMU_CMD_SYNC);
	db_put(i, k, idx, sync, SMMU_CMD_SYNC);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wreg(r, VCMDQ_GERRORN, rreg(r, VCMDQ_GERROR));
	dcount[D_ACK]++;
}

/*
 * A guest at its VCMDQ: an error to acknowledge, a queue to enable (or now
 * and then to disable), or commands to write and the doorbell to ring.
 * Queues come and go under it (the hwq thread, stale ids): a queue that is
 * no longer mapped to the VINTF reads as zero and ignores writes.
 */
static __thread bool db_idle;	/* the last doorbell found nothing */

static void do_doorbell(__u64 *s)
{
	int i = rnd(s) % NR_IOMMU;
	struct tg *t = &T[i];
	unsigned int n, k, size, mask, nb, j, used;
	volatile __u32 *r;
	__u32 prod, cons, newprod;
	__u64 end;
	bool en;

	pthread_rwlock_rdlock(&t->map_lock);
	n = t->nq;
	if (!t->page0 || !n) {
		pthread_rwlock_unlock(&t->map_lock);
		dcount[D_NOPAGE]++;
		db_idle = true;
		return;
	}
	k = rnd(s) % n;
	pthread_mutex_lock(&t->qlock[k]);
	r = (volatile __u32 *)((char *)t->page0 + k * VCMDQ_REGS_STRIDE);
	size = 1u << qlog2(k);
	mask = 2 * size - 1;
	calls[T_DOORBELL]++;

	if (db_pending(r)) {
		db_ack(i, k, r);
		goto out;
	}
	en = rreg(r, VCMDQ_STATUS) & 1;
	if (!en || rnd(s) % 32 == 0) {
		wreg(r, VCMDQ_CONFIG, !en);
		dcount[en ? D_DISABLE : D_ENABLE]++;
		/* A queue that is gone never follows: not an error */
		end = now_ns() + DB_POLL_NS / 100;
		while ((rreg(r, VCMDQ_STATUS) & 1) == en && now_ns() < end)
			;
		goto out;
	}

	prod = rreg(r, VCMDQ_PROD) & mask;
	cons = rreg(r, VCMDQ_CONS) & mask;
	used = (prod - cons) & mask;
	if (used >= size) {
		dcount[D_GONE]++;
		goto out;
	}
	nb = 1 + rnd(s) % (size - used < 4 ? size - used : 4);
	for (j = 0; j < nb; j++) {
		__le64 cmd[2];
		__u8 op;

		if (j == nb - 1 && nb > 1) {
			smmu_cmd_op(cmd, SMMU_CMD_SYNC);
			op = SMMU_CMD_SYNC;
		} else {
			op = db_cmd(s, cmd);
		}
		db_put(i, k, (prod + j) & (size - 1), cmd, op);
	}
	/* The commands are in memory before the CMDQV sees the index */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	newprod = (prod + nb) & mask;
	wreg(r, VCMDQ_PROD, newprod);
	dcount[D_RING]++;

	end = now_ns() + DB_POLL_NS;
	for (;;) {
		__u32 c = rreg(r, VCMDQ_CONS);

		en = rreg(r, VCMDQ_STATUS) & 1;
		if (en && (c & mask) == newprod) {
			dcount[D_CONSUMED]++;
			oks[T_DOORBELL]++;
			break;
		}
		if (db_pending(r)) {
			db_ack(i, k, r);
			break;
		}
		if (!en) {
			dcount[D_GONE]++;
			break;
		}
		if (now_ns() > end) {
			if (bad[T_DOORBELL]++ < 5)
				printf("# doorbell: SMMU %d queue %u enabled, PROD 0x%x, CONS 0x%x: consumed nothing (seed 0x%" PRIx64 ")\n",
				       i, k, newprod, c, (uint64_t)seed);
			break;
		}
	}
out:
	pthread_mutex_unlock(&t->qlock[k]);
	pthread_rwlock_unlock(&t->map_lock);
}

/* The vIOMMU of SMMU @i and its generation, as one */
static unsigned long tg_read(int i, __u32 *viommu, __u64 *off, __u64 *len)
{
	unsigned long gen;

	pthread_mutex_lock(&T[i].lock);
	gen = T[i].gen;
	if (viommu)
		*viommu = C.viommu[i];
	if (off)
		*off = T[i].mmap_off;
	if (len)
		*len = T[i].mmap_len;
	pthread_mutex_unlock(&T[i].lock);
	return gen;
}

/*
 * Destroy a queue nothing depends on; a destroyer of a stale id may hold
 * it for a moment (EBUSY)
 */
static int destroy_busy(__u32 id)
{
	int ret, tries;

	for (tries = 0; tries < 100; tries++) {
		ret = destroy_id(id);
		if (ret != -EBUSY)
			break;
		usleep(1000);
	}
	return ret;
}

static void hwq_bad(const char *what, int i, unsigned int k, int ret)
{
	if (bad[T_HWQ]++ < 5)
		printf("# hwq: SMMU %d queue %u: %s: %s (seed 0x%" PRIx64 ")\n",
		       i, k, what, ret ? strerror(-ret) : "succeeded",
		       (uint64_t)seed);
}

/*
 * IOMMU_HW_QUEUE_ALLOC of queue @k. Only this thread makes queues, and a
 * VINTF's queues are a prefix 0..m-1 (in order up, in order down), so
 * with nq the count this thread made, m <= nq. Within one vIOMMU
 * generation: an allocation past nq, past the VINTF's queues or of a
 * length no power of two must fail (EINVAL, or ENOENT once the vIOMMU is
 * gone), and EEXIST needs k < nq.
 */
static void hwq_alloc_one(__u64 *s, int i)
{
	static const int ok[] = { ENOENT, EINVAL, EEXIST, 0 };
	static const int ok_forbidden[] = { ENOENT, EINVAL, 0 };
	static const int ok_destroy[] = { ENOENT, 0 };
	struct tg *t = &T[i];
	unsigned int nq = t->nq, k, r = rnd(s) % 8;
	bool bad_len = rnd(s) % 8 == 0, forbidden;
	__u64 len;
	__u32 viommu, id = 0;
	unsigned long gen, gen2;
	int ret;

	gen = tg_read(i, &viommu, NULL, NULL);
	if (t->hwq_gen != gen) {
		/* A new vIOMMU: the old one had no queue left */
		t->nq = nq = 0;
		t->hwq_gen = gen;
	}
	k = r < 5 ? nq : rnd(s) % (t->nlvq + 1);
	len = bad_len ? qlen(k % MAX_LVQ) * 3 / 2 : qlen(k % MAX_LVQ);
	forbidden = bad_len || k >= t->nlvq || k > nq;
	ret = hwq_alloc(viommu, i, k, len, &id);
	gen2 = tg_read(i, NULL, NULL, NULL);
	account(T_HWQ, ret, gen2 == gen && forbidden ? ok_forbidden : ok);
	if (!ret) {
		dcount[H_ALLOC]++;
		if (k)
			dcount[H_ALLOC_UP]++;
	}
	if (gen2 != gen) {
		/*
		 * Another vIOMMU meanwhile, which may have the id (or another
		 * SMMU's may): a queue made now is not kept
		 */
		dcount[H_RACED]++;
		if (!ret && (bad_len || k >= t->nlvq))
			hwq_bad("a queue the driver cannot have", i, k, ret);
		if (!ret)
			account(T_HWQ, destroy_busy(id), ok_destroy);
		return;
	}
	if (!ret) {
		if (forbidden) {
			hwq_bad(bad_len ? "length no power of two" :
				k >= t->nlvq ? "index past the VINTF's" :
					       "index out of order", i, k, ret);
			return;
		}
		/* Past a queue it made: the others were destroyed by stale ids */
		if (k < nq)
			dcount[H_RESYNC]++;
		t->hwq[k] = id;
		t->nq = k + 1;
		return;
	}
	if (ret == -EEXIST && k == nq && !forbidden)
		hwq_bad("EEXIST for a queue never made", i, k, ret);
	if (!forbidden && k == nq && nq && ret == -EINVAL) {
		/* Queue nq - 1 is gone (a stale id): lower the bound */
		t->nq = nq - 1;
		dcount[H_RESYNC]++;
	}
	if (ret == -ENOENT && nq) {
		/* No vIOMMU (its allocation failed): no queue either */
		t->nq = 0;
		dcount[H_RESYNC]++;
	}
}

/* IOMMU_DESTROY of the top queue, or (!@top) maybe of a lower one (EBUSY) */
static void hwq_destroy_one(__u64 *s, int i, bool top)
{
	static const int ok[] = { EBUSY, ENOENT, 0 };
	struct tg *t = &T[i];
	unsigned int nq = t->nq, k;
	int ret;

	if (t->hwq_gen != tg_read(i, NULL, NULL, NULL) || !nq) {
		hwq_alloc_one(s, i);
		return;
	}
	k = top || rnd(s) % 3 ? nq - 1 : rnd(s) % nq;
	ret = testdev_ioctl(C.fd, IOMMU_DESTROY,
			    &(struct iommu_destroy){ .size = sizeof(struct iommu_destroy),
						     .id = t->hwq[k] });
	account(T_HWQ, ret, ok);
	if (!ret)
		dcount[H_DESTROY]++;
	/* Gone (or its id was another object's): so are those above it */
	if (ret != -EBUSY)
		t->nq = k;
}

/*
 * munmap of page0, mostly followed by an mmap again (so that the doorbells
 * find it most of the time), or mmap of an unmapped one; the doorbells are
 * kept out meanwhile
 */
static void hwq_page0(__u64 *s, int i)
{
	static const int ok[] = { ENXIO, 0 };
	struct tg *t = &T[i];
	unsigned long gen;
	__u64 off, len;
	int ret;

	pthread_rwlock_wrlock(&t->map_lock);
	if (t->page0) {
		page0_unmap(i);
		account(T_HWQ, 0, ok);
		dcount[H_MUNMAP]++;
		if (rnd(s) % 4 == 0) {
			pthread_rwlock_unlock(&t->map_lock);
			return;
		}
	}
	gen = tg_read(i, NULL, &off, &len);
	if (!len) {
		/* No vIOMMU just now */
		pthread_rwlock_unlock(&t->map_lock);
		return;
	}
	ret = page0_map(i, off, len);
	account(T_HWQ, ret, ok);
	if (!ret) {
		dcount[H_MMAP]++;
		/*
		 * A vIOMMU that came meanwhile may have the pair: keep only
		 * a page of this generation's (the mapping holds it now)
		 */
		if (tg_read(i, NULL, NULL, NULL) != gen) {
			page0_unmap(i);
			dcount[H_RACED]++;
		}
	}
	pthread_rwlock_unlock(&t->map_lock);
}

/*
 * Now and then what a VMM does before it destroys a vIOMMU: every queue,
 * top down, and page0 (the page0 thread maps it again later)
 */
static void hwq_drain(__u64 *s, int i)
{
	unsigned int n;

	for (n = T[i].nq; n && T[i].nq; n--)
		hwq_destroy_one(s, i, true);
	pthread_rwlock_wrlock(&T[i].map_lock);
	if (T[i].page0) {
		page0_unmap(i);
		account(T_HWQ, 0, (const int[]){ 0 });
		dcount[H_MUNMAP]++;
	}
	pthread_rwlock_unlock(&T[i].map_lock);
}

/*
 * The VMM's side on the destroy thread's second vIOMMU: map its page0 and
 * make a queue 0, and undo both; its DESTROY races all of it
 */
static void hwq_scratch(int i)
{
	static const int ok_map[] = { ENXIO, 0 };
	/* EEXIST: the id is the main vIOMMU's now, which has a queue 0 */
	static const int ok_alloc[] = { ENOENT, EEXIST, 0 };
	static const int ok_destroy[] = { ENOENT, 0 };
	struct iommu_hw_queue_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
		.nesting_parent_iova = QIOVA + QOFF_SCRATCH(i),
		.length = qlen(0),
	};
	__u64 off, len;
	void *p = NULL;
	int ret;

	pthread_mutex_lock(&T[i].lock);
	cmd.viommu_id = T[i].scratch;
	off = T[i].sc_off;
	len = T[i].sc_len;
	pthread_mutex_unlock(&T[i].lock);
	if (!cmd.viommu_id || len != VCMDQ_PAGE0_SIZE)
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, C.fd, off);
	account(T_HWQ, p == MAP_FAILED ? -errno : 0, ok_map);
	ret = testdev_ioctl(C.fd, IOMMU_HW_QUEUE_ALLOC, &cmd);
	account(T_HWQ, ret, ok_alloc);
	if (!ret) {
		dcount[H_SCRATCH]++;
		/* The queue is the VINTF's now: reads, no doorbell */
		if (p != MAP_FAILED)
			(void)rreg(p, VCMDQ_STATUS);
		account(T_HWQ, destroy_busy(cmd.out_hw_queue_id), ok_destroy);
	}
	if (p != MAP_FAILED && munmap(p, len))
		bad[T_HWQ]++;
}

static void do_hwq(__u64 *s)
{
	int i = rnd(s) % NR_IOMMU;
	unsigned int op = rnd(s) % 32;

	if (op < 16)
		hwq_alloc_one(s, i);
	else if (op < 27)
		hwq_destroy_one(s, i, false);
	else if (op < 29)
		hwq_page0(s, i);
	else if (op < 31)
		hwq_scratch(i);
	else
		hwq_drain(s, i);
}

static void *worker(void *arg)
{
	int t = (intptr_t)arg & 0xff, nth = (intptr_t)arg >> 8;
	__u64 s = seed ^ (0x9e3779b97f4a7c15ull * (t + 1 + NR_T * nth));

	while (running()) {
		if (t == T_CLOSE) {
			usleep(200000 + rnd(&s) % 300000);
			pthread_rwlock_wrlock(&C.lock);
			ctx_close(&s);
			account(T_CLOSE, ctx_open(), (const int[]){ 0 });
			pthread_rwlock_unlock(&C.lock);
			continue;
		}
		pthread_rwlock_rdlock(&C.lock);
		switch (t) {
		case T_SET:
			do_set(&s, true);
			break;
		case T_UNSET:
			do_set(&s, false);
			break;
		case T_INVAL:
			do_inval(&s);
			break;
		case T_ATTACH:
			do_attach(&s);
			break;
		case T_DESTROY:
			do_destroy(&s);
			break;
		case T_UNBIND:
			do_unbind(&s);
			break;
		case T_VDEV:
			do_vdevice(&s);
			break;
		case T_VEVENT:
			do_vevent(&s);
			break;
		case T_DOORBELL:
			do_doorbell(&s);
			break;
		case T_HWQ:
			do_hwq(&s);
			break;
		}
		pthread_rwlock_unlock(&C.lock);
		/*
		 * An unbind waits until no call holds the device: without a
		 * gap now and then, the other threads starve it and it races
		 * nothing
		 */
		if (t != T_UNBIND && rnd(&s) % 32 == 0)
			usleep(500);
		/* Nothing to ring: the other threads need the CPUs more */
		if (db_idle) {
			db_idle = false;
			usleep(1000);
		}
	}
	return NULL;
}

/* ---- tegra: after the run ---------------------------------------------- */

/* /dev/kmsg from now on: the kernel log of the run, or -1 */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Count the kernel log lines since kmsg_open() that tell of an error of a
 * command queue the host uses: the SMMU's own (CMDQ error, timeouts, a
 * global error) or the CMDQV's (VINTF0's queues, a queue that does not
 * follow its enable). A guest queue's error is the guest's: the CMDQV
 * driver's note about resetting one ("uncleared error") is not counted.
 */
static int kmsg_errors(int fd)
{
	static const char *const pat[] = {
		"CMDQ error", "CMDQ timeout", "CMD_SYNC timeout",
		"unexpected global error", "unexpected error reported",
		"failed to enable", "failed to disable", "GERRORN=",
	};
	char rec[8192];
	int found = 0;
	ssize_t n;
	size_t p;

	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		for (p = 0; p < sizeof(pat) / sizeof(pat[0]); p++) {
			if (!strstr(rec, pat[p]))
				continue;
			if (found++ < 3)
				printf("# kernel: %s", strchr(rec, ';') ?
				       strchr(rec, ';') + 1 : rec);
			break;
		}
	}
	return found;
}

/*
 * In a new context (closed and opened again, as a VMM restarting): every
 * device attaches to a nested HWPT and back to the IOAS (STE updates on
 * the host's queue), an ARM_SMMUV3 invalidation through each vIOMMU
 * succeeds, and queue 0 of each VINTF consumes a TLBI and a CMD_SYNC.
 */
static int host_check(__u64 *s, char *why, size_t len)
{
	int i, ret;

	ctx_close(s);
	ret = ctx_open();
	if (ret) {
		snprintf(why, len, "open a context: %s", strerror(-ret));
		return ret;
	}
	for (i = 0; i < C.ndev; i++) {
		struct rdev *d = &C.dev[i];

		ret = vmm_dev_attach(&d->vd, C.bypass[d->iommu], NULL);
		if (!ret)
			ret = vmm_dev_attach(&d->vd, C.ioas, NULL);
		if (ret) {
			snprintf(why, len, "attach %s: %s", d->pci.bdf,
				 strerror(-ret));
			return ret;
		}
	}
	for (i = 0; i < NR_IOMMU; i++) {
		__le64 cmds[2][2];
		struct vcmdq vq;
		__u32 num = 1;

		smmu_cmd_tlbi_nh_asid(cmds[0], 1);
		ret = vmm_viommu_invalidate(C.fd, C.viommu[i],
					    IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
					    cmds, sizeof(cmds[0]), &num);
		if (ret || num != 1) {
			snprintf(why, len, "SMMU %d invalidation: %s, %u done",
				 i, strerror(-ret), num);
			return ret ? ret : -ERANGE;
		}
		smmu_cmd_op(cmds[1], SMMU_CMD_SYNC);
		vcmdq_init(&vq, T[i].page0, 0, (__le64 *)(qmem + QOFF(i, 0)),
			   qlog2(0));
		ret = vcmdq_enable(&vq);
		if (!ret)
			ret = vcmdq_submit(&vq, cmds, 2, NULL);
		if (ret) {
			snprintf(why, len, "SMMU %d VCMDQ: %s, CONS error %u",
				 i, strerror(-ret), vcmdq_cons_err(&vq));
			return ret;
		}
	}
	return 0;
}

/* tegra: the queue memory, and what each SMMU starts with */
static int tegra_setup(void)
{
	__le64 sync[2];
	unsigned int i, k, e;

	qmem_len = vmm_page_align(QMEM_SLOTS * QSLOT);
	qmem = mmap(NULL, qmem_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (qmem == MAP_FAILED)
		return -errno;
	smmu_cmd_op(sync, SMMU_CMD_SYNC);
	for (i = 0; i < NR_IOMMU; i++)
		for (k = 0; k < MAX_LVQ; k++)
			for (e = 0; e < QSLOT / VCMDQ_ENT_SIZE; e++)
				db_put(i, k, e, sync, SMMU_CMD_SYNC);
	return 0;
}

static bool kind_runs(int t)
{
	return t < NR_T_BASE || mode == TEGRA;
}

int main(int argc, char **argv)
{
	pthread_rwlockattr_t attr;
	pthread_t th[NR_T + NR_DOORBELL];
	int nth[NR_T + NR_DOORBELL];
	unsigned int secs = 20;
	int i, n, failed = 0, kfd = -1, nthreads = 0;
	__u64 s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || (strcmp(argv[1], "mock") && strcmp(argv[1], "smmu") &&
			 strcmp(argv[1], "tegra"))) {
		fprintf(stderr, "usage: race-viommu mock|smmu|tegra [secs=N] [seed=N]\n");
		return 2;
	}
	mode = !strcmp(argv[1], "mock") ? MOCK :
	       !strcmp(argv[1], "tegra") ? TEGRA : SMMU;
	seed = clock_seed();
	for (i = 2; i < argc; i++) {
		if (!strncmp(argv[i], "secs=", 5))
			secs = strtoul(argv[i] + 5, NULL, 0);
		else if (!strncmp(argv[i], "seed=", 5))
			seed = strtoull(argv[i] + 5, NULL, 0);
	}
	printf("TAP version 13\n");
	printf("# race-viommu %s: %u s, seed 0x%" PRIx64 " (thread timing is not reproducible; the seed picks the calls)\n",
	       argv[1], secs, (uint64_t)seed);
	/* tegra: its two thread kinds, and the host's queues after the run */
	printf("1..%d\n", mode == TEGRA ? NR_T + 2 : NR_T_BASE + 1);

	/* The close thread must get its turn among the busy readers */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&C.lock, &attr);
	for (i = 0; i < NR_IOMMU; i++) {
		int k;

		/* The hwq thread's munmap/mmap among the busy doorbells, too */
		pthread_rwlock_init(&T[i].map_lock, &attr);
		pthread_mutex_init(&T[i].lock, NULL);
		for (k = 0; k < MAX_LVQ; k++)
			pthread_mutex_init(&T[i].qlock[k], NULL);
	}
	if (mode == MOCK) {
		/* two mock devices on instance 0, one on instance 1 */
		C.ndev = 3;
		for (i = 0; i < 3; i++)
			C.dev[i].iommu = i == 2;
	} else {
		n = edu_find_all(pcis, pci_iommu, MAX_DEV);
		if (n < 2 || n > MAX_DEV) {
			printf("not ok 1 set-up # found %d edus\n", n);
			return 1;
		}
		for (i = 0; i < n; i++) {
			C.dev[i].pci = pcis[i];
			C.dev[i].iommu = pci_iommu[i];
		}
		npci = n;
		C.ndev = n;
	}
	for (i = 0; i < C.ndev; i++) {
		pthread_rwlock_init(&C.dev[i].lock, NULL);
		C.dev[i].vd.fd = -1;
	}
	n = mode == TEGRA ? tegra_setup() : 0;
	if (!n)
		n = ctx_open();
	printf("%sok 1 set-up%s%s\n", n ? "not " : "", n ? ": " : "",
	       n ? strerror(-n) : "");
	if (n)
		return 1;
	if (mode == TEGRA) {
		for (i = 0; i < NR_IOMMU; i++)
			printf("# SMMU %d: %u VCMDQs per VINTF\n", i, T[i].nlvq);
		kfd = kmsg_open();
		if (kfd < 0)
			printf("# /dev/kmsg: %s: the kernel log is left to the console check\n",
			       strerror(errno));
	}

	deadline = time(NULL) + secs;
	for (i = 0; i < NR_T; i++) {
		int j, copies = i == T_DOORBELL ? NR_DOORBELL : 1;

		if (!kind_runs(i))
			continue;
		for (j = 0; j < copies; j++) {
			nth[nthreads] = i | j << 8;
			pthread_create(&th[nthreads], NULL, worker,
				       (void *)(intptr_t)nth[nthreads]);
			nthreads++;
		}
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	s = seed;
	if (mode != TEGRA)
		ctx_close(&s);

	for (i = 0; i < NR_T; i++) {
		/* The main operation of a tegra kind: rings consumed, queues */
		unsigned long main_ops = i == T_DOORBELL ? dcount[D_CONSUMED] :
					 i == T_HWQ ? dcount[H_ALLOC] : oks[i];
		bool ok = !bad[i] && calls[i] && (i == T_CLOSE || main_ops);

		if (!kind_runs(i))
			continue;
		if (i == T_DOORBELL)
			printf("# doorbell: %lu rings: %lu consumed, %lu stopped at a refused ATC_INV, %lu found the queue gone or disabled; %lu enables, %lu disables, %lu errors acknowledged, %lu times no page0 or queue\n",
			       (unsigned long)dcount[D_RING],
			       (unsigned long)dcount[D_CONSUMED],
			       (unsigned long)dcount[D_REFUSED],
			       (unsigned long)dcount[D_GONE],
			       (unsigned long)dcount[D_ENABLE],
			       (unsigned long)dcount[D_DISABLE],
			       (unsigned long)dcount[D_ACK],
			       (unsigned long)dcount[D_NOPAGE]);
		if (i == T_HWQ)
			printf("# hwq: %lu queues allocated (%lu past index 0; %lu more on a second vIOMMU), %lu destroyed, page0 %lu mmaps, %lu munmaps; %lu raced a new vIOMMU, %lu resyncs; at the end %u and %u queues\n",
			       (unsigned long)dcount[H_ALLOC],
			       (unsigned long)dcount[H_ALLOC_UP],
			       (unsigned long)dcount[H_SCRATCH],
			       (unsigned long)dcount[H_DESTROY],
			       (unsigned long)dcount[H_MMAP],
			       (unsigned long)dcount[H_MUNMAP],
			       (unsigned long)dcount[H_RACED],
			       (unsigned long)dcount[H_RESYNC],
			       (unsigned int)T[0].nq, (unsigned int)T[1].nq);
		if (i == T_DESTROY && mode == TEGRA)
			printf("# destroy: %lu vIOMMUs destroyed\n",
			       (unsigned long)dcount[V_DESTROYED]);
		if (i == T_VEVENT && mode == TEGRA)
			printf("# vevent: %lu TEGRA241_CMDQV records\n",
			       (unsigned long)dcount[V_RECORDS]);
		failed += !ok;
		printf("%sok %d %s: %lu calls, %lu succeeded, %lu unexpected errnos\n",
		       ok ? "" : "not ", i + 2, tname[i], (unsigned long)calls[i],
		       (unsigned long)oks[i], (unsigned long)bad[i]);
	}
	if (mode == TEGRA) {
		char why[160] = "";
		int ret = host_check(&s, why, sizeof(why));
		int errs = kmsg_errors(kfd);

		ctx_close(&s);
		if (!ret && errs)
			snprintf(why, sizeof(why),
				 "%d command queue errors in the kernel log",
				 errs);
		failed += ret || errs;
		printf("%sok %d host-cmdq: attach, invalidation and VCMDQs work after the run, no queue error in the kernel log%s%s\n",
		       ret || errs ? "not " : "", NR_T + 2, why[0] ? ": " : "",
		       why);
	}
	return failed ? 1 : 0;
}
#endif
