// SPDX-License-Identifier: GPL-2.0
/*
 * regress-viommu: deterministic regression tests for kernel bugs that
 * guest/fuzz-viommu/ found, on the mock driver (iommufd selftest).
 *
 * xa_enomem_leftover: IOMMU_VIOMMU_SET_DEV_ID of an ID far from 0 needs
 * several levels of xarray nodes. When the allocation of a lower level and
 * the retry both fail, xa_insert() returns ENOMEM but leaves the upper
 * nodes, empty, in the vIOMMU's xarray. iommufd_viommu_destroy() took that
 * for a virtual ID left behind: WARN_ON(!xa_empty()). failslab's "space"
 * budget lets the first allocations of the call through and fails the two
 * after it (times=2), for every budget up to a few nodes, so the failure
 * lands between two levels on any layout. The console check of the plan
 * fails on the WARN; the test itself checks that every failed SET left no
 * ID behind and that the vIOMMU is then destroyed and usable as before.
 *
 * domain_fill_enomem_leftover: the same failure in the mock driver's own
 * xarray. IOMMU_HWPT_ALLOC on an IOAS with a mapping fills the new mock
 * domain, and mock_domain_map_pages() stores each page with xa_store().
 * When that fails between two levels, the aborted domain is freed with
 * empty nodes in its tree: mock_domain_free() WARNed (!xa_empty()) and
 * leaked them (kmemleak). The console check and the kmemleak scan of the
 * plan fail on those; the test checks the errno of every failed
 * allocation and that a budget did fail.
 *
 * inv_lock_killable: the SMMUv3 vIOMMU serialises its invalidations with
 * a mutex held across the copy of the commands from userspace. A thread
 * whose array sits on a userfaultfd page that is never resolved holds it
 * for as long as userspace wants; another process invalidating on the
 * same vIOMMU waited in D state, and SIGKILL did not end it until the
 * fault was resolved. The test blocks thread A that way, lets child B
 * wait on the same vIOMMU, kills B and requires it to be reaped within
 * 1 s; then it resolves the fault and checks that A's call completes and
 * the vIOMMU still invalidates. It runs on the SMMU's edu (bound to
 * vfio-pci if it is not yet) and needs CONFIG_USERFAULTFD.
 *
 * long_inv_killable_mock, long_inv_killable_smmu: IOMMU_HWPT_INVALIDATE
 * takes up to 2^19 entries, and the drivers walked every one of them
 * before looking at anything else: 2^19 page-long entries are 2 GiB of
 * user memory to check for zeroes (13.5 s in one call on the debug
 * kernel, 10.4 s from SIGKILL to the end of the process), 2^19 SMMU
 * commands are 2^13 CMD_SYNCs. A child makes such a call (the mock: page-
 * long entries over the zero page, each a valid invalidation of virtual
 * ID 0; the SMMUv3: 2^19 TLBI_NH_ASIDs in 512-byte entries, 256 MiB), is
 * killed 0.2 s into it and must be gone within 1 s, without having
 * returned from the call before the kill (else the call is too short to
 * show anything, which fails too). The vIOMMU then still invalidates.
 * Under TCG the mock's call takes about 2 s on the default kernel and
 * 12 s on the debug one; the SMMUv3's is shorter (QEMU's SMMU consumes
 * commands fast, and its entries are shorter) and shows the bug on the
 * debug kernel (make check-debug).
 *
 * long_inv_signal: a signal the caller handles must not end such a call:
 * a SIGALRM every millisecond (no SA_RESTART) through 2^16 page-long mock
 * entries, and the call still returns 0 with every entry handled.
 *
 * veventq_read_killable: a vEVENTQ's read() held the queue's read mutex,
 * taken uninterruptibly, across its copy to user memory. Thread A's read
 * blocks on a userfaultfd page; child B's read of the same queue waited in
 * D state and SIGKILL did not end it. B must be reaped within 1 s; then
 * A's fault is resolved and A gets the event.
 *
 * tegra.vintf_error_again (the fixture "tegra": the dual topology, run by
 * tests/fuzz.plan with -f tegra, left out of tests/check.plan with -F
 * tegra): a Tegra241 guest VINTF reported the error map of its queues to
 * the vEVENTQ only when the map had a bit not reported before. The guest
 * acknowledges an error on its own page, with no interrupt, so the next
 * error of the same queue shows the same bit: the VMM never heard of it,
 * and the guest's queue stayed stopped (race-viommu's tegra mode). The
 * test errs queue 0 three times, each time reading the record before it
 * acknowledges the error as a VMM raising its guest's interrupt does:
 * each error must give one record, with the queue's bit.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edudrv.h"
#include "iommufd_test.h"
#include "smmuv3.h"
#include "testdev.h"
#include "vcmdq.h"
#include "vmm.h"

#ifndef VMM_HAVE_VIOMMU
#include <kselftest.h>

int main(void)
{
	ksft_print_header();
	ksft_exit_skip("no vIOMMU uAPI in the headers\n");
}
#else

#pragma GCC diagnostic ignored "-Wunused-parameter"
/* The harness's setjmp()/fork() wrapper: a known false positive of GCC 12 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include <kselftest_harness.h>

#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define BIG_ID		0x10000000ull

static int put(const char *attr, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), FAILSLAB "%s", attr);
	return vmm_write_file(path, val);
}

static int set_dev_id(int fd, __u32 viommu, __u32 dev, __u64 id, bool set)
{
	struct iommu_viommu_set_dev_id cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu,
		.dev_id = dev,
		.id = id,
	};

	return testdev_ioctl(fd, set ? IOMMU_VIOMMU_SET_DEV_ID :
				       IOMMU_VIOMMU_UNSET_DEV_ID, &cmd);
}

FIXTURE(mock) {
	int fd;
	__u32 ioas, idev, parent;
};

FIXTURE_SETUP(mock)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt),
		.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
	};

	self->fd = vmm_iommufd_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, testdev_ioctl(self->fd, IOMMU_IOAS_ALLOC, &ioas));
	self->ioas = ioas.out_ioas_id;
	ASSERT_EQ(0, mock_dev_add(self->fd, self->ioas, 0, &self->idev, NULL,
				  NULL));
	hwpt.dev_id = self->idev;
	hwpt.pt_id = self->ioas;
	ASSERT_EQ(0, testdev_ioctl(self->fd, IOMMU_HWPT_ALLOC, &hwpt));
	self->parent = hwpt.out_hwpt_id;
}

FIXTURE_TEARDOWN(mock)
{
	put("probability", "0");
	if (self->fd >= 0)
		close(self->fd);
}

static __u32 viommu_alloc(struct __test_metadata *_metadata,
			  FIXTURE_DATA(mock) *self)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VIOMMU_TYPE_SELFTEST,
		.dev_id = self->idev,
		.hwpt_id = self->parent,
	};

	EXPECT_EQ(0, testdev_ioctl(self->fd, IOMMU_VIOMMU_ALLOC, &cmd));
	return cmd.out_viommu_id;
}

/* failslab for this task only; returns its make-it-fail file */
static int failslab_setup(struct __test_metadata *_metadata)
{
	int mif = open("/proc/self/make-it-fail", O_WRONLY);

	ASSERT_LE(0, mif);
	ASSERT_EQ(0, put("task-filter", "Y"));
	ASSERT_EQ(0, put("ignore-gfp-wait", "N"));
	ASSERT_EQ(0, put("verbose", "0"));
	ASSERT_EQ(0, put("interval", "1"));
	return mif;
}

/*
 * Run @req on @fd with failslab letting @budget bytes through, then failing
 * two allocations: 0 or -errno.
 */
static int ioctl_budget(struct __test_metadata *_metadata, int mif,
			int budget, int fd, unsigned long req, void *arg)
{
	char val[16];
	int ret;

	snprintf(val, sizeof(val), "%d", budget);
	ASSERT_EQ(0, put("space", val));
	ASSERT_EQ(0, put("times", "2"));
	ASSERT_EQ(0, put("probability", "100"));
	ASSERT_EQ(1, pwrite(mif, "1", 1, 0));
	ret = testdev_ioctl(fd, req, arg);
	ASSERT_EQ(1, pwrite(mif, "0", 1, 0));
	ASSERT_EQ(0, put("probability", "0"));
	return ret;
}

TEST_F(mock, xa_enomem_leftover)
{
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	struct iommu_viommu_set_dev_id set = {
		.size = sizeof(set),
		.dev_id = self->idev,
		.id = BIG_ID,
	};
	int mif, budget, nomem = 0, ret;
	__u32 viommu;

	if (access(FAILSLAB, F_OK))
		SKIP(return, "no failslab in this kernel");
	mif = failslab_setup(_metadata);

	for (budget = 1; budget < 4 * 1024; budget += 32) {
		viommu = viommu_alloc(_metadata, self);
		ASSERT_NE(0u, viommu);
		set.viommu_id = viommu;
		ret = ioctl_budget(_metadata, mif, budget, self->fd,
				   IOMMU_VIOMMU_SET_DEV_ID, &set);
		if (ret) {
			ASSERT_EQ(-ENOMEM, ret);
			nomem++;
			/* Nothing was recorded: UNSET has nothing to remove */
			ASSERT_EQ(-EINVAL, set_dev_id(self->fd, viommu,
						      self->idev, BIG_ID,
						      false));
		} else {
			ASSERT_EQ(0, set_dev_id(self->fd, viommu, self->idev,
						BIG_ID, false));
		}
		/* No ID: the vIOMMU goes, with no WARN for empty nodes */
		destroy.id = viommu;
		ASSERT_EQ(0, testdev_ioctl(self->fd, IOMMU_DESTROY, &destroy));
	}
	TH_LOG("%d of %d budgets failed the SET with ENOMEM", nomem,
	       (4 * 1024 - 1) / 32 + 1);
	ASSERT_LT(0, nomem);
	close(mif);
}

TEST_F(mock, domain_fill_enomem_leftover)
{
	long pgsz = sysconf(_SC_PAGESIZE);
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = self->ioas,
		.length = pgsz,
		/* Far from 0: four levels of nodes in the mock's xarray */
		.iova = 1ull << 30,
	};
	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt),
		.dev_id = self->idev,
		.pt_id = self->ioas,
	};
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	int mif, budget, nomem = 0, ret;
	void *buf;

	if (access(FAILSLAB, F_OK))
		SKIP(return, "no failslab in this kernel");
	buf = mmap(NULL, pgsz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	map.user_va = (uintptr_t)buf;
	ASSERT_EQ(0, testdev_ioctl(self->fd, IOMMU_IOAS_MAP, &map));
	mif = failslab_setup(_metadata);

	for (budget = 1; budget < 8 * 1024; budget += 32) {
		ret = ioctl_budget(_metadata, mif, budget, self->fd,
				   IOMMU_HWPT_ALLOC, &hwpt);
		if (ret) {
			ASSERT_EQ(-ENOMEM, ret);
			nomem++;
			continue;
		}
		destroy.id = hwpt.out_hwpt_id;
		ASSERT_EQ(0, testdev_ioctl(self->fd, IOMMU_DESTROY, &destroy));
	}
	TH_LOG("%d of %d budgets failed the HWPT_ALLOC with ENOMEM", nomem,
	       (8 * 1024 - 1) / 32 + 1);
	ASSERT_LT(0, nomem);
	close(mif);
	munmap(buf, pgsz);
}

/* ---- inv_lock_killable: SMMUv3 vIOMMU, userfaultfd ---------------------- */

/* The state letter of /proc/@pid/stat, 0 if it cannot be read */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A page of its own, registered with a new userfaultfd, that stays missing
 * until the test resolves it: a thread touching it blocks in the kernel.
 * *@uffd gets the userfaultfd; NULL (and *@uffd -ENOSYS) without
 * CONFIG_USERFAULTFD.
 */
static void *uffd_page(struct __test_metadata *_metadata, int *uffd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	long pgsz = sysconf(_SC_PAGESIZE);
	void *area;

	*uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (*uffd < 0 && errno == ENOSYS) {
		*uffd = -ENOSYS;
		return NULL;
	}
	ASSERT_LE(0, *uffd);
	ASSERT_EQ(0, ioctl(*uffd, UFFDIO_API, &api));
	area = mmap(NULL, pgsz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	reg.range.start = (uintptr_t)area;
	reg.range.len = pgsz;
	ASSERT_EQ(0, ioctl(*uffd, UFFDIO_REGISTER, &reg));
	return area;
}

/* Wait until a thread faults on @area: it is blocked in the kernel. */
static void uffd_wait_fault(struct __test_metadata *_metadata, int uffd,
			    void *area)
{
	long pgsz = sysconf(_SC_PAGESIZE);
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ((ssize_t)sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	ASSERT_EQ((uintptr_t)area, msg.arg.pagefault.address & ~(pgsz - 1));
}

/*
 * Child @pid waits for a lock another thread holds: once it is seen in D
 * state, SIGKILL it; it must be reaped within 1 s. Returns whether it
 * was; *@status gets its wait status if so.
 */
static bool kill_waiter(struct __test_metadata *_metadata, pid_t pid,
			int *status)
{
	bool reaped = false;
	char state = 0;
	double t0;

	for (t0 = now_s(); now_s() - t0 < 10; usleep(10000)) {
		state = proc_state(pid);
		if (state == 'D' || state == 'Z')
			break;
	}
	TH_LOG("B is in state %c before SIGKILL", state ? state : '?');
	EXPECT_EQ('D', state);

	EXPECT_EQ(0, kill(pid, SIGKILL));
	for (t0 = now_s(); now_s() - t0 < 1; usleep(10000)) {
		if (waitpid(pid, status, WNOHANG) == pid) {
			reaped = true;
			break;
		}
	}
	EXPECT_TRUE(reaped) {
		TH_LOG("B not reaped 1 s after SIGKILL, state %c",
		       proc_state(pid));
	}
	return reaped;
}

struct inv_call {
	int fd;
	__u32 viommu;
	const void *cmds;
	__u32 num;
	int ret;
};

static void *inv_thread(void *arg)
{
	struct inv_call *c = arg;

	c->ret = vmm_viommu_invalidate(c->fd, c->viommu,
				       IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
				       c->cmds, 16, &c->num);
	return NULL;
}

/*
 * The SMMUv3 vIOMMU still invalidates, and still refuses what it should:
 * CFGI_STE is the VMM's business, never the guest's (EIO at entry 1).
 */
static void smmu_still_works(struct __test_metadata *_metadata, int fd,
			     __u32 viommu)
{
	__le64 cmds[2][2];
	__u32 num = 2;

	smmu_cmd_tlbi_nh_all(cmds[0]);
	smmu_cmd_tlbi_nh_asid(cmds[1], 1);
	EXPECT_EQ(0, vmm_viommu_invalidate(fd, viommu,
					   IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
					   cmds, sizeof(cmds[0]), &num));
	EXPECT_EQ(2u, num);
	smmu_cmd_op(cmds[1], SMMU_CMD_CFGI_STE);
	num = 2;
	EXPECT_EQ(-EIO, vmm_viommu_invalidate(fd, viommu,
					      IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
					      cmds, sizeof(cmds[0]), &num));
	EXPECT_EQ(1u, num);
}

TEST(inv_lock_killable)
{
	struct uffdio_copy copy = {};
	long pgsz = sysconf(_SC_PAGESIZE);
	struct inv_call a = { .num = 1 };
	__u32 ioas, parent, viommu, num;
	struct vmm_pci pci[8];
	__le64 cmds[2][2];
	struct vmm_dev dev;
	int iommu[8], n, fd, uffd, status = 0;
	pthread_t thread;
	void *area, *src;
	bool reaped;
	pid_t pid;

	n = edu_find_all(pci, iommu, 8);
	if (n <= 0)
		SKIP(return, "no edu behind an SMMU in this VM");
	if (!pci[0].cdev[0]) {
		ASSERT_EQ(0, vmm_bind_vfio_pci(pci[0].bdf));
		ASSERT_LT(0, edu_find_all(pci, iommu, 8));
		ASSERT_NE(0, pci[0].cdev[0]);
	}
	/* A's array: a page that stays missing until the test resolves it */
	area = uffd_page(_metadata, &uffd);
	if (!area)
		SKIP(return, "no userfaultfd (CONFIG_USERFAULTFD) in this kernel");

	fd = vmm_iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_dev_bind(&dev, &pci[0], fd));
	ASSERT_EQ(0, vmm_ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, vmm_viommu_create(fd, dev.dev_id, ioas,
				       IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				       &parent, &viommu));
	smmu_cmd_tlbi_nh_all(cmds[0]);
	smmu_cmd_tlbi_nh_asid(cmds[1], 1);

	a.fd = fd;
	a.viommu = viommu;
	a.cmds = area;
	ASSERT_EQ(0, pthread_create(&thread, NULL, inv_thread, &a));
	/* A faults inside the call, holding the vIOMMU's invalidation lock */
	uffd_wait_fault(_metadata, uffd, area);

	/* B invalidates on the same vIOMMU: it has to wait for A */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		num = 1;
		_exit(vmm_viommu_invalidate(fd, viommu,
					    IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
					    cmds, sizeof(cmds[0]), &num) ? 1 : 0);
	}
	reaped = kill_waiter(_metadata, pid, &status);

	/* Resolve A's fault with its command: A completes */
	src = mmap(NULL, pgsz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	memcpy(src, cmds[0], sizeof(cmds[0]));
	copy.dst = (uintptr_t)area;
	copy.src = (uintptr_t)src;
	copy.len = pgsz;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(0, a.ret);
	EXPECT_EQ(1u, a.num);
	if (!reaped)
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	smmu_still_works(_metadata, fd, viommu);

	munmap(src, pgsz);
	munmap(area, pgsz);
	close(uffd);
	vmm_dev_close(&dev);
	close(fd);
}

/* ---- long_inv_killable: a fatal signal ends a long invalidation -------- */

#define LONG_INV_NUM	(1u << 19)	/* IOMMU_HWPT_INVALIDATE's cap */
#define LONG_INV_SMMU_LEN	512u

/*
 * A child invalidates @num entries of @entry_len bytes at @buf through
 * @viommu and is SIGKILLed 0.2 s into the call: it must be reaped within
 * 1 s, and must still have been in the call when killed.
 */
static void kill_long_inv(struct __test_metadata *_metadata, int fd,
			  __u32 viommu, __u32 type, const void *buf,
			  __u32 entry_len, __u32 num)
{
	int go[2], done[2], r[2], status = 0;
	bool reaped = false;
	double t0, t = 0;
	char c, state;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe2(done, O_NONBLOCK));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		__u32 n = num;
		int r[2];

		c = 'g';
		if (write(go[1], &c, 1) != 1)
			_exit(2);
		r[0] = vmm_viommu_invalidate(fd, viommu, type, buf, entry_len,
					     &n);
		r[1] = n;
		if (write(done[1], r, sizeof(r)) != sizeof(r))
			_exit(2);
		pause();
		_exit(0);
	}
	close(go[1]);
	close(done[1]);
	ASSERT_EQ(1, read(go[0], &c, 1));
	usleep(200000);
	state = proc_state(pid);
	TH_LOG("child in state %c 0.2 s into its call", state ? state : '?');

	t0 = now_s();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	while ((t = now_s() - t0) < 1) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
			break;
		}
		usleep(5000);
	}
	EXPECT_TRUE(reaped) {
		TH_LOG("child not reaped 1 s after SIGKILL, state %c",
		       proc_state(pid));
	}
	if (!reaped) {
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		t = now_s() - t0;
	}
	TH_LOG("child gone %.3f s after SIGKILL", t);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/*
	 * A call that ended before the kill shows nothing. The child wrote
	 * nothing if the pipe is at its end (0: it died in the call).
	 */
	EXPECT_EQ(0, read(done[0], r, sizeof(r))) {
		TH_LOG("the call returned %d, entry_num %d, within 0.2 s: too short to test",
		       r[0], r[1]);
	}
	close(go[0]);
	close(done[0]);
}

/*
 * A mock vIOMMU (*@viommu) on which the device has virtual ID 0, and @len
 * bytes of entries for it that are never written: every page reads as
 * zeroes, the zero page, so each page-long entry is a valid invalidation
 * of cache 0 of virtual ID 0 whose tail the kernel checks for zeroes, and
 * no memory is used.
 */
static void *zero_entries(struct __test_metadata *_metadata,
			  FIXTURE_DATA(mock) *self, size_t len, __u32 *viommu)
{
	void *buf;

	*viommu = viommu_alloc(_metadata, self);
	ASSERT_NE(0u, *viommu);
	ASSERT_EQ(0, set_dev_id(self->fd, *viommu, self->idev, 0, true));
	buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
		   MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	return buf;
}

TEST_F(mock, long_inv_killable_mock)
{
	long pgsz = sysconf(_SC_PAGESIZE);
	struct iommu_viommu_invalidate_selftest inv = { .cache_id = 1 };
	struct iommu_test_cmd rd = {
		.size = sizeof(rd),
		.op = IOMMU_TEST_OP_DEV_READ_CACHE,
		.id = self->idev,
	};
	size_t len = (size_t)LONG_INV_NUM * pgsz;
	__u32 viommu, num;
	void *buf;

	buf = zero_entries(_metadata, self, len, &viommu);
	/* Three such entries work, and invalidate cache 0 only */
	num = 3;
	ASSERT_EQ(0, vmm_viommu_invalidate(self->fd, viommu,
					   IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					   buf, pgsz, &num));
	ASSERT_EQ(3u, num);
	rd.read_cache.cache_id = 0;
	ASSERT_EQ(0, testdev_ioctl(self->fd, IOMMU_TEST_CMD, &rd));
	ASSERT_EQ(0u, rd.read_cache.out_cache);
	rd.read_cache.cache_id = 1;
	ASSERT_EQ(0, testdev_ioctl(self->fd, IOMMU_TEST_CMD, &rd));
	ASSERT_EQ((__u32)IOMMU_TEST_DEV_CACHE_DEFAULT, rd.read_cache.out_cache);

	kill_long_inv(_metadata, self->fd, viommu,
		      IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, buf, pgsz,
		      LONG_INV_NUM);

	/* The vIOMMU still invalidates: cache 1 now */
	num = 1;
	EXPECT_EQ(0, vmm_viommu_invalidate(self->fd, viommu,
					   IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					   &inv, sizeof(inv), &num));
	EXPECT_EQ(1u, num);
	EXPECT_EQ(0, testdev_ioctl(self->fd, IOMMU_TEST_CMD, &rd));
	EXPECT_EQ(0u, rd.read_cache.out_cache);
	munmap(buf, len);
	EXPECT_EQ(0, set_dev_id(self->fd, viommu, self->idev, 0, false));
	EXPECT_EQ(0, vmm_destroy(self->fd, viommu));
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

TEST_F(mock, long_inv_signal)
{
	long pgsz = sysconf(_SC_PAGESIZE);
	struct itimerval it = {
		.it_interval = { .tv_usec = 1000 },
		.it_value = { .tv_usec = 1000 },
	};
	struct sigaction sa = { .sa_handler = on_alarm };
	size_t len = ((size_t)1 << 16) * pgsz;
	__u32 viommu, num = 1u << 16;
	double t;
	void *buf;
	int ret;

	buf = zero_entries(_metadata, self, len, &viommu);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarms = 0;
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	t = now_s();
	ret = vmm_viommu_invalidate(self->fd, viommu,
				    IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, buf,
				    pgsz, &num);
	t = now_s() - t;
	memset(&it, 0, sizeof(it));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	signal(SIGALRM, SIG_DFL);
	TH_LOG("the call took %.3f s, %d SIGALRMs handled", t, (int)alarms);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(1u << 16, num);
	/*
	 * A timer that fires every 1 ms had a signal pending during a call
	 * of 10 ms or more (it is delivered, once, on the way out); a
	 * shorter call shows nothing.
	 */
	EXPECT_LT(0, alarms);
	EXPECT_LE(0.01, t);
	munmap(buf, len);
}

struct read_call {
	int fd;
	void *buf;
	size_t len;
	ssize_t ret;
};

static void *read_thread(void *arg)
{
	struct read_call *c = arg;

	c->ret = read(c->fd, c->buf, c->len);
	return NULL;
}

static void veventq_read_killable(struct __test_metadata *_metadata,
				  FIXTURE_DATA(mock) *self)
{
	struct uffdio_zeropage zero = {};
	struct iommu_veventq_alloc vq = {
		.size = sizeof(vq),
		.type = IOMMU_VEVENTQ_TYPE_SELFTEST,
		.veventq_depth = 4,
	};
	struct iommu_test_cmd trig = {
		.size = sizeof(trig),
		.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
		.trigger_vevent.dev_id = self->idev,
	};
	long pgsz = sysconf(_SC_PAGESIZE);
	struct read_call a = {};
	int uffd, status = 0;
	pthread_t thread;
	__u32 viommu;
	bool reaped;
	void *area;
	pid_t pid;

	/* A reads into a page that stays missing until the test resolves it */
	area = uffd_page(_metadata, &uffd);
	if (!area)
		SKIP(return, "no userfaultfd (CONFIG_USERFAULTFD) in this kernel");

	viommu = viommu_alloc(_metadata, self);
	ASSERT_NE(0u, viommu);
	ASSERT_EQ(0, set_dev_id(self->fd, viommu, self->idev, 3, true));
	vq.viommu_id = viommu;
	ASSERT_EQ(0, testdev_ioctl(self->fd, IOMMU_VEVENTQ_ALLOC, &vq));
	ASSERT_EQ(0, testdev_ioctl(self->fd, IOMMU_TEST_CMD, &trig));

	a.fd = vq.out_veventq_fd;
	a.buf = area;
	a.len = pgsz;
	ASSERT_EQ(0, pthread_create(&thread, NULL, read_thread, &a));
	/* A faults in its copy of the event, holding the queue's read lock */
	uffd_wait_fault(_metadata, uffd, area);

	/* B reads the same queue: it has to wait for A */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char b[256];

		_exit(read(vq.out_veventq_fd, b, sizeof(b)) < 0 ? 1 : 0);
	}
	reaped = kill_waiter(_metadata, pid, &status);

	/* Resolve A's fault: A gets the one event */
	zero.range.start = (uintptr_t)area;
	zero.range.len = pgsz;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zero));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_LT(0, a.ret);
	if (!reaped)
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	close(vq.out_veventq_fd);
	EXPECT_EQ(0, vmm_destroy(self->fd, vq.out_veventq_id));
	munmap(area, pgsz);
	close(uffd);
}

TEST_F(mock, veventq_read_killable)
{
	veventq_read_killable(_metadata, self);
}

/* ---- tegra: Tegra241 CMDQV, the dual topology --------------------------- */

FIXTURE(tegra) {
	int fd;
};

FIXTURE_SETUP(tegra)
{
	self->fd = -1;
}

FIXTURE_TEARDOWN(tegra)
{
}

static void vintf_error_again(struct __test_metadata *_metadata)
{
	struct iommu_viommu_tegra241_cmdqv data = {};
	long pgsz = sysconf(_SC_PAGESIZE);
	__u32 ioas, parent, viommu, hwq;
	struct vmm_veventq q = { .fd = -1 };
	struct vmm_pci pci[8];
	struct vmm_vevent ev[4];
	unsigned int err_index;
	__le64 cmds[2][2];
	int iommu[8], n, i, k, fd;
	struct vmm_dev dev;
	struct vcmdq vq;
	void *page0, *qmem;

	n = edu_find_all(pci, iommu, 8);
	ASSERT_LT(0, n);
	for (k = 0; k < n && iommu[k] != 1; k++)
		;
	ASSERT_LT(k, n) {
		TH_LOG("no edu behind SMMU 1 (the dual topology has one)");
	}
	if (!pci[k].cdev[0]) {
		ASSERT_EQ(0, vmm_bind_vfio_pci(pci[k].bdf));
		ASSERT_LT(0, edu_find_all(pci, iommu, 8));
		ASSERT_NE(0, pci[k].cdev[0]);
	}
	fd = vmm_iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_dev_bind(&dev, &pci[k], fd));
	ASSERT_EQ(0, vmm_ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, vmm_viommu_create(fd, dev.dev_id, ioas,
				       IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, &data,
				       sizeof(data), &parent, &viommu));
	ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu, dev.dev_id, 0x40));
	ASSERT_EQ(0, vmm_veventq_alloc(fd, viommu,
				       IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 8,
				       &q));
	page0 = vmm_iommufd_mmap(fd, data.out_vintf_mmap_offset,
				 data.out_vintf_mmap_length);
	ASSERT_NE(NULL, page0);
	/* 16 commands in a page of "guest RAM" at IPA 1 GiB */
	qmem = mmap(NULL, pgsz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, qmem);
	ASSERT_EQ(0, vmm_ioas_map(fd, ioas, qmem, pgsz, 1ull << 30,
				  IOMMU_IOAS_MAP_READABLE |
				  IOMMU_IOAS_MAP_WRITEABLE));
	ASSERT_EQ(0, vmm_hw_queue_alloc(fd, viommu,
					IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 0,
					1ull << 30, 16 * VCMDQ_ENT_SIZE, &hwq));
	vcmdq_init(&vq, page0, 0, qmem, 4);
	ASSERT_EQ(0, vcmdq_enable(&vq));

	/* TLBI_NH_ALL is the VMM's to trap, never a guest queue's */
	smmu_cmd_tlbi_nh_all(cmds[0]);
	smmu_cmd_op(cmds[1], SMMU_CMD_SYNC);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(-EIO, vcmdq_submit(&vq, cmds, 2, &err_index));
		ASSERT_EQ(0u, err_index);
		ASSERT_EQ(VCMDQ_CERROR_ILL, vcmdq_cons_err(&vq));
		/* The VMM reads the record, then its guest acknowledges */
		n = vmm_veventq_read(&q, ev, 4, 3000);
		EXPECT_EQ(1, n) {
			TH_LOG("error %d of queue 0: %d records", i + 1, n);
		}
		if (n == 1) {
			EXPECT_EQ(1ull, le64toh(ev[0].data.cmdqv.lvcmdq_err_map[0]));
			EXPECT_EQ(0u, ev[0].lost_before);
		}
		ASSERT_EQ(0, vcmdq_ack_error(&vq));
	}
	/* The queue works again: a CMD_SYNC alone goes through */
	ASSERT_EQ(0, vcmdq_submit(&vq, &cmds[1], 1, NULL));

	ASSERT_EQ(0, vcmdq_disable(&vq));
	munmap(page0, data.out_vintf_mmap_length);
	EXPECT_EQ(0, vmm_veventq_free(fd, &q));
	EXPECT_EQ(0, vmm_destroy(fd, hwq));
	vmm_dev_close(&dev);
	close(fd);
	munmap(qmem, pgsz);
}

TEST_F(tegra, vintf_error_again)
{
	vintf_error_again(_metadata);
}

TEST(long_inv_killable_smmu)
{
	size_t len = (size_t)LONG_INV_NUM * LONG_INV_SMMU_LEN;
	__u32 ioas, parent, viommu, num, i;
	struct vmm_pci pci[8];
	struct vmm_dev dev;
	int iommu[8], n, fd;
	__u8 *cmds;

	n = edu_find_all(pci, iommu, 8);
	if (n <= 0)
		SKIP(return, "no edu behind an SMMU in this VM");
	if (!pci[0].cdev[0]) {
		ASSERT_EQ(0, vmm_bind_vfio_pci(pci[0].bdf));
		ASSERT_LT(0, edu_find_all(pci, iommu, 8));
		ASSERT_NE(0, pci[0].cdev[0]);
	}
	fd = vmm_iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, edu_dev_bind(&dev, &pci[0], fd));
	ASSERT_EQ(0, vmm_ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, vmm_viommu_create(fd, dev.dev_id, ioas,
				       IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				       &parent, &viommu));
	/*
	 * 2^19 TLBI_NH_ASIDs, each at the start of a 512-byte entry whose
	 * tail the kernel checks for zeroes: 256 MiB, 2^13 CMD_SYNCs.
	 */
	cmds = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cmds);
	for (i = 0; i != LONG_INV_NUM; i++)
		smmu_cmd_tlbi_nh_asid((__le64 *)(cmds + (size_t)i *
						 LONG_INV_SMMU_LEN),
				      i & 0xff);
	num = 3;
	ASSERT_EQ(0, vmm_viommu_invalidate(fd, viommu,
					   IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
					   cmds, LONG_INV_SMMU_LEN, &num));
	ASSERT_EQ(3u, num);

	kill_long_inv(_metadata, fd, viommu,
		      IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, cmds,
		      LONG_INV_SMMU_LEN, LONG_INV_NUM);
	munmap(cmds, len);

	smmu_still_works(_metadata, fd, viommu);
	vmm_dev_close(&dev);
	close(fd);
}

TEST_HARNESS_MAIN
#endif
