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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommufd_test.h"
#include "testdev.h"
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

TEST_HARNESS_MAIN
#endif
