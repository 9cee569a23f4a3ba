// SPDX-License-Identifier: GPL-2.0
/*
 * race-viommu: threads that hammer the vIOMMU uAPI at the same time, for a
 * bounded time, so that the kernel's locking (igroup->lock, the vIOMMU's
 * vdevs_rwsem, the SMMU's invalidation mutex, object refcounts) is
 * exercised under lockdep and KASAN on the debug kernel.
 *
 *   race-viommu mock|smmu [secs=N] [seed=N]
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
#include <time.h>
#include <unistd.h>

#include "iommufd_test.h"
#include "seed.h"
#include "smmuv3.h"
#include "testdev.h"
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

enum { SMMU, MOCK };
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

enum { T_SET, T_UNSET, T_INVAL, T_ATTACH, T_DESTROY, T_UNBIND, T_VDEV,
	T_VEVENT, T_CLOSE, NR_T };
static const char *const tname[NR_T] = {
	"set", "unset", "inval", "attach", "destroy", "unbind", "vdevice",
	"vevent", "close",
};
static atomic_ulong calls[NR_T], oks[NR_T], bad[NR_T];

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

static __u32 alloc_viommu(int i)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = mode == MOCK ? IOMMU_VIOMMU_TYPE_SELFTEST :
				       IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.hwpt_id = C.parent[i],
	};
	int d;

	for (d = 0; d < C.ndev; d++)
		if (C.dev[d].iommu == i && C.dev[d].dev_id)
			break;
	if (d == C.ndev)
		return 0;
	cmd.dev_id = C.dev[d].dev_id;
	return testdev_ioctl(C.fd, IOMMU_VIOMMU_ALLOC, &cmd) ? 0 : cmd.out_viommu_id;
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
		C.viommu[i] = alloc_viommu(i);
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
	return 0;
}

/* Teardown cannot fail: close in a random order. */
static void ctx_close(__u64 *s)
{
	bool queues_first = rnd(s) & 1;
	int i;

	/* An open vEVENTQ file keeps the context alive until it is closed */
	for (i = 0; i < NR_IOMMU; i++) {
		if (queues_first && C.veventq_fd[i] >= 0)
			close(C.veventq_fd[i]);
	}
	if (rnd(s) & 1) {
		close(C.fd);
		for (i = 0; i < C.ndev; i++)
			if (mode == SMMU)
				vmm_dev_close(&C.dev[i].vd);
	} else {
		for (i = 0; i < C.ndev; i++)
			if (rnd(s) & 1)
				dev_unbind(&C.dev[i]);
		close(C.fd);
		for (i = 0; i < C.ndev; i++)
			if (mode == SMMU)
				vmm_dev_close(&C.dev[i].vd);
	}
	for (i = 0; i < NR_IOMMU; i++) {
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

	ret = testdev_ioctl(C.fd, IOMMU_DESTROY, &cmd);
	account(T_DESTROY, ret, ok);
	if (ret)
		return;
	if (what == 0) {
		C.viommu[i] = alloc_viommu(i);
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

static void *worker(void *arg)
{
	int t = (intptr_t)arg;
	__u64 s = seed ^ (0x9e3779b97f4a7c15ull * (t + 1));

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
		}
		pthread_rwlock_unlock(&C.lock);
		/*
		 * An unbind waits until no call holds the device: without a
		 * gap now and then, the other threads starve it and it races
		 * nothing
		 */
		if (t != T_UNBIND && rnd(&s) % 32 == 0)
			usleep(500);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_rwlockattr_t attr;
	pthread_t th[NR_T];
	unsigned int secs = 20;
	int i, n, failed = 0;
	__u64 s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || (strcmp(argv[1], "mock") && strcmp(argv[1], "smmu"))) {
		fprintf(stderr, "usage: race-viommu mock|smmu [secs=N] [seed=N]\n");
		return 2;
	}
	mode = strcmp(argv[1], "mock") ? SMMU : MOCK;
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
	printf("1..%d\n", NR_T + 1);

	/* The close thread must get its turn among the busy readers */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&C.lock, &attr);
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
	n = ctx_open();
	printf("%sok 1 set-up%s%s\n", n ? "not " : "", n ? ": " : "",
	       n ? strerror(-n) : "");
	if (n)
		return 1;

	deadline = time(NULL) + secs;
	for (i = 0; i < NR_T; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	for (i = 0; i < NR_T; i++)
		pthread_join(th[i], NULL);
	s = seed;
	ctx_close(&s);

	for (i = 0; i < NR_T; i++) {
		bool ok = !bad[i] && calls[i] && (i == T_CLOSE || oks[i]);

		failed += !ok;
		printf("%sok %d %s: %lu calls, %lu succeeded, %lu unexpected errnos\n",
		       ok ? "" : "not ", i + 2, tname[i], (unsigned long)calls[i],
		       (unsigned long)oks[i], (unsigned long)bad[i]);
	}
	return failed ? 1 : 0;
}
#endif
