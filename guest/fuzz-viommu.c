// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-viommu: a seeded, bounded fuzzer of the vIOMMU uAPI.
 *
 *   fuzz-viommu mock|smmu [seed=N] [iters=N] [secs=N] [fault=PCT]
 *
 * It drives IOMMU_VIOMMU_ALLOC, IOMMU_VIOMMU_SET_DEV_ID/UNSET_DEV_ID,
 * IOMMU_HWPT_ALLOC of nested HWPTs on a vIOMMU, attach, IOMMU_DESTROY,
 * device unbind, IOMMU_HWPT_INVALIDATE through a vIOMMU,
 * IOMMU_HW_QUEUE_ALLOC, mmap() of a vIOMMU's page, IOMMU_IOAS_UNMAP of
 * pinned queue memory, IOMMU_VDEVICE_ALLOC and DESTROY of vDEVICEs (the
 * same virtual IDs as SET_DEV_ID), IOMMU_VEVENTQ_ALLOC, close, DESTROY and
 * read() of vEVENTQs and, on the mock, events of random devices
 * (IOMMU_TEST_OP_TRIGGER_VEVENT), with random and mutated structs, ids,
 * ranges and command words, in random sequences. Each
 * sequence opens an iommufd (a "VM"), runs operations on it and closes
 * everything again in a random order.
 *
 *   mock  the iommufd selftest driver: mock devices on the two mock IOMMU
 *         instances (IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, MOCK_FLAGS_DEVICE_IOMMU2),
 *         IOMMU_VIOMMU_TYPE_SELFTEST.
 *   smmu  the edu devices of the dual topology on vfio-pci, behind the two
 *         emulated SMMUv3s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3.
 *
 * The fuzzer keeps a model of what the kernel must hold (objects, the
 * virtual IDs of each vIOMMU, attachments) and predicts every answer from
 * shared/design/uapi.md: the errno of a call, the index at which an
 * invalidation stops; a new object's id must be non-zero and no live
 * object's, and every later answer about it (ENOENT, EBUSY, EEXIST)
 * must agree with the model; a vEVENTQ's records (sequence, flags, the
 * virtual ID, the LOST_EVENTS record of a full queue) must be the model's.
 * Any difference is a report. A mapped vIOMMU
 * page must hold what the mock was given, and a HW queue's pin must read
 * the memory the caller named (IOMMU_TEST_OP_HW_QUEUE_READ). In smmu mode
 * each guest command is judged by the fuzzer's own reading of the
 * allow-list (opcode, fields, the SMMU's features from IOMMU_GET_HW_INFO,
 * the vIOMMU's vSIDs): a command the kernel accepts that the allow-list
 * forbids is a report of its own ("accepted an illegal command"). After each
 * sequence the kernel log must hold no SMMU command queue error
 * (CERROR_ILL and friends: "CMDQ error", "global error").
 *
 * fault=PCT turns on failslab, fail_page_alloc and fail_usercopy with
 * probability PCT for this task only, and only around its own ioctls
 * (/proc/self/make-it-fail): a call may then also fail with ENOMEM or
 * EFAULT, and must then change nothing.
 *
 * Runs are reproducible: the seed names the whole sequence of operations.
 * The default is a fixed seed plus one taken from the clock, both printed;
 * seed=N runs that one only. iters bounds the operations per seed, secs the
 * time. Prints TAP: one test per seed, failing with its seed and the
 * operation that went wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "iommufd_test.h"
#include "smmuv3.h"
#include "vmm.h"

#if !defined(VMM_HAVE_VIOMMU) || !defined(VMM_HAVE_HW_QUEUE)
int main(void)
{
	printf("TAP version 13\n1..0 # SKIP no vIOMMU uAPI in the headers\n");
	return 4;
}
#else

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8

#define MAX_DEV		4
#define MAX_VIOMMU	4
#define MAX_NESTED	8
#define MAX_IOMMU	2
#define MAX_BATCH	80	/* more than one SMMU batch (64 commands) */
#define MAX_QUEUE	8
#define MAX_VDEV	8
#define MAX_VEVQ	8
#define MAX_VEVENTS	24	/* records a model queue holds, LOST included */

/*
 * Queue memory in the IOAS of each sequence: two read-write pages at
 * QIOVA (one mapping, one area), a hole, and a write-only page at
 * QIOVA_WO. Inside the mock aperture and clear of the SMMU's MSI window.
 */
#define QIOVA		(1ull << 28)
#define QIOVA_HOLE	(QIOVA + 2 * pgsz)
#define QIOVA_WO	(QIOVA + 3 * pgsz)

/* ---- random numbers: xorshift64*, one stream per seed ---------------- */

static __u64 rng;

static __u64 rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* 0 .. n - 1 */
static __u32 rn(__u32 n)
{
	return n ? rnd() % n : 0;
}

/* true with probability pct % */
static bool chance(unsigned int pct)
{
	return rn(100) < pct;
}

/* ---- the model ------------------------------------------------------ */

enum { SMMU, MOCK };
static int mode;

enum att { ATT_NONE, ATT_IOAS, ATT_PARENT, ATT_NESTED };

struct fdev {
	bool present;		/* bound to the iommufd */
	int iommu;		/* index of its IOMMU instance */
	__u32 dev_id;
	__u32 stdev_id;		/* mock: the selftest object owning it */
	struct vmm_dev vd;	/* smmu: its VFIO cdev */
	struct vmm_pci pci;
	int viommu;		/* -1, or the vIOMMU it has an ID on */
	__u64 vid;
	int vdev;		/* -1, or the vDEVICE slot that owns the ID */
	enum att att;
	int att_idx;		/* parent iommu or nested index */
};

struct fviommu {
	bool live;
	__u32 id;
	int iommu;
	int nids;
	int nnested;
	int nqueues;		/* live HW queues */
	int nvevqs;		/* live vEVENTQs */
	__u32 in_data;		/* mock: what its MMIO page holds */
	__u64 mmap_off, mmap_len;	/* mock: its mmap pair, or 0 */
	void *map;		/* its page, mapped */
};

struct fqueue {
	bool live;
	__u32 id;
	int viommu;
	__u32 index;
};

struct fnested {
	bool live;
	__u32 id;
	int viommu;
	int users;		/* devices attached */
	bool translates;	/* stage 1: a device needs an ID to attach */
};

struct fvdev {
	bool live;
	__u32 id;
	int dev;		/* the device whose ID it owns */
};

/* A vEVENTQ, and the records a read must return, oldest first */
struct fvevq {
	bool live;
	__u32 id;
	int fd;			/* -1 once closed */
	int viommu;
	__u32 type, depth;
	__u32 nev;		/* events queued (LOST not counted) */
	__u32 next_seq;
	int nrec;
	struct {
		bool lost;
		__u32 seq, vid;
	} rec[MAX_VEVENTS];
};

struct fparent {
	bool live;
	__u32 id;
	int users;		/* vIOMMUs and devices attached */
	__u32 plain_id;		/* a paging HWPT that is no nesting parent */
};

static struct {
	int fd;
	__u32 ioas;
	int ndev;
	struct fdev dev[MAX_DEV];
	struct fviommu viommu[MAX_VIOMMU];
	struct fnested nested[MAX_NESTED];
	struct fparent parent[MAX_IOMMU];
	struct fqueue queue[MAX_QUEUE];
	struct fvdev vdev[MAX_VDEV];
	struct fvevq vevq[MAX_VEVQ];
	bool qmem_mapped;	/* the read-write pages at QIOVA */
} S;

/* The queue memory: 4 pages, of which the IOAS maps 0-1 and 3 */
static __u8 *qmem;
static __u64 pgsz;
/* mmap offsets seen in this run, to try again once they are stale */
static __u64 old_offs[8];

/* What the physical SMMU offers (smmu mode), from IOMMU_GET_HW_INFO. */
static struct {
	bool ril, ats;
	unsigned int asid_bits, ssid_bits;
	__u64 pgsizes;		/* bit 12/14/16: 4K/16K/64K granules */
} hw;

/* ---- run state, figures and reports --------------------------------- */

static __u64 cur_seed;
static unsigned long cur_iter, cur_seq;
static unsigned long reports, total_ops, total_seqs, total_cmds;
static unsigned long accepted_cmds, enomem_seen, queues_made, pages_mapped;
static unsigned long vdevs_made, vevqs_made, vevents_read, vevents_lost;
static unsigned long vevents_made;
static unsigned int fault_pct;
static int fail_fd = -1;
static const char *cur_op = "";
static int nr_pci;
static struct vmm_pci pcis[MAX_DEV];
static int pci_iommu[MAX_DEV];

static void report(const char *fmt, ...)
{
	va_list ap;

	reports++;
	if (reports > 20)
		return;
	printf("# REPORT seed=0x%" PRIx64 " seq=%lu iter=%lu op=%s: ",
	       (uint64_t)cur_seed, cur_seq, cur_iter, cur_op);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* The fault window: this task's allocations and copies may fail in it. */
static void fault_window(bool on)
{
	int tries = 0;

	if (fail_fd < 0)
		return;
	/* Closing the window is itself a copy from user that may fail */
	while (pwrite(fail_fd, on ? "1" : "0", 1, 0) != 1) {
		if ((errno != EFAULT && errno != ENOMEM) || ++tries == 1000) {
			report("make-it-fail: %s", strerror(errno));
			return;
		}
	}
}

/* ioctl inside the fault window: 0 or -errno. */
static int fioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	fault_window(true);
	ret = ioctl(fd, req, arg);
	ret = ret ? -errno : 0;
	fault_window(false);
	if (ret == -ENOMEM)
		enomem_seen++;
	return ret;
}

/*
 * Compare the kernel's answer with the prediction. With fault injection a
 * call may also fail with ENOMEM (or EFAULT from fail_usercopy) instead.
 * Returns true when the call succeeded, so the model must follow.
 */
static bool check(int got, int want)
{
	if (got == want)
		return !got;
	if (fault_pct && (got == -ENOMEM || got == -EFAULT))
		return false;
	if (!want && got)
		report("expected success, got %s", strerror(-got));
	else if (want && !got)
		report("expected %s, the call succeeded", strerror(-want));
	else
		report("expected %s, got %s", strerror(-want), strerror(-got));
	return false;
}

/* ---- object ids ---------------------------------------------------- */

/* An id that names nothing in this context (ids are small and dense). */
static __u32 bogus_id(void)
{
	return 1000 + rn(1000);
}

/* Is @id the id of an object the model knows alive? */
static bool id_in_use(__u32 id)
{
	int i;

	if (id == S.ioas)
		return true;
	for (i = 0; i < S.ndev; i++)
		if (S.dev[i].present && (S.dev[i].dev_id == id ||
					 (mode == MOCK && S.dev[i].stdev_id == id)))
			return true;
	for (i = 0; i < MAX_IOMMU; i++)
		if ((S.parent[i].live && S.parent[i].id == id) ||
		    (S.parent[i].plain_id && S.parent[i].plain_id == id))
			return true;
	for (i = 0; i < MAX_VIOMMU; i++)
		if (S.viommu[i].live && S.viommu[i].id == id)
			return true;
	for (i = 0; i < MAX_NESTED; i++)
		if (S.nested[i].live && S.nested[i].id == id)
			return true;
	for (i = 0; i < MAX_QUEUE; i++)
		if (S.queue[i].live && S.queue[i].id == id)
			return true;
	for (i = 0; i < MAX_VDEV; i++)
		if (S.vdev[i].live && S.vdev[i].id == id)
			return true;
	for (i = 0; i < MAX_VEVQ; i++)
		if (S.vevq[i].live && S.vevq[i].id == id)
			return true;
	return false;
}

/* A new object's id: non-zero, and no live object's. */
static void check_new_id(const char *what, __u32 id)
{
	if (!id || id_in_use(id))
		report("%s got id %u, which is %s", what, id,
		       id ? "a live object's" : "invalid");
}

/* ---- set-up of a sequence ------------------------------------------ */

static int mock_dev_create(struct fdev *d)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = S.ioas,
		.mock_domain_flags.dev_flags =
			d->iommu ? MOCK_FLAGS_DEVICE_IOMMU2 : 0,
	};
	int ret = fioctl(S.fd, IOMMU_TEST_CMD, &cmd);

	if (ret)
		return ret;
	check_new_id("mock device", cmd.mock_domain_flags.out_idev_id);
	check_new_id("selftest object", cmd.mock_domain_flags.out_stdev_id);
	d->present = true;
	d->stdev_id = cmd.mock_domain_flags.out_stdev_id;
	d->dev_id = cmd.mock_domain_flags.out_idev_id;
	d->att = ATT_IOAS;
	d->viommu = -1;
	return 0;
}

/*
 * Outside the fault window: when a VFIO bind fails half way, 6.12's own
 * unwind gives the device back its default domain with
 * __iommu_group_set_domain_nofail(), and arm-smmu-v3's attach allocates:
 * an injected failure there is a WARN in code older than the vIOMMU.
 */
static int smmu_dev_bind(struct fdev *d)
{
	int ret;

	ret = vmm_dev_open(&d->vd, &d->pci);
	if (!ret)
		ret = vmm_dev_bind(&d->vd, S.fd);
	if (ret) {
		vmm_dev_close(&d->vd);
		return ret;
	}
	check_new_id("device", d->vd.dev_id);
	d->present = true;
	d->dev_id = d->vd.dev_id;
	d->att = ATT_NONE;
	d->viommu = -1;
	return 0;
}

/*
 * In the fault window a mock device may fail to be created, and also with
 * EINVAL: a failed allocation while it is probed leaves it without an
 * IOMMU, which the bind then refuses.
 */
static bool bind_may_fail(int ret)
{
	return fault_pct && (ret == -ENOMEM || ret == -EFAULT ||
			     (mode == MOCK && ret == -EINVAL));
}

static int dev_bind(struct fdev *d)
{
	return mode == MOCK ? mock_dev_create(d) : smmu_dev_bind(d);
}

/* Unbind: the kernel must drop the device's virtual ID and attachment. */
static void model_dev_gone(struct fdev *d)
{
	if (d->viommu >= 0)
		S.viommu[d->viommu].nids--;
	/* Unbind destroys the vDEVICE: its id is forgotten, never reused */
	if (d->vdev >= 0)
		S.vdev[d->vdev].live = false;
	d->vdev = -1;
	if (d->att == ATT_NESTED)
		S.nested[d->att_idx].users--;
	if (d->att == ATT_PARENT)
		S.parent[d->att_idx].users--;
	d->present = false;
	d->viommu = -1;
	d->att = ATT_NONE;
}

static void dev_unbind(struct fdev *d)
{
	if (mode == MOCK) {
		struct iommu_destroy cmd = {
			.size = sizeof(cmd), .id = d->stdev_id,
		};

		/* Destroying the selftest object unbinds the mock device */
		if (ioctl(S.fd, IOMMU_DESTROY, &cmd))
			report("destroy mock device %u: %s", d->stdev_id,
			       strerror(errno));
	} else {
		vmm_dev_close(&d->vd);
	}
	model_dev_gone(d);
}

static int hwpt_paging(__u32 dev_id, __u32 flags, __u32 *id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = S.ioas,
	};
	int ret = fioctl(S.fd, IOMMU_HWPT_ALLOC, &cmd);

	*id = ret ? 0 : cmd.out_hwpt_id;
	return ret;
}

/* The first present device of IOMMU @iommu, or NULL. */
static struct fdev *dev_of(int iommu)
{
	int i;

	for (i = 0; i < S.ndev; i++)
		if (S.dev[i].present && S.dev[i].iommu == iommu)
			return &S.dev[i];
	return NULL;
}

/* IOMMU_IOAS_MAP of @npages queue pages at @iova, outside the fault window */
static int qmem_map(__u64 iova, int npages, bool readable)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
			 (readable ? IOMMU_IOAS_MAP_READABLE : 0),
		.ioas_id = S.ioas,
		.user_va = (uintptr_t)qmem + (iova - QIOVA),
		.length = npages * pgsz,
		.iova = iova,
	};

	if (ioctl(S.fd, IOMMU_IOAS_MAP, &cmd)) {
		report("IOAS_MAP of queue memory at 0x%llx: %s",
		       (unsigned long long)iova, strerror(errno));
		return -errno;
	}
	return 0;
}

static void viommu_unmap(struct fviommu *vi)
{
	if (vi->map && munmap(vi->map, vi->mmap_len))
		report("munmap of a vIOMMU page: %s", strerror(errno));
	vi->map = NULL;
}

static bool seq_open(void)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	int i, ret;

	memset(&S, 0, sizeof(S));
	S.fd = vmm_iommufd_open();
	if (S.fd < 0) {
		report("open /dev/iommu: %s", strerror(-S.fd));
		return false;
	}
	if (ioctl(S.fd, IOMMU_IOAS_ALLOC, &ioas)) {
		report("IOAS_ALLOC: %s", strerror(errno));
		return false;
	}
	S.ioas = ioas.out_ioas_id;
	if (qmem_map(QIOVA, 2, true) || qmem_map(QIOVA_WO, 1, false))
		return false;
	S.qmem_mapped = true;

	/* mock: two devices on instance 0, one on instance 1, like dual */
	S.ndev = mode == MOCK ? 3 : nr_pci;
	for (i = 0; i < S.ndev; i++) {
		struct fdev *d = &S.dev[i];

		d->viommu = -1;
		d->vdev = -1;
		d->vd.fd = -1;
		if (mode == MOCK) {
			d->iommu = i == 2;
		} else {
			d->pci = pcis[i];
			d->iommu = pci_iommu[i];
		}
		ret = dev_bind(d);
		if (ret && !bind_may_fail(ret))
			report("bind device %d: %s", i, strerror(-ret));
	}
	for (i = 0; i < MAX_IOMMU; i++) {
		struct fdev *d = dev_of(i);

		if (!d)
			continue;
		ret = hwpt_paging(d->dev_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
				  &S.parent[i].id);
		if (!ret)
			S.parent[i].live = true;
		else if (!fault_pct)
			report("nest parent on IOMMU %d: %s", i, strerror(-ret));
		ret = hwpt_paging(d->dev_id, 0, &S.parent[i].plain_id);
		if (ret && !fault_pct)
			report("paging HWPT on IOMMU %d: %s", i, strerror(-ret));
	}
	return true;
}

/*
 * Close everything in a random order: teardown cannot fail. A vIOMMU page
 * still mapped holds the file, so the context ends at its munmap() then.
 */
static void seq_close(void)
{
	bool unmap_first = chance(50), files_first = chance(50);
	int i;

	/* An open vEVENTQ file keeps the context alive until it is closed */
	for (i = 0; i < MAX_VEVQ && files_first; i++)
		if (S.vevq[i].fd >= 0 && S.vevq[i].live)
			close(S.vevq[i].fd);
	if (chance(50))
		for (i = 0; i < S.ndev; i++)
			if (S.dev[i].present && chance(50))
				dev_unbind(&S.dev[i]);
	for (i = 0; i < MAX_VIOMMU && unmap_first; i++)
		viommu_unmap(&S.viommu[i]);
	close(S.fd);
	for (i = 0; i < MAX_VIOMMU; i++)
		viommu_unmap(&S.viommu[i]);
	for (i = 0; i < MAX_VEVQ && !files_first; i++)
		if (S.vevq[i].fd >= 0 && S.vevq[i].live)
			close(S.vevq[i].fd);
	/* VFIO cdevs outlive the iommufd: their close ends the context */
	for (i = 0; i < S.ndev; i++)
		if (mode == SMMU)
			vmm_dev_close(&S.dev[i].vd);
	S.fd = -1;
}

/* ---- picking things --------------------------------------------------- */

static struct fdev *pick_dev(void)
{
	struct fdev *d = &S.dev[rn(S.ndev)];

	return d->present ? d : NULL;
}

/* A vIOMMU index, live or not. */
static int pick_viommu(void)
{
	return rn(MAX_VIOMMU);
}

static __u32 viommu_id_of(int v)
{
	return S.viommu[v].live ? S.viommu[v].id : bogus_id();
}

/* Virtual IDs come from a small pool so that they collide. */
static __u64 pick_vid(void)
{
	switch (rn(8)) {
	case 0:
		return 0xffffffffull;
	case 1:
		return 0x100000000ull << rn(32);	/* too big */
	default:
		return 0x40 + rn(6);
	}
}

/* ---- IOMMU_VIOMMU_ALLOC ------------------------------------------------ */

static void op_viommu_alloc(void)
{
	union {
		struct iommu_viommu_alloc cmd;
		__u8 raw[64];
	} u = {};
	struct iommu_viommu_alloc *cmd = &u.cmd;
	struct iommu_viommu_selftest data = { .in_data = rnd() };
	struct fdev *d = pick_dev();
	int v, want = 0, iommu, p, ret, mut, k, h;
	static char opname[128];

	cur_op = "VIOMMU_ALLOC";
	for (v = 0; v < MAX_VIOMMU && S.viommu[v].live; v++)
		;
	if (!d || v == MAX_VIOMMU)
		return;
	iommu = d->iommu;
	p = chance(85) ? iommu : !iommu;
	cmd->size = sizeof(*cmd);
	cmd->dev_id = d->dev_id;
	cmd->hwpt_id = S.parent[p].live ? S.parent[p].id : bogus_id();
	cmd->type = mode == MOCK ? IOMMU_VIOMMU_TYPE_SELFTEST :
				   IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
	if (mode == MOCK && chance(50)) {
		cmd->data_uptr = (uintptr_t)&data;
		cmd->data_len = sizeof(data);
	}
	if (!S.parent[p].live)
		want = -ENOENT;
	else if (p != iommu)
		want = -EINVAL;

	/* At most one mutation, whose answer uapi.md fixes */
	mut = chance(50) ? rn(12) : 99;
	snprintf(opname, sizeof(opname),
		 "VIOMMU_ALLOC(dev %u iommu %d, parent %u iommu %d, mutation %d)",
		 d->dev_id, iommu, cmd->hwpt_id, p, mut);
	cur_op = opname;
	switch (mut) {
	case 0:
		cmd->flags = 1u << rn(32);
		want = -EOPNOTSUPP;
		break;
	case 1:
		cmd->__reserved = 1u << rn(32);
		want = -EOPNOTSUPP;
		break;
	case 2:
		cmd->dev_id = bogus_id();
		want = want == -ENOENT ? want : -ENOENT;
		break;
	case 3: {
		static const __u32 types[] = { 0, 2, 3, 0x1234, 0xdeadbeee };

		cmd->type = types[rn(5)];
		if (mode == SMMU && chance(30))
			cmd->type = IOMMU_VIOMMU_TYPE_SELFTEST;
		if (mode == MOCK && chance(30))
			cmd->type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
		/*
		 * The dual topology's SMMUs have a Tegra241 CMDQV, so type 2
		 * exists there; without its driver data (the VINTF page's mmap
		 * pair goes back through it) it is EINVAL, after the parent.
		 */
		if (mode == SMMU &&
		    cmd->type == IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV)
			want = want ? want : -EINVAL;
		else
			want = -EOPNOTSUPP;
		break;
	}
	case 4:
		/* An IOAS is not a HWPT_PAGING */
		cmd->hwpt_id = S.ioas;
		want = -ENOENT;
		break;
	case 5:
		/* A paging HWPT that is not a nesting parent */
		if (!S.parent[iommu].plain_id)
			return;
		cmd->hwpt_id = S.parent[iommu].plain_id;
		want = -EINVAL;
		break;
	case 6:
		cmd->data_len = sizeof(data);
		cmd->data_uptr = 0;
		want = -EINVAL;
		break;
	case 7:
		cmd->data_len = 0;
		cmd->data_uptr = (uintptr_t)&data;
		want = -EINVAL;
		break;
	case 8:
		/*
		 * Shorter: below out_viommu_id EINVAL; the data fields after it
		 * are an extension, a struct without them has no data
		 */
		cmd->size = rn(offsetof(struct iommu_viommu_alloc, data_len) + 8);
		if (cmd->size < offsetof(struct iommu_viommu_alloc, data_len)) {
			want = -EINVAL;
		} else {
			cmd->data_len = 0;
			cmd->data_uptr = 0;
		}
		break;
	case 9:
		/* Longer: trailing bytes must be zero */
		cmd->size = sizeof(*cmd) + 1 + rn(sizeof(u) - sizeof(*cmd) - 1);
		if (chance(50)) {
			u.raw[sizeof(*cmd) + rn(cmd->size - sizeof(*cmd))] = 1 + rn(255);
			want = -E2BIG;
		}
		break;
	case 10:
		if (mode == SMMU) {
			/* IOMMU_VIOMMU_TYPE_ARM_SMMUV3 takes no data */
			cmd->data_uptr = (uintptr_t)&data;
			cmd->data_len = sizeof(data);
			want = want ? want : -EOPNOTSUPP;
		} else {
			cmd->data_uptr = 16;	/* unmapped */
			cmd->data_len = sizeof(data);
			want = want ? want : -EFAULT;
		}
		break;
	case 11:
		/* A nested HWPT or a vIOMMU is not a nesting parent either */
		/*
		 * Only live ones: a stale id may name an auto-domain HWPT
		 * that an attach to the IOAS made meanwhile
		 */
		k = pick_viommu();
		h = rn(MAX_NESTED);
		cmd->hwpt_id = S.viommu[k].live ? S.viommu[k].id :
			       S.nested[h].live ? S.nested[h].id : bogus_id();
		want = -ENOENT;
		break;
	}
	ret = fioctl(S.fd, IOMMU_VIOMMU_ALLOC, cmd);
	if (!check(ret, want))
		return;
	check_new_id("vIOMMU", cmd->out_viommu_id);
	S.viommu[v].live = true;
	S.viommu[v].id = cmd->out_viommu_id;
	S.viommu[v].iommu = iommu;
	S.viommu[v].nids = 0;
	S.viommu[v].nnested = 0;
	S.viommu[v].nqueues = 0;
	S.viommu[v].map = NULL;
	S.viommu[v].mmap_off = 0;
	S.viommu[v].mmap_len = 0;
	S.parent[iommu].users++;
	if (!cmd->data_len)
		return;
	if (data.out_data != ~data.in_data)
		report("vIOMMU data: in 0x%x out 0x%x", data.in_data,
		       data.out_data);
	/* One page, at a page-aligned offset no other vIOMMU has */
	if (data.out_mmap_length != pgsz || data.out_mmap_offset % pgsz)
		report("vIOMMU mmap pair: offset 0x%llx length 0x%llx",
		       (unsigned long long)data.out_mmap_offset,
		       (unsigned long long)data.out_mmap_length);
	for (k = 0; k < MAX_VIOMMU; k++)
		if (k != v && S.viommu[k].live && S.viommu[k].mmap_len &&
		    S.viommu[k].mmap_off == data.out_mmap_offset)
			report("vIOMMU mmap offset 0x%llx is also vIOMMU %u's",
			       (unsigned long long)data.out_mmap_offset,
			       S.viommu[k].id);
	S.viommu[v].in_data = data.in_data;
	S.viommu[v].mmap_off = data.out_mmap_offset;
	S.viommu[v].mmap_len = data.out_mmap_length;
	old_offs[rn(8)] = data.out_mmap_offset;
}

/* ---- SET_DEV_ID / UNSET_DEV_ID ------------------------------------- */

static int model_vid_owner(int v, __u64 vid)
{
	int i;

	for (i = 0; i < S.ndev; i++)
		if (S.dev[i].present && S.dev[i].viommu == v &&
		    S.dev[i].vid == vid)
			return i;
	return -1;
}

static void op_set_dev_id(bool set)
{
	struct iommu_viommu_set_dev_id cmd = { .size = sizeof(cmd) };
	struct fdev *d = pick_dev();
	int v = pick_viommu(), want = 0, ret;
	struct fviommu *vi = &S.viommu[v];
	__u64 vid = pick_vid();

	cur_op = set ? "SET_DEV_ID" : "UNSET_DEV_ID";
	if (!d)
		return;
	/* UNSET mostly with the recorded pair, to get past the checks */
	if (!set && d->viommu >= 0 && chance(70)) {
		v = d->viommu;
		vi = &S.viommu[v];
		vid = d->vid;
	}
	cmd.viommu_id = viommu_id_of(v);
	cmd.dev_id = d->dev_id;
	cmd.id = vid;
	if (chance(5)) {
		cmd.__reserved = 1;
		want = -EOPNOTSUPP;
	} else if (!vi->live) {
		want = -ENOENT;
	} else if (chance(5)) {
		cmd.dev_id = bogus_id();
		want = -ENOENT;
	} else if (set) {
		if (d->iommu != vi->iommu || vid > 0xffffffffull)
			want = -EINVAL;
		else if (d->viommu >= 0 || model_vid_owner(v, vid) >= 0)
			want = -EEXIST;
		else if (mode == MOCK && vi->nids >= MOCK_VIOMMU_VDEV_ID_SLOTS)
			want = -ENOSPC;
	} else {
		if (d->viommu != v || d->vid != vid)
			want = -EINVAL;
		else if (d->vdev >= 0)
			want = -EBUSY;	/* the vDEVICE owns it */
		else if (d->att == ATT_NESTED &&
			 S.nested[d->att_idx].viommu == v &&
			 S.nested[d->att_idx].translates)
			want = -EBUSY;
	}
	ret = fioctl(S.fd, set ? IOMMU_VIOMMU_SET_DEV_ID :
				 IOMMU_VIOMMU_UNSET_DEV_ID, &cmd);
	if (!check(ret, want))
		return;
	if (set) {
		d->viommu = v;
		d->vid = vid;
		vi->nids++;
	} else {
		d->viommu = -1;
		vi->nids--;
	}
}

/* ---- IOMMU_VDEVICE_ALLOC, and DESTROY of a vDEVICE ----------------- */

/* Does the attachment of @d use its virtual ID (a stage-1 nested HWPT)? */
static bool id_in_use_by_attach(const struct fdev *d)
{
	return d->att == ATT_NESTED &&
	       S.nested[d->att_idx].viommu == d->viommu &&
	       S.nested[d->att_idx].translates;
}

static void op_vdevice(void)
{
	int k = rn(MAX_VDEV), want = 0, ret;

	if (S.vdev[k].live && chance(60)) {
		struct iommu_destroy cmd = {
			.size = sizeof(cmd), .id = S.vdev[k].id,
		};
		struct fdev *d = &S.dev[S.vdev[k].dev];

		cur_op = "DESTROY(vDEVICE)";
		/* An attachment that uses the ID holds the vDEVICE */
		if (id_in_use_by_attach(d))
			want = -EBUSY;
		ret = fioctl(S.fd, IOMMU_DESTROY, &cmd);
		if (!check(ret, want))
			return;
		S.vdev[k].live = false;
		S.viommu[d->viommu].nids--;
		d->viommu = -1;
		d->vdev = -1;
		return;
	}

	cur_op = "VDEVICE_ALLOC";
	if (!S.vdev[k].live) {
		struct iommu_vdevice_alloc cmd = { .size = sizeof(cmd) };
		struct fdev *d = pick_dev();
		int v = pick_viommu();
		struct fviommu *vi = &S.viommu[v];
		__u64 vid = pick_vid();

		if (!d)
			return;
		cmd.viommu_id = viommu_id_of(v);
		cmd.dev_id = chance(5) ? bogus_id() : d->dev_id;
		cmd.virt_id = vid;
		/* The rules of SET_DEV_ID, in the kernel's order */
		if (!vi->live || cmd.dev_id != d->dev_id)
			want = -ENOENT;
		else if (d->iommu != vi->iommu || vid > 0xffffffffull)
			want = -EINVAL;
		else if (d->viommu >= 0 || model_vid_owner(v, vid) >= 0)
			want = -EEXIST;
		else if (mode == MOCK && vi->nids >= MOCK_VIOMMU_VDEV_ID_SLOTS)
			want = -ENOSPC;
		ret = fioctl(S.fd, IOMMU_VDEVICE_ALLOC, &cmd);
		if (!check(ret, want))
			return;
		check_new_id("vDEVICE", cmd.out_vdevice_id);
		vdevs_made++;
		S.vdev[k].live = true;
		S.vdev[k].id = cmd.out_vdevice_id;
		S.vdev[k].dev = d - S.dev;
		d->viommu = v;
		d->vid = vid;
		d->vdev = k;
		vi->nids++;
		return;
	}
	/* A live slot, not destroyed: a vDEVICE id that names nothing */
	{
		struct iommu_destroy cmd = {
			.size = sizeof(cmd), .id = bogus_id(),
		};

		cur_op = "DESTROY(stale)";
		check(fioctl(S.fd, IOMMU_DESTROY, &cmd), -ENOENT);
	}
}

/* ---- IOMMU_VEVENTQ_ALLOC, events, read() ------------------------------ */

static int vevq_of(int v, __u32 type)
{
	int i;

	for (i = 0; i < MAX_VEVQ; i++)
		if (S.vevq[i].live && S.vevq[i].viommu == v &&
		    S.vevq[i].type == type)
			return i;
	return -1;
}

/* The model of iommufd_viommu_report_event(): queued, or lost */
static void model_vevent(struct fvevq *q, bool lost, __u32 vid)
{
	vevents_made++;
	/* The LOST_EVENTS record only ever stands at the tail */
	if (q->nrec && q->rec[q->nrec - 1].lost)
		q->nrec--;
	if (q->nrec == MAX_VEVENTS) {
		report("model: vEVENTQ of more than %d records", MAX_VEVENTS);
		return;
	}
	q->rec[q->nrec].lost = lost;
	q->rec[q->nrec].vid = vid;
	q->rec[q->nrec].seq = q->next_seq;
	q->next_seq = (q->next_seq + 1) & 0x7fffffff;
	q->nrec++;
	if (!lost)
		q->nev++;
}

static void op_veventq_alloc(void)
{
	struct iommu_veventq_alloc cmd = { .size = sizeof(cmd) };
	int v = pick_viommu(), k, want = 0, ret;
	struct fviommu *vi = &S.viommu[v];
	static const __u32 types[] = {
		IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV,
		IOMMU_VEVENTQ_TYPE_SELFTEST, IOMMU_VEVENTQ_TYPE_SELFTEST,
	};

	cur_op = "VEVENTQ_ALLOC";
	for (k = 0; k < MAX_VEVQ && S.vevq[k].live; k++)
		;
	if (k == MAX_VEVQ)
		return;
	/* Mostly for a vIOMMU whose devices have IDs: they report events */
	if (chance(70)) {
		struct fdev *d = pick_dev();

		if (d && d->viommu >= 0) {
			v = d->viommu;
			vi = &S.viommu[v];
		}
	}
	cmd.viommu_id = viommu_id_of(v);
	cmd.type = types[rn(4)];
	cmd.veventq_depth = chance(60) ? 1 + rn(3) : 1 + rn(MAX_VEVENTS - 4);
	switch (chance(30) ? rn(4) : 99) {
	case 0:
		cmd.flags = 1u << rn(32);
		break;
	case 1:
		cmd.__reserved = 1 + rn(100);
		break;
	case 2:
		cmd.type = IOMMU_VEVENTQ_TYPE_DEFAULT;
		break;
	case 3:
		cmd.veventq_depth = 0;
		break;
	}
	if (cmd.flags || cmd.__reserved ||
	    cmd.type == IOMMU_VEVENTQ_TYPE_DEFAULT)
		want = -EOPNOTSUPP;
	else if (!cmd.veventq_depth)
		want = -EINVAL;
	else if (!vi->live)
		want = -ENOENT;
	else if (vevq_of(v, cmd.type) >= 0)
		want = -EEXIST;	/* one per type */
	ret = fioctl(S.fd, IOMMU_VEVENTQ_ALLOC, &cmd);
	if (!check(ret, want))
		return;
	check_new_id("vEVENTQ", cmd.out_veventq_id);
	vevqs_made++;
	memset(&S.vevq[k], 0, sizeof(S.vevq[k]));
	S.vevq[k].live = true;
	S.vevq[k].id = cmd.out_veventq_id;
	S.vevq[k].fd = cmd.out_veventq_fd;
	S.vevq[k].viommu = v;
	S.vevq[k].type = cmd.type;
	S.vevq[k].depth = cmd.veventq_depth;
	vi->nvevqs++;
}

/* The mock IOMMU reports an event of a device, as a driver would */
static void op_vevent_trigger(void)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
	};
	struct fdev *d = pick_dev();
	struct fvevq *q = NULL;
	int want = 0, ret, k;

	cur_op = "TRIGGER_VEVENT";
	/* Mostly a device whose ID's vIOMMU has a queue for its events */
	if (chance(80)) {
		for (k = 0; k < S.ndev; k++) {
			struct fdev *c = &S.dev[(k + rn(S.ndev)) % S.ndev];

			if (c->present && c->viommu >= 0 &&
			    vevq_of(c->viommu, IOMMU_VEVENTQ_TYPE_SELFTEST) >= 0) {
				d = c;
				break;
			}
		}
	}
	if (!d)
		return;
	cmd.trigger_vevent.dev_id = d->dev_id;
	if (d->viommu < 0) {
		want = -ENOENT;		/* no ID: nothing to report */
	} else {
		k = vevq_of(d->viommu, IOMMU_VEVENTQ_TYPE_SELFTEST);
		if (k < 0)
			want = -EOPNOTSUPP;
		else
			q = &S.vevq[k];
		if (q && q->nev >= q->depth)
			want = -EOVERFLOW;
	}
	ret = fioctl(S.fd, IOMMU_TEST_CMD, &cmd);
	/* An allocation that failed loses the event, and says so */
	if (q && fault_pct && ret == -ENOMEM) {
		model_vevent(q, true, 0);
		return;
	}
	check(ret, want);
	if (q && ret == want && (!ret || ret == -EOVERFLOW))
		model_vevent(q, ret == -EOVERFLOW, (__u32)d->vid);
}

/* Read a queue, outside the fault window: whole records, as modelled */
static void op_vevent_read(struct fvevq *q)
{
	const size_t hsz = sizeof(struct iommufd_vevent_header);
	const size_t esz = sizeof(struct iommu_viommu_event_selftest);
	__u8 buf[MAX_VEVENTS * 16];
	size_t len = chance(70) ? sizeof(buf) : rn(3 * (hsz + esz) + 1);
	size_t off = 0, want_len = 0;
	ssize_t n;
	int i, nrec = 0;

	cur_op = "read(vEVENTQ)";
	for (i = 0; i < q->nrec; i++) {
		size_t rsz = hsz + (q->rec[i].lost ? 0 : esz);

		if (want_len + rsz > len)
			break;
		want_len += rsz;
		nrec++;
	}
	n = read(q->fd, buf, len);
	if (n < 0 || (size_t)n != want_len) {
		report("read %zu bytes of a vEVENTQ of %d records: %zd (%s), expected %zu",
		       len, q->nrec, n, n < 0 ? strerror(errno) : "",
		       want_len);
		q->nrec = 0;	/* resynchronised on the next read */
		q->nev = 0;
		return;
	}
	for (i = 0; i < nrec; i++) {
		struct iommufd_vevent_header h;
		struct iommu_viommu_event_selftest e = {};

		memcpy(&h, buf + off, hsz);
		off += hsz;
		if (!q->rec[i].lost) {
			memcpy(&e, buf + off, esz);
			off += esz;
		}
		if (h.sequence != q->rec[i].seq ||
		    h.flags != (q->rec[i].lost ?
				IOMMU_VEVENTQ_FLAG_LOST_EVENTS : 0) ||
		    (!q->rec[i].lost && e.virt_id != q->rec[i].vid))
			report("vEVENT record %d: flags %#x seq %u vid %#x, expected flags %#x seq %u vid %#x",
			       i, h.flags, h.sequence, e.virt_id,
			       q->rec[i].lost ? IOMMU_VEVENTQ_FLAG_LOST_EVENTS : 0,
			       q->rec[i].seq, q->rec[i].vid);
		if (!q->rec[i].lost)
			q->nev--;
		vevents_read++;
		vevents_lost += q->rec[i].lost;
	}
	memmove(q->rec, q->rec + nrec, (q->nrec - nrec) * sizeof(q->rec[0]));
	q->nrec -= nrec;
}

static void op_veventq(void)
{
	int live[MAX_VEVQ], nlive = 0, k, want = 0, ret;
	struct fvevq *q;

	for (k = 0; k < MAX_VEVQ; k++)
		if (S.vevq[k].live)
			live[nlive++] = k;
	if (!nlive || chance(15)) {
		op_veventq_alloc();
		return;
	}
	q = &S.vevq[live[rn(nlive)]];
	/* Reads mostly where there is something to read */
	for (k = 0; k < nlive && !q->nrec && chance(70); k++)
		q = &S.vevq[live[(k + 1) % nlive]];
	switch (rn(12)) {
	case 0: {
		/* The open file holds the queue */
		struct iommu_destroy cmd = { .size = sizeof(cmd), .id = q->id };

		cur_op = "DESTROY(vEVENTQ)";
		if (q->fd >= 0)
			want = -EBUSY;
		ret = fioctl(S.fd, IOMMU_DESTROY, &cmd);
		if (!check(ret, want))
			return;
		q->live = false;
		S.viommu[q->viommu].nvevqs--;
		return;
	}
	case 1:
		cur_op = "close(vEVENTQ)";
		if (q->fd >= 0)
			close(q->fd);
		q->fd = -1;
		return;
	case 2: case 3: case 4: case 5: case 6:
		/* smmu mode has no DMA, so no events: it reads instead */
		if (mode == MOCK) {
			/* A burst, to fill queues now and then */
			for (k = 1 + (chance(20) ? rn(8) : 0); k; k--)
				op_vevent_trigger();
			return;
		}
		break;
	}
	if (q->fd >= 0)
		op_vevent_read(q);
}

/* ---- nested HWPT on a vIOMMU -------------------------------------- */

/* The vSTE allow-list of uapi.md, read independently of the kernel. */
static int vste_errno(__u64 ste0, __u64 ste1)
{
	const __u64 ok0 = SMMU_STE_0_V | SMMU_STE_0_CFG | SMMU_STE_0_S1FMT |
			  SMMU_STE_0_S1CTXPTR | SMMU_STE_0_S1CDMAX;
	const __u64 ok1 = SMMU_STE_1_S1DSS | SMMU_STE_1_S1CIR |
			  SMMU_STE_1_S1COR | SMMU_STE_1_S1CSH |
			  SMMU_STE_1_S1STALLD | SMMU_STE_1_EATS;
	unsigned int cfg = SMMU_GET(SMMU_STE_0_CFG, ste0);
	unsigned int eats = SMMU_GET(SMMU_STE_1_EATS, ste1);

	if (!(ste0 & SMMU_STE_0_V))
		return 0;
	if ((ste0 & ~ok0) || (ste1 & ~ok1))
		return -EIO;
	if (cfg != SMMU_STE_0_CFG_ABORT && cfg != SMMU_STE_0_CFG_BYPASS &&
	    cfg != SMMU_STE_0_CFG_S1)
		return -EIO;
	if (cfg == SMMU_STE_0_CFG_S1) {
		unsigned int cdmax = SMMU_GET(SMMU_STE_0_S1CDMAX, ste0);
		unsigned int fmt = SMMU_GET(SMMU_STE_0_S1FMT, ste0);

		if (cdmax > hw.ssid_bits)
			return -EIO;
		/* 2-level CD tables: QEMU has none, and no SSIDs anyway */
		if (cdmax && fmt)
			return -EIO;
	}
	/* EATS: 0 (abort) or 1 (translate) */
	return eats > 1 ? -EIO : 0;
}

static void random_vste(__u64 ste[2])
{
	static const unsigned int cfgs[] = { 0, 4, 5, 5, 5 };

	ste[0] = SMMU_STE_0_V | SMMU_FIELD(SMMU_STE_0_CFG, cfgs[rn(5)]) |
		 SMMU_FIELD(SMMU_STE_0_S1CTXPTR, rnd() >> 20);
	ste[1] = rnd() & (SMMU_STE_1_S1DSS | SMMU_STE_1_S1CIR |
			  SMMU_STE_1_S1COR | SMMU_STE_1_S1CSH);
	if (chance(10))
		ste[1] |= SMMU_FIELD(SMMU_STE_1_EATS, 1);
	if (chance(5))
		ste[0] &= ~SMMU_STE_0_V;
	if (chance(30))
		ste[rn(2)] ^= 1ull << rn(64);
	if (chance(5)) {
		ste[0] = rnd();
		ste[1] = rnd();
	}
}

static void op_nested_alloc(void)
{
	struct iommu_hwpt_alloc cmd = { .size = sizeof(cmd) };
	struct iommu_hwpt_selftest mock = {
		.iotlb = chance(30) ? IOMMU_TEST_IOTLB_NO_TRANSLATE : rnd(),
	};
	__u64 ste[2] = {};
	__u8 big[32] = {};
	struct fdev *d = pick_dev();
	int v = pick_viommu(), h, want = 0, ret;
	struct fviommu *vi = &S.viommu[v];

	cur_op = "HWPT_ALLOC(nested)";
	for (h = 0; h < MAX_NESTED && S.nested[h].live; h++)
		;
	if (!d || h == MAX_NESTED)
		return;
	cmd.dev_id = d->dev_id;
	cmd.pt_id = viommu_id_of(v);
	if (mode == MOCK) {
		cmd.data_type = IOMMU_HWPT_DATA_SELFTEST;
		cmd.data_uptr = (uintptr_t)&mock;
		cmd.data_len = sizeof(mock);
	} else {
		random_vste(ste);
		cmd.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3;
		cmd.data_uptr = (uintptr_t)ste;
		cmd.data_len = sizeof(ste);
	}
	if (!vi->live)
		want = -EINVAL;		/* pt_id names no object */
	else if (d->iommu != vi->iommu)
		want = -EINVAL;
	else if (mode == SMMU)
		want = vste_errno(ste[0], ste[1]);

	switch (chance(40) ? rn(7) : 99) {
	case 0:
		cmd.__reserved = 1;
		want = -EOPNOTSUPP;
		break;
	case 1:
		cmd.data_len = 0;
		want = -EINVAL;		/* a data type without data */
		break;
	case 2:
		cmd.dev_id = bogus_id();
		want = -ENOENT;
		break;
	case 3:
		if (want != -EINVAL) {
			cmd.flags = 1u << rn(32);
			if (cmd.flags != IOMMU_HWPT_FAULT_ID_VALID)
				want = -EOPNOTSUPP;
			else if (!want)
				want = -ENOENT;	/* fault_id 0 */
		}
		break;
	case 4:
		/* The other driver's data type */
		if (want != -EINVAL) {
			cmd.data_type = mode == MOCK ? IOMMU_HWPT_DATA_ARM_SMMUV3 :
						       IOMMU_HWPT_DATA_SELFTEST;
			want = mode == MOCK ? -EOPNOTSUPP : -EINVAL;
		}
		break;
	case 5:
		/*
		 * Longer data than the driver's struct: 6.12's
		 * iommu_copy_struct_from_user() takes none (EINVAL), unlike
		 * the invalidation arrays (E2BIG only for non-zero bytes)
		 */
		if (want != -EINVAL) {
			memcpy(big, (void *)(uintptr_t)cmd.data_uptr,
			       cmd.data_len);
			if (chance(50))
				big[cmd.data_len + rn(sizeof(big) - cmd.data_len)] = 1;
			cmd.data_uptr = (uintptr_t)big;
			cmd.data_len = sizeof(big);
			want = -EINVAL;
		}
		break;
	case 6:
		if (want != -EINVAL) {
			cmd.data_len = 1 + rn(cmd.data_len - 1);
			want = -EINVAL;
		}
		break;
	}
	ret = fioctl(S.fd, IOMMU_HWPT_ALLOC, &cmd);
	if (ret == 0 && mode == SMMU && vste_errno(ste[0], ste[1]) &&
	    cmd.data_uptr == (uintptr_t)ste)
		report("accepted an illegal vSTE %016llx %016llx",
		       (unsigned long long)ste[0], (unsigned long long)ste[1]);
	if (!check(ret, want))
		return;
	check_new_id("nested HWPT", cmd.out_hwpt_id);
	S.nested[h].live = true;
	S.nested[h].id = cmd.out_hwpt_id;
	S.nested[h].viommu = v;
	S.nested[h].users = 0;
	/* Only a stage-1 configuration names the device by its ID */
	if (mode == MOCK)
		S.nested[h].translates =
			mock.iotlb != IOMMU_TEST_IOTLB_NO_TRANSLATE;
	else
		S.nested[h].translates =
			(ste[0] & SMMU_STE_0_V) &&
			SMMU_GET(SMMU_STE_0_CFG, ste[0]) == SMMU_STE_0_CFG_S1;
	vi->nnested++;
}

/* ---- attach ------------------------------------------------------------ */

static void model_detach(struct fdev *d)
{
	if (d->att == ATT_NESTED)
		S.nested[d->att_idx].users--;
	if (d->att == ATT_PARENT)
		S.parent[d->att_idx].users--;
	d->att = ATT_NONE;
}

/*
 * A VFIO attach, replace or detach of an edu, outside the fault window:
 * when the new domain fails to attach, 6.12's iommu core puts the old one
 * back with a must-succeed call, and arm-smmu-v3's attach allocates; an
 * injected failure there is a WARN in code older than the vIOMMU (seen with
 * seed 0x89cc0c45d00085). The vIOMMU's own paths stay in the window.
 */
static int vfio_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int dev_attach(struct fdev *d, __u32 pt_id)
{
	if (mode == MOCK) {
		struct iommu_test_cmd cmd = {
			.size = sizeof(cmd),
			.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
			.id = d->stdev_id,
			.mock_domain_replace.pt_id = pt_id,
		};
		int ret = fioctl(S.fd, IOMMU_TEST_CMD, &cmd);

		/*
		 * The selftest op copies its answer out after the replace,
		 * and does not undo the replace when that copy fails: an
		 * EFAULT leaves the device on either domain. Replacing with
		 * the same domain again outside the fault window settles it
		 * (a replace to the current domain is a no-op), and its
		 * answer is the one the model must follow.
		 */
		if (ret == -EFAULT) {
			cmd.mock_domain_replace.pt_id = pt_id;
			ret = ioctl(S.fd, IOMMU_TEST_CMD, &cmd) ? -errno : 0;
		}
		return ret;
	} else {
		struct vfio_device_attach_iommufd_pt cmd = {
			.argsz = sizeof(cmd), .pt_id = pt_id,
		};

		return vfio_ioctl(d->vd.fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd);
	}
}

static void op_attach(void)
{
	struct fdev *d = pick_dev();
	int kind = rn(4), idx = 0, want = 0, ret;
	__u32 pt;

	cur_op = "attach";
	if (!d)
		return;
	switch (kind) {
	case 0:
		pt = S.ioas;
		break;
	case 1:
		idx = chance(80) ? d->iommu : !d->iommu;
		if (!S.parent[idx].live)
			return;
		pt = S.parent[idx].id;
		/* Another SMMU's page table: EINVAL (the mock does not care) */
		if (idx != d->iommu) {
			if (mode == MOCK)
				return;
			want = -EINVAL;
		}
		break;
	case 2:
		idx = rn(MAX_NESTED);
		if (!S.nested[idx].live)
			return;
		pt = S.nested[idx].id;
		/*
		 * Only with a virtual ID on the nested HWPT's vIOMMU, if it
		 * translates; abort and bypass take any device
		 */
		if (S.nested[idx].translates &&
		    d->viommu != S.nested[idx].viommu)
			want = -ENOENT;
		/* and only a device behind the vIOMMU's physical SMMU */
		else if (d->iommu != S.viommu[S.nested[idx].viommu].iommu)
			want = -EINVAL;
		break;
	default:
		/* VFIO detach (the mock devices have no detach) */
		if (mode == MOCK)
			return;
		cur_op = "detach";
		{
			struct vfio_device_detach_iommufd_pt cmd = {
				.argsz = sizeof(cmd),
			};

			ret = vfio_ioctl(d->vd.fd,
					 VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd);
		}
		/* Detaching a detached device is a no-op that succeeds */
		if (check(ret, 0))
			model_detach(d);
		return;
	}
	ret = dev_attach(d, pt);
	if (!check(ret, want))
		return;
	model_detach(d);
	d->att = kind == 0 ? ATT_IOAS : kind == 1 ? ATT_PARENT : ATT_NESTED;
	d->att_idx = idx;
	if (kind == 1)
		S.parent[idx].users++;
	if (kind == 2)
		S.nested[idx].users++;
}

/* ---- IOMMU_HW_QUEUE_ALLOC, mmap() and the queue memory ----------------- */

/* The queue slot of HW queue @index of vIOMMU @v, or -1. */
static int queue_of(int v, __u32 index)
{
	int i;

	for (i = 0; i < MAX_QUEUE; i++)
		if (S.queue[i].live && S.queue[i].viommu == v &&
		    S.queue[i].index == index)
			return i;
	return -1;
}

/*
 * The queue memory, and what pinning it must answer: 0, or the errno. A
 * range over both read-write pages answers EFAULT unless they happen to
 * be physically contiguous: *@either says that both answers are right.
 */
static int pick_queue_mem(__u64 *iova, __u64 *len, bool *either)
{
	__u64 off;

	*either = false;
	switch (rn(10)) {
	case 7:		/* over the page boundary */
		off = pgsz - 1 - rn(pgsz / 2);
		*iova = QIOVA + off;
		*len = pgsz - off + 1 + rn(pgsz - 1);
		*either = true;
		return S.qmem_mapped ? 0 : -ENOENT;
	case 8:		/* not readable: EPERM */
		*iova = QIOVA_WO + rn(pgsz / 2);
		*len = 1 + rn(pgsz / 2);
		return -EPERM;
	case 9:		/* the hole, or the end of the address space */
		if (chance(50)) {
			*iova = QIOVA_HOLE + rn(pgsz);
			*len = 1 + rn(pgsz);
			return -ENOENT;
		}
		*iova = ~0ull - rn(pgsz);
		*len = pgsz + rn(pgsz);
		return -EOVERFLOW;
	default:	/* inside one page */
		off = rn(pgsz);
		*iova = QIOVA + (rn(2) ? pgsz : 0) + off;
		*len = 1 + rn(pgsz - off);
		return S.qmem_mapped ? 0 : -ENOENT;
	}
}

static void op_hw_queue_alloc(void)
{
	struct iommu_hw_queue_alloc cmd = { .size = sizeof(cmd) };
	int v = pick_viommu(), q, pre, want, mem, ret;
	struct fviommu *vi = &S.viommu[v];
	__u32 token = rnd();
	bool either;

	cur_op = "HW_QUEUE_ALLOC";
	for (q = 0; q < MAX_QUEUE && S.queue[q].live; q++)
		;
	if (q == MAX_QUEUE)
		return;
	cmd.viommu_id = viommu_id_of(v);
	cmd.type = mode == MOCK ? IOMMU_HW_QUEUE_TYPE_SELFTEST :
				  IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV;
	if (chance(10)) {
		static const __u32 types[] = {
			IOMMU_HW_QUEUE_TYPE_DEFAULT,
			IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
			IOMMU_HW_QUEUE_TYPE_SELFTEST, 2, 0x1234,
		};

		cmd.type = types[rn(5)];
	}
	/* Mostly the next index, so that queues get made */
	cmd.index = chance(75) && vi->live ? (__u32)vi->nqueues : rn(4);
	mem = pick_queue_mem(&cmd.nesting_parent_iova, &cmd.length, &either);
	if (chance(5))
		cmd.length = 0;
	/* Before the pin; the SMMU's own vIOMMU type has no HW queues */
	pre = cmd.type == IOMMU_HW_QUEUE_TYPE_DEFAULT ? -EOPNOTSUPP :
	      !cmd.length ? -EINVAL :
	      !vi->live ? -ENOENT :
	      mode == SMMU || cmd.type != IOMMU_HW_QUEUE_TYPE_SELFTEST ? -EOPNOTSUPP : 0;
	if (chance(5)) {
		cmd.flags = 1u << rn(32);
		pre = -EOPNOTSUPP;
	}
	/* After it, the driver's order rules */
	want = pre ? pre : mem ? mem :
	       cmd.index >= IOMMU_TEST_HW_QUEUE_MAX ? -EINVAL :
	       queue_of(v, cmd.index) >= 0 ? -EEXIST :
	       cmd.index && queue_of(v, cmd.index - 1) < 0 ? -EINVAL : 0;
	/* What the pin must read back */
	if (!mem && cmd.length)
		memcpy(qmem + (cmd.nesting_parent_iova - QIOVA), &token,
		       sizeof(token));
	ret = fioctl(S.fd, IOMMU_HW_QUEUE_ALLOC, &cmd);
	/* Two pages that are not contiguous stop it at the pin */
	if (either && !pre && !mem && ret == -EFAULT)
		return;
	if (!check(ret, want))
		return;
	check_new_id("HW queue", cmd.out_hw_queue_id);
	S.queue[q].live = true;
	S.queue[q].id = cmd.out_hw_queue_id;
	S.queue[q].viommu = v;
	S.queue[q].index = cmd.index;
	vi->nqueues++;
	queues_made++;
	/* The core pinned the memory the caller named */
	if (cmd.length >= sizeof(token)) {
		struct iommu_test_cmd rd = {
			.size = sizeof(rd),
			.op = IOMMU_TEST_OP_HW_QUEUE_READ,
			.id = cmd.out_hw_queue_id,
		};

		if (ioctl(S.fd, IOMMU_TEST_CMD, &rd))
			report("HW_QUEUE_READ: %s", strerror(errno));
		else if (rd.hw_queue_read.out_base_data != token &&
			 cmd.nesting_parent_iova % pgsz <= pgsz - sizeof(token))
			report("queue memory reads 0x%x, wrote 0x%x",
			       rd.hw_queue_read.out_base_data, token);
	}
}

/* mmap() of a vIOMMU's page, or munmap() of it when it is mapped. */
static void op_mmap(void)
{
	int v = pick_viommu(), want = 0, ret, prot = PROT_READ | PROT_WRITE;
	struct fviommu *vi = &S.viommu[v];
	__u64 off = vi->mmap_off, len = vi->mmap_len;
	int flags = MAP_SHARED;
	void *va;

	cur_op = "mmap";
	if (vi->map) {
		viommu_unmap(vi);
		return;
	}
	if (!vi->live || !len) {
		/* No pair to map: a stale or made-up one */
		off = chance(50) ? old_offs[rn(8)] : rn(64) * pgsz;
		len = pgsz;
		want = -ENXIO;
	}
	switch (chance(40) ? rn(4) : 99) {
	case 0:
		len += pgsz;
		want = -ENXIO;
		break;
	case 1:
		off += pgsz;
		want = -ENXIO;
		break;
	case 2:
		flags = MAP_PRIVATE;
		want = -EINVAL;
		break;
	case 3:
		prot |= PROT_EXEC;
		want = -EPERM;
		break;
	}
	/*
	 * A stale offset may be the new pair of a live vIOMMU, and a mock
	 * vIOMMU allocated without data has a page whose pair it never told
	 */
	if (want == -ENXIO) {
		int k;

		for (k = 0; k < MAX_VIOMMU; k++)
			if (S.viommu[k].live &&
			    ((S.viommu[k].mmap_len == len &&
			      S.viommu[k].mmap_off == off) ||
			     (mode == MOCK && !S.viommu[k].mmap_len)))
				return;
	}
	fault_window(true);
	va = mmap(NULL, len, prot, flags, S.fd, off);
	ret = va == MAP_FAILED ? -errno : 0;
	fault_window(false);
	if (ret == -ENOMEM)
		enomem_seen++;
	if (!check(ret, want)) {
		if (!ret)
			munmap(va, len);
		return;
	}
	vi->map = va;
	pages_mapped++;
	/* The mock's page holds the in_data of the vIOMMU's allocation */
	if (*(volatile __u32 *)va != vi->in_data)
		report("vIOMMU page reads 0x%x, expected 0x%x",
		       *(volatile __u32 *)va, vi->in_data);
}

/*
 * IOMMU_IOAS_UNMAP of the read-write queue memory (EBUSY while a queue
 * pins it), or IOMMU_IOAS_MAP of it again. Outside the fault window: both
 * copy their answer out after the change, which an EFAULT then hides.
 */
static void op_qmem(void)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = S.ioas,
		.iova = QIOVA,
		.length = 2 * pgsz,
	};
	int i, want = 0, ret;

	cur_op = "IOAS_UNMAP(queue memory)";
	if (!S.qmem_mapped) {
		S.qmem_mapped = !qmem_map(QIOVA, 2, true);
		return;
	}
	for (i = 0; i < MAX_QUEUE; i++)
		if (S.queue[i].live)
			want = -EBUSY;
	ret = ioctl(S.fd, IOMMU_IOAS_UNMAP, &cmd) ? -errno : 0;
	if (check(ret, want))
		S.qmem_mapped = false;
}

/* ---- IOMMU_DESTROY --------------------------------------------------- */

static void op_destroy(void)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd) };
	int want, ret, i = 0, k = rn(6);

	cur_op = "DESTROY";
	switch (k) {
	case 0:
		i = pick_viommu();
		if (!S.viommu[i].live)
			return;
		cmd.id = S.viommu[i].id;
		/*
		 * Its IDs (and vDEVICEs), nested HWPTs, HW queues, vEVENTQs
		 * and mapping hold it
		 */
		want = S.viommu[i].nids || S.viommu[i].nnested ||
		       S.viommu[i].nqueues || S.viommu[i].nvevqs ||
		       S.viommu[i].map ? -EBUSY : 0;
		break;
	case 5:
		i = rn(MAX_QUEUE);
		if (!S.queue[i].live)
			return;
		cmd.id = S.queue[i].id;
		/* The next queue of its vIOMMU depends on it */
		want = queue_of(S.queue[i].viommu, S.queue[i].index + 1) >= 0 ?
		       -EBUSY : 0;
		break;
	case 1:
	case 2:
		i = rn(MAX_NESTED);
		if (!S.nested[i].live)
			return;
		cmd.id = S.nested[i].id;
		want = S.nested[i].users ? -EBUSY : 0;
		break;
	case 3:
		i = rn(MAX_IOMMU);
		if (!S.parent[i].live)
			return;
		cmd.id = S.parent[i].id;
		want = S.parent[i].users ? -EBUSY : 0;
		break;
	default:
		if (chance(50)) {
			struct fdev *d = pick_dev();

			if (!d)
				return;
			/* The VFIO driver owns the device object */
			cmd.id = d->dev_id;
			want = -EBUSY;
		} else {
			cmd.id = bogus_id();
			want = -ENOENT;
		}
		break;
	}
	ret = fioctl(S.fd, IOMMU_DESTROY, &cmd);
	if (!check(ret, want) || k == 4)
		return;
	if (k == 0) {
		S.viommu[i].live = false;
		S.parent[S.viommu[i].iommu].users--;
	} else if (k == 3) {
		S.parent[i].live = false;
	} else if (k == 5) {
		S.queue[i].live = false;
		S.viommu[S.queue[i].viommu].nqueues--;
	} else {
		S.nested[i].live = false;
		S.viommu[S.nested[i].viommu].nnested--;
	}
}

/* ---- unbind and bind again ---------------------------------------------- */

static void op_rebind(void)
{
	struct fdev *d = &S.dev[rn(S.ndev)];
	int ret;

	cur_op = "unbind/bind";
	if (d->present)
		dev_unbind(d);
	ret = dev_bind(d);
	if (ret && !bind_may_fail(ret))
		check(ret, 0);
}

/* ---- IOMMU_HWPT_INVALIDATE through a vIOMMU ------------------------ */

/*
 * The command allow-list of uapi.md, read independently of the kernel:
 * 0 if the SMMU may be given @c for the guest of vIOMMU @v, else -EIO.
 */
static int cmd_errno(int v, const __u64 c[2])
{
	const __u64 vmid = SMMU_CMD_0_VMID, asid = SMMU_CMD_0_ASID;
	const __u64 range0 = SMMU_CMD_0_TLBI_NUM | SMMU_CMD_0_TLBI_SCALE;
	const __u64 range1 = SMMU_CMD_1_TLBI_TTL | SMMU_CMD_1_TLBI_TG;
	__u64 ok0 = SMMU_CMD_0_OP, ok1 = 0;
	unsigned int op = c[0] & 0xff, tg;

	switch (op) {
	case SMMU_CMD_TLBI_NH_ALL:
		ok0 |= vmid;
		break;
	case SMMU_CMD_TLBI_NH_ASID:
		ok0 |= vmid | asid;
		break;
	case SMMU_CMD_TLBI_NH_VA:
		ok0 |= asid;
		/* fallthrough */
	case SMMU_CMD_TLBI_NH_VAA:
		ok0 |= vmid | range0;
		ok1 |= SMMU_CMD_1_TLBI_LEAF | SMMU_CMD_1_TLBI_ADDR | range1;
		break;
	case SMMU_CMD_TLBI_NSNH_ALL:
		break;
	case SMMU_CMD_CFGI_CD:
		ok0 |= SMMU_CMD_0_CFGI_SSID;
		ok1 |= SMMU_CMD_1_CFGI_LEAF;
		/* fallthrough */
	case SMMU_CMD_CFGI_CD_ALL:
		ok0 |= SMMU_CMD_0_SID;
		break;
	case SMMU_CMD_ATC_INV:
		/* No ATS on these SMMUs, and no edu has ATS on */
		return -EIO;
	default:
		return -EIO;
	}
	if ((c[0] & ~ok0) || (c[1] & ~ok1))
		return -EIO;
	if (op == SMMU_CMD_TLBI_NH_VA || op == SMMU_CMD_TLBI_NH_VAA) {
		tg = SMMU_GET(SMMU_CMD_1_TLBI_TG, c[1]);
		if ((c[0] & range0) || (c[1] & range1)) {
			if (!hw.ril || !tg || !(hw.pgsizes & (1ull << (10 + 2 * tg))))
				return -EIO;
		}
	}
	if ((op == SMMU_CMD_TLBI_NH_VA || op == SMMU_CMD_TLBI_NH_ASID) &&
	    (SMMU_GET(asid, c[0]) >> hw.asid_bits))
		return -EIO;
	if (op == SMMU_CMD_CFGI_CD &&
	    (SMMU_GET(SMMU_CMD_0_CFGI_SSID, c[0]) >> hw.ssid_bits))
		return -EIO;
	if (op == SMMU_CMD_CFGI_CD || op == SMMU_CMD_CFGI_CD_ALL) {
		if (model_vid_owner(v, SMMU_GET(SMMU_CMD_0_SID, c[0])) < 0)
			return -EIO;
	}
	return 0;
}

/* A virtual ID that a device has on vIOMMU @v, if there is one. */
static __u32 owned_vid(int v)
{
	int i, start = rn(S.ndev);

	for (i = 0; i < S.ndev; i++) {
		struct fdev *d = &S.dev[(start + i) % S.ndev];

		if (d->present && d->viommu == v)
			return d->vid;
	}
	return 0x40 + rn(6);
}

/* A mostly legal command, sometimes bent out of shape. */
static void random_cmd(int v, __u64 c[2])
{
	static const unsigned int ops[] = {
		SMMU_CMD_TLBI_NH_ALL, SMMU_CMD_TLBI_NH_ASID, SMMU_CMD_TLBI_NH_VA,
		SMMU_CMD_TLBI_NH_VAA, SMMU_CMD_TLBI_NSNH_ALL, SMMU_CMD_CFGI_CD,
		SMMU_CMD_CFGI_CD_ALL,
	};
	static const unsigned int bad[] = {
		SMMU_CMD_PREFETCH_CFG, SMMU_CMD_CFGI_STE, SMMU_CMD_CFGI_ALL,
		SMMU_CMD_TLBI_EL2_ALL, SMMU_CMD_TLBI_S12_VMALL,
		SMMU_CMD_TLBI_S2_IPA, SMMU_CMD_ATC_INV, SMMU_CMD_SYNC,
		0x02, 0x07, 0x14, 0x21, 0x41, 0x44, 0x45, 0xff,
	};
	unsigned int op = ops[rn(7)];
	__u64 vid = chance(60) ? owned_vid(v) :
		    chance(70) ? 0x40 + rn(6) : rnd() & 0xffffffff;
	int i;

	c[0] = op;
	c[1] = 0;
	switch (op) {
	case SMMU_CMD_TLBI_NH_VA:
	case SMMU_CMD_TLBI_NH_VAA:
		c[1] = rnd() & (SMMU_CMD_1_TLBI_ADDR | SMMU_CMD_1_TLBI_LEAF);
		if (chance(30)) {
			c[0] |= rnd() & (SMMU_CMD_0_TLBI_NUM | SMMU_CMD_0_TLBI_SCALE);
			c[1] |= rnd() & (SMMU_CMD_1_TLBI_TTL | SMMU_CMD_1_TLBI_TG);
		}
		/* fallthrough */
	case SMMU_CMD_TLBI_NH_ASID:
		if (op != SMMU_CMD_TLBI_NH_VAA)
			c[0] |= SMMU_FIELD(SMMU_CMD_0_ASID,
					   chance(90) ? rn(256) : rnd());
		/* fallthrough */
	case SMMU_CMD_TLBI_NH_ALL:
		if (chance(50))
			c[0] |= SMMU_FIELD(SMMU_CMD_0_VMID, rnd());
		break;
	case SMMU_CMD_CFGI_CD:
		c[1] = rnd() & SMMU_CMD_1_CFGI_LEAF;
		if (chance(10))
			c[0] |= SMMU_FIELD(SMMU_CMD_0_CFGI_SSID, rnd());
		/* fallthrough */
	case SMMU_CMD_CFGI_CD_ALL:
		c[0] |= SMMU_FIELD(SMMU_CMD_0_SID, vid);
		break;
	}
	switch (rn(20)) {
	case 0:
		c[0] = (c[0] & ~0xffull) | bad[rn(16)];
		break;
	case 1:
		c[rn(2)] ^= 1ull << rn(64);
		break;
	case 2:
		c[0] = rnd();
		c[1] = rnd();
		break;
	case 3:
		/* Bits just outside the defined fields */
		for (i = 0; i < 1 + (int)rn(3); i++)
			c[rn(2)] |= 1ull << rn(64);
		break;
	}
}

static void op_invalidate(void)
{
	static __u8 buf[MAX_BATCH * 64];
	struct iommu_hwpt_invalidate cmd = { .size = sizeof(cmd) };
	int v = pick_viommu(), want = 0, ret, i, stop = -1;
	struct fviommu *vi = &S.viommu[v];
	__u32 n = rn(4) ? 1 + rn(8) : rn(MAX_BATCH + 1);
	__u32 elen = mode == MOCK ? sizeof(struct iommu_viommu_invalidate_selftest) :
				    sizeof(struct iommu_viommu_arm_smmuv3_invalidate);
	__u32 base = elen;

	cur_op = "HWPT_INVALIDATE";
	/* Entries longer than the struct: trailing bytes must be zero */
	if (chance(10))
		elen = base + 1 + rn(64 - base - 1);
	else if (chance(3))
		elen = 1 + rn(base - 1);
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < (int)n; i++) {
		__u8 *e = buf + i * elen;
		int err;

		if (mode == MOCK) {
			struct iommu_viommu_invalidate_selftest inv = {
				.flags = chance(50) ? IOMMU_TEST_INVALIDATE_FLAG_ALL : 0,
				.vdev_id = chance(70) ? owned_vid(v) :
					   chance(80) ? 0x40 + rn(6) : rnd(),
				.cache_id = chance(90) ? rn(MOCK_DEV_CACHE_NUM) : rnd(),
			};

			if (chance(3))
				inv.flags = rnd();
			memcpy(e, &inv, sizeof(inv));
			err = inv.flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL ? -EOPNOTSUPP :
			      inv.cache_id > MOCK_DEV_CACHE_ID_MAX ? -EINVAL :
			      model_vid_owner(v, inv.vdev_id) < 0 ? -EIO : 0;
		} else {
			__u64 c[2];

			random_cmd(v, c);
			memcpy(e, c, sizeof(c));
			err = cmd_errno(v, c);
		}
		/* An entry that cannot be copied is never looked at */
		if (elen > base && chance(3)) {
			e[base + rn(elen - base)] = 1;
			err = -E2BIG;
		}
		if (elen < base)
			err = -EINVAL;
		if (err && stop < 0) {
			stop = i;
			want = err;
		}
	}
	cmd.hwpt_id = viommu_id_of(v);
	cmd.data_uptr = (uintptr_t)buf;
	cmd.data_type = mode == MOCK ? IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST :
				       IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;
	cmd.entry_len = elen;
	cmd.entry_num = n;
	if (stop < 0)
		stop = n;
	if (!n) {
		want = 0;
		stop = 0;
	}
	switch (chance(10) ? rn(4) : 99) {
	case 0:
		cmd.__reserved = 1;
		want = -EOPNOTSUPP;
		stop = 0;
		break;
	case 1:
		/* Also with no entries: the probe says "not supported" */
		cmd.data_type ^= 1 + rn(7);
		want = -EINVAL;
		stop = 0;
		break;
	case 2:
		if (n) {
			cmd.data_uptr = 0;
			want = -EINVAL;
			stop = 0;
		}
		break;
	case 3: {
		/* A nested HWPT takes no invalidation: through the vIOMMU */
		int h = rn(MAX_NESTED);

		if (S.nested[h].live && cmd.__reserved == 0 && n) {
			cmd.hwpt_id = S.nested[h].id;
			want = -EOPNOTSUPP;
			stop = 0;
			v = -1;
		}
		break;
	}
	}
	if (v >= 0 && !vi->live && cmd.__reserved == 0 && !(n && !cmd.data_uptr)) {
		want = -ENOENT;
		stop = 0;
	}
	ret = fioctl(S.fd, IOMMU_HWPT_INVALIDATE, &cmd);
	total_cmds += n;
	if (ret != -ENOMEM && ret != -EFAULT && cmd.entry_num != (__u32)stop &&
	    (ret == want || !fault_pct))
		report("entry_num %u, expected %d (of %u, %s)", cmd.entry_num,
		       stop, n, strerror(-ret));
	/*
	 * Every entry the kernel handled must be one the allow-list allows.
	 * After EFAULT the answer may not have been copied back at all.
	 */
	if (mode == SMMU && v >= 0 && vi->live && cmd.entry_num <= n &&
	    ret != -EFAULT &&
	    cmd.data_type == IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3) {
		for (i = 0; i < (int)cmd.entry_num; i++) {
			__u64 c[2];

			memcpy(c, buf + i * elen, sizeof(c));
			if (cmd_errno(v, c))
				report("accepted an illegal command %016llx %016llx",
				       (unsigned long long)c[0],
				       (unsigned long long)c[1]);
		}
	}
	if (cmd.entry_num <= n && ret != -EFAULT)
		accepted_cmds += cmd.entry_num;
	check(ret, want);
}

/* ---- the kernel log: no command queue error -------------------------- */

static size_t klog_seen;

/* Report SMMU command queue / global errors logged since the last call. */
static void check_klog(void)
{
	static char buf[1 << 17];
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *p, *line;

	if (len <= 0 || len > (int)sizeof(buf))
		len = sizeof(buf);
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len < 0)
		return;
	buf[len < (int)sizeof(buf) ? len : (int)sizeof(buf) - 1] = 0;
	/* The buffer may have wrapped: look at what is new by content */
	for (line = strtok_r(buf, "\n", &p); line; line = strtok_r(NULL, "\n", &p)) {
		if (!strstr(line, "CMDQ error") && !strstr(line, "global error"))
			continue;
		if (klog_seen++ < 5) {
			cur_op = "kernel log";
			report("%s", line);
		}
	}
}

/* ---- one seed ------------------------------------------------------------ */

static int run_seed(__u64 seed, unsigned long iters, unsigned int secs,
		    int test)
{
	time_t end = time(NULL) + secs;
	unsigned long before = reports, ops = 0, seqs = 0;
	unsigned long nomem = enomem_seen;

	cur_seed = seed;
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	printf("# seed 0x%" PRIx64 ": %s, up to %lu operations, %u s%s\n",
	       (uint64_t)seed, mode == MOCK ? "mock" : "smmu", iters, secs,
	       fault_pct ? " (fault injection)" : "");
	fflush(stdout);
	while (ops < iters && time(NULL) < end) {
		unsigned long len = 20 + rn(200), j;

		cur_seq = seqs;
		if (!seq_open())
			break;
		for (j = 0; j < len && ops < iters; j++, ops++) {
			cur_iter = ops;
			switch (rn(30)) {
			case 0: case 1:
				op_viommu_alloc();
				break;
			case 2: case 3: case 4:
				op_set_dev_id(true);
				break;
			case 5: case 6:
				op_set_dev_id(false);
				break;
			case 7: case 8:
				op_nested_alloc();
				break;
			case 9: case 10: case 11:
				op_attach();
				break;
			case 12: case 13:
				op_destroy();
				break;
			case 14:
				op_rebind();
				break;
			case 20: case 21:
				op_hw_queue_alloc();
				break;
			case 22:
				op_mmap();
				break;
			case 23:
				op_qmem();
				break;
			case 24: case 25:
				op_vdevice();
				break;
			case 26: case 27: case 28: case 29:
				op_veventq();
				break;
			default:
				op_invalidate();
				break;
			}
		}
		seq_close();
		seqs++;
		if (mode == SMMU)
			check_klog();
	}
	total_ops += ops;
	total_seqs += seqs;
	printf("%sok %d fuzz %s seed=0x%" PRIx64 ": %lu operations in %lu sequences, %lu reports",
	       reports == before ? "" : "not ", test,
	       mode == MOCK ? "mock" : "smmu", (uint64_t)seed, ops, seqs,
	       reports - before);
	if (fault_pct)
		printf(", %lu ENOMEM", enomem_seen - nomem);
	printf("\n");
	fflush(stdout);
	return reports == before;
}

/* ---- set-up ------------------------------------------------------------ */

static bool write_str(const char *path, const char *val)
{
	int ret = vmm_write_file(path, val);

	if (ret)
		printf("# %s: %s\n", path, strerror(-ret));
	return !ret;
}

static const char *const fault_attrs[] = {
	"failslab", "fail_page_alloc", "fail_usercopy",
};

static bool fault_attr_write(const char *attr, const char *file,
			     const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", attr, file);
	return write_str(path, val);
}

/*
 * failslab, fail_page_alloc, fail_usercopy: @pct %, this task only. The
 * probability goes last: until task-filter is set, a non-zero probability
 * makes every task of the guest fail, this one's writes here included.
 * Returns false when an attribute could not be set up.
 */
static bool fault_setup(unsigned int pct)
{
	char path[128], val[16];
	bool ok = true;
	unsigned int i;

	snprintf(val, sizeof(val), "%u", pct);
	for (i = 0; i < 3; i++) {
		const char *a = fault_attrs[i];

		snprintf(path, sizeof(path), "/sys/kernel/debug/%s", a);
		if (access(path, F_OK)) {
			printf("# %s: not in this kernel\n", a);
			continue;
		}
		/* One line per injected failure, no stack: the log stays short */
		if (!fault_attr_write(a, "task-filter", "Y") ||
		    !fault_attr_write(a, "interval", "1") ||
		    !fault_attr_write(a, "times", "-1") ||
		    !fault_attr_write(a, "verbose", "1") ||
		    (i < 2 && !fault_attr_write(a, "ignore-gfp-wait", "N")) ||
		    !fault_attr_write(a, "probability", val))
			ok = false;
	}
	fail_fd = open("/proc/self/make-it-fail", O_WRONLY);
	if (fail_fd < 0) {
		printf("# /proc/self/make-it-fail: %s\n", strerror(errno));
		ok = false;
	}
	return ok;
}

/* Leave no fault injection armed for the programs that run next. */
static void fault_teardown(void)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s",
			 fault_attrs[i]);
		if (!access(path, F_OK))
			fault_attr_write(fault_attrs[i], "probability", "0");
	}
}

static bool hw_setup(void)
{
	struct {
		__u32 flags, rsvd, idr[6], iidr, aidr;
	} info;
	__u32 len = sizeof(info), type;
	struct vmm_dev vd;
	int fd, n, i, ret;

	n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pcis, MAX_DEV);
	if (n < 2 || n > MAX_DEV) {
		printf("# expected 2 to %d edus, found %d\n", MAX_DEV, n);
		return false;
	}
	nr_pci = n;
	for (i = 0; i < n; i++) {
		pci_iommu[i] = i && strcmp(pcis[i].iommu, pcis[i - 1].iommu) ?
			       pci_iommu[i - 1] + 1 : i ? pci_iommu[i - 1] : 0;
		printf("# edu %s behind %s (IOMMU %d)\n", pcis[i].bdf,
		       pcis[i].iommu, pci_iommu[i]);
		if (pci_iommu[i] >= MAX_IOMMU)
			return false;
	}
	fd = vmm_iommufd_open();
	if (fd < 0 || vmm_dev_open(&vd, &pcis[0]) || vmm_dev_bind(&vd, fd))
		return false;
	ret = vmm_hw_info(fd, vd.dev_id, &info, &len, &type, NULL);
	vmm_dev_close(&vd);
	close(fd);
	if (ret)
		return false;
	hw.ril = info.idr[3] & SMMU_IDR3_RIL;
	hw.ats = info.idr[0] & SMMU_IDR0_ATS;
	hw.asid_bits = info.idr[0] & SMMU_IDR0_ASID16 ? 16 : 8;
	hw.ssid_bits = SMMU_GET(SMMU_IDR1_SSIDSIZE, info.idr[1]);
	hw.pgsizes = (info.idr[5] & SMMU_IDR5_GRAN4K ? 1ull << 12 : 0) |
		     (info.idr[5] & SMMU_IDR5_GRAN16K ? 1ull << 14 : 0) |
		     (info.idr[5] & SMMU_IDR5_GRAN64K ? 1ull << 16 : 0);
	printf("# SMMU: RIL %d ATS %d ASID bits %u SSID bits %u granules 0x%llx\n",
	       hw.ril, hw.ats, hw.asid_bits, hw.ssid_bits,
	       (unsigned long long)hw.pgsizes);
	return true;
}

int main(int argc, char **argv)
{
	struct timespec now;
	unsigned long iters = 2000;
	unsigned int secs = 60;
	__u64 seeds[2] = { 1 };
	int nseeds = 2, i, ok = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || (strcmp(argv[1], "mock") && strcmp(argv[1], "smmu"))) {
		fprintf(stderr, "usage: fuzz-viommu mock|smmu [seed=N] [iters=N] [secs=N] [fault=PCT]\n");
		return 2;
	}
	mode = strcmp(argv[1], "mock") ? SMMU : MOCK;
	/* The guest has no RTC: the monotonic clock's nanoseconds differ per boot */
	clock_gettime(CLOCK_MONOTONIC, &now);
	seeds[1] = ((__u64)now.tv_nsec << 20 ^ now.tv_sec ^ (__u64)getpid() << 48) | 1;
	for (i = 2; i < argc; i++) {
		if (!strncmp(argv[i], "seed=", 5)) {
			seeds[0] = strtoull(argv[i] + 5, NULL, 0);
			nseeds = 1;
		} else if (!strncmp(argv[i], "iters=", 6)) {
			iters = strtoul(argv[i] + 6, NULL, 0);
		} else if (!strncmp(argv[i], "secs=", 5)) {
			secs = strtoul(argv[i] + 5, NULL, 0);
		} else if (!strncmp(argv[i], "fault=", 6)) {
			fault_pct = strtoul(argv[i] + 6, NULL, 0);
		} else {
			fprintf(stderr, "fuzz-viommu: unknown argument %s\n",
				argv[i]);
			return 2;
		}
	}
	printf("TAP version 13\n");
	printf("# fuzz-viommu %s: seeds", argv[1]);
	for (i = 0; i < nseeds; i++)
		printf(" 0x%" PRIx64, (uint64_t)seeds[i]);
	printf(" (reproduce one: fuzz-viommu %s seed=N iters=%lu)\n", argv[1],
	       iters);
	printf("1..%d\n", nseeds);
	pgsz = getpagesize();
	qmem = mmap(NULL, 4 * pgsz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (qmem == MAP_FAILED) {
		printf("Bail out! queue memory: %s\n", strerror(errno));
		return 1;
	}
	if (mode == SMMU && !hw_setup()) {
		for (i = 0; i < nseeds; i++)
			printf("not ok %d fuzz smmu: no edu devices to fuzz with\n",
			       i + 1);
		return 1;
	}
	if (fault_pct && !fault_setup(fault_pct)) {
		fault_teardown();
		printf("Bail out! fault injection could not be set up\n");
		return 1;
	}
	/* The time bound is for the whole run, shared by the seeds */
	for (i = 0; i < nseeds; i++)
		ok += run_seed(seeds[i], iters, (secs + nseeds - 1) / nseeds,
			       i + 1);
	if (fault_pct)
		fault_teardown();
	printf("# fuzz-viommu %s: %lu operations, %lu sequences, %lu guest commands (%lu accepted), %lu HW queues, %lu pages mapped, %lu vDEVICEs, %lu vEVENTQs, %lu vEVENTs reported, %lu records read (%lu LOST_EVENTS), %lu reports\n",
	       argv[1], total_ops, total_seqs, total_cmds, accepted_cmds,
	       queues_made, pages_mapped, vdevs_made, vevqs_made,
	       vevents_made, vevents_read, vevents_lost, reports);
	return ok == nseeds ? 0 : 1;
}
#endif
