// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the cost of a guest TLB invalidation through an iommufd vIOMMU,
 * as ratios taken in one run (absolute times under TCG mean little).
 *
 *  floor   a null ioctl on /dev/iommu (IOMMU_OPTION get): the cheapest any
 *          ioctl path can be.
 *  trap    IOMMU_HWPT_INVALIDATE through a vIOMMU, batches of 1 to 4096
 *          commands, on the mock vIOMMU (pure software: copy, validation,
 *          virtual ID lookup) and on the real SMMUv3 (edu on vfio-pci behind
 *          QEMU's arm-smmuv3, TLBI_NH_VA commands, one CMD_SYNC per chunk).
 *  parts   the mock's batch-1 call cut short at each stage: an ID that
 *          names no object (ENOENT), the vIOMMU with no command, a data
 *          type its driver refuses (EINVAL).
 *  scale   the mock's per-command cost with 1, 1024 and 65536 virtual IDs
 *          set on one vIOMMU (65536 mock devices: a device has one ID).
 *  setup   SET_DEV_ID and UNSET_DEV_ID per ID at 65536 IDs; slab memory per
 *          vIOMMU and per ID (/proc/meminfo and /proc/slabinfo, before and
 *          after).
 *  allocs  heap allocations per invalidation ioctl for batches up to 64:
 *          the SLUB_STATS counters of every cache and the page allocator's
 *          pgalloc_* around a loop, against a loop of null ioctls, with a
 *          loop that does allocate as the positive control.
 *  vcmdq   a TLBI_NH_VA + CMD_SYNC that the guest writes into its Tegra241
 *          VCMDQ and publishes with one write of PROD to the mmapped VINTF
 *          page (then polls CONS), against the same TLBI_NH_VA through
 *          IOMMU_HWPT_INVALIDATE (which ends it with a CMD_SYNC), on the
 *          same SMMU in the same run.
 *  onevsmmu a guest TLBI_NH_VA + CMD_SYNC trapped by the VMM with one
 *          vSMMU over both SMMUs of the dual topology (lib/vsmmu1.[ch]:
 *          broadcast, one IOMMU_HWPT_INVALIDATE per vIOMMU, 2) against one
 *          vSMMU per SMMU (one call), in the same run.
 *
 * "bench onevsmmu" runs the floor and onevsmmu only (a quick look at that
 * figure; its JSON has no targets, so bench-report.sh does not take it).
 * "bench trap" runs the floor, the mock's trap path and its parts only,
 * the same way (a quick look at the trap floor, for kernel changes to it).
 *
 * Every time is the median of REPS repetitions; every ratio is the median
 * of the per-repetition ratios, each repetition timing the floor right
 * before the path it is compared with, so a machine that slows down
 * (other builds on the host) moves both. The output is TAP (one test per
 * measurement, which fails when an ioctl fails or its effect is not seen)
 * and, in "# bench-json: " lines, the figures as JSON, which
 * scripts/bench-report.sh turns into the table and the plots. Targets are
 * figures, not tests: a missed target is reported as such, never as a
 * failed test.
 *
 * Needs: the mock driver (IOMMUFD_TEST) with MOCK_VIOMMU_FLAG_NO_ID_SLOTS,
 * SLUB_STATS, and for the SMMUv3 part an edu bound to vfio-pci behind a
 * nesting SMMUv3 with FWB (the dual topology after bind-vfio).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kselftest.h>
#include "bench.h"

int fd;

int main(int argc, char **argv)
{
	static struct bench b = {
		.vm = { .dev = { .fd = -1 } },
		.viommu_bytes = NAN, .dev_bytes = NAN, .dev_ns = NAN,
		.set_ns = NAN, .unset_ns = NAN,
		.vcmdq_ns = NAN, .vcmdq_ioctl_ns = NAN, .vcmdq_ratio = NAN,
		.one_ns = NAN, .per_smmu_ns = NAN, .layer1_ns = NAN,
		.one_per_smmu = NAN,
	};
	bool only_one = argc > 1 && !strcmp(argv[1], "onevsmmu");
	bool only_trap = argc > 1 && !strcmp(argv[1], "trap");
	bool ok;
	int r;

	ksft_print_header();
	ksft_set_plan(only_one ? 2 : only_trap ? 3 : 10);
	if (json_open() || (fd = vmm_iommufd_open()) < 0)
		ksft_exit_fail_msg("/dev/iommu: %s\n", strerror(errno));

	/* 1. The floor, against itself: the ratio says how stable it is. */
	ok = !measure(&floor_op, &b.floor_t);
	ksft_test_result(ok, "floor: null ioctl (IOMMU_OPTION get) %.0f ns, self-ratio %.3f\n",
			 b.floor_t.ns, b.floor_t.ratio);
	fprintf(js, "\"floor\": {");
	json_timing(&b.floor_t);
	fprintf(js, "\"op\": \"IOMMU_OPTION get\"},\n");
	if (only_one) {
		b.smmu_err = smmu_setup(&b.vm);
		b.have_smmu = !b.smmu_err;
		goto one;
	}

	/* 2a. The trap path on the mock: one device, one virtual ID. */
	if (mock_setup(&b))
		ksft_exit_fail_msg("mock set-up: %s\n", strerror(errno));
	ok = trap_mock(&b);
	ksft_test_result(ok, "trap: mock invalidation, batches 1..4096, batch 1 = %.2f x floor\n",
			 b.mock_t[0].ratio);


	/* 2b. The trap path on the SMMUv3 behind QEMU (it ends "trap"). */
	if (only_trap) {
		fprintf(js, "],\n");
	} else {
		ok = trap_smmu(&b);
		if (b.have_smmu)
			ksft_test_result(ok, "trap: SMMUv3 invalidation (TLBI_NH_VA), batches 1..4096, batch 1 = %.2f x floor\n",
					 b.smmu_t[0].ratio);
		else
			ksft_test_result_fail("trap: SMMUv3 set-up: %s\n",
					      strerror(-b.smmu_err));
	}

	/* 2a. The mock's batch-1 call in parts. */
	ok = trap_parts(&b);
	ksft_test_result(ok, "trap parts: mock batch 1 = %.2f x floor; no object %.2f, no command %.2f, bad data type %.2f, copied and locked %.2f, ID looked up %.2f, full call %.2f\n",
			 b.mock_t[0].ratio, b.part_t[0].ratio,
			 b.part_t[1].ratio, b.part_t[2].ratio,
			 b.part_t[3].ratio, b.part_t[4].ratio,
			 b.part_t[5].ratio);
	if (only_trap) {
		fprintf(js, "\"mode\": \"trap only\"\n}\n");
		json_print();
		close(fd);
		ksft_finished();
	}

	/* 6. Heap allocations per invalidation, batches 1, 8, 64. */
	ok = allocs(&b);
	ksft_test_result(ok, "allocs: per invalidation (batch <= 64) at most %.4f above a null ioctl; control %.2f per call\n",
			 b.alloc_worst, b.alloc_control);

	/* 4a. Slab memory per vIOMMU; the NR_IDS mock devices. */
	ok = memory(&b);
	if (!b.have_flag) {
		ksft_print_msg("no MOCK_VIOMMU_FLAG_NO_ID_SLOTS in this kernel (%s): scale and set-up not measured\n",
			       strerror(b.flag_err));
		ksft_test_result_skip("memory: %.0f B slab per vIOMMU; no mock vIOMMU without ID slots\n",
				      b.viommu_bytes);
	} else {
		ksft_test_result(ok, "memory: %.0f B slab per vIOMMU; %d mock devices, %.0f B and %.0f us each\n",
				 b.viommu_bytes, b.nr_devs, b.dev_bytes,
				 b.dev_ns / 1e3);
	}
	if (b.have_flag && !b.have_devs)
		ksft_print_msg("mock device %d: %s\n", b.nr_devs,
			       strerror(b.dev_err));

	/* 3. and 4b. Scale, on one vIOMMU without the mock's slot limit. */
	ok = scale(&b);
	if (!b.have_flag)
		ksft_test_result_skip("scale: no mock vIOMMU without ID slots\n");
	else
		ksft_test_result(ok, "scale: batch %d naming 1 ID with 1, 1024, 65536 set: %.3f, %.3f x the 1-ID cost\n",
			 SCALE_BATCH,
			 b.scale_t[SC_1K_1].ratio / b.scale_t[SC_1_1].ratio,
			 b.scale_t[SC_64K_1].ratio / b.scale_t[SC_1_1].ratio);

	/* 4c. SET_DEV_ID and UNSET_DEV_ID per ID at NR_IDS IDs. */
	ok = setup(&b, ok);
	if (!b.have_flag)
		ksft_test_result_skip("setup: no mock vIOMMU without ID slots\n");
	else
		ksft_test_result(ok, "setup: SET_DEV_ID %.0f ns, UNSET_DEV_ID %.0f ns per ID at %d IDs\n",
			 b.set_ns, b.unset_ns, NR_IDS);

	/* 5. The VCMDQ path against the ioctl, on the same SMMU. */
	r = vcmdq(&b);
	if (r == VCMDQ_NO_UAPI)
		ksft_test_result_skip("vcmdq: no IOMMU_HW_QUEUE_ALLOC in the headers\n");
	else
		ksft_test_result(r, "vcmdq: TLBI_NH_VA + CMD_SYNC %.0f ns through the VCMDQ, %.0f ns through the ioctl\n",
				 b.vcmdq_ns, b.vcmdq_ioctl_ns);

one:
	/* 7. One vSMMU over both SMMUs against one vSMMU per SMMU. */
	ok = onevsmmu(&b);
	if (ok)
		ksft_test_result_pass("onevsmmu: guest TLBI_NH_VA + CMD_SYNC, one vSMMU over 2 SMMUs (2 calls) %.0f ns, one vSMMU per SMMU (1 call) %.0f ns: %.2f x per command; the layer over 1 vIOMMU %.0f ns\n",
				      b.one_ns, b.per_smmu_ns, b.one_per_smmu,
				      b.layer1_ns);
	else
		ksft_test_result_fail("onevsmmu: %s\n", strerror(-b.one_err));
	if (!only_one)
		targets(&b);
	else
		fprintf(js, "\"mode\": \"onevsmmu only\"\n}\n");
	json_print();

	/* Closing /dev/iommu tears down the 65536 devices. */
	vmm_dev_close(&b.vm.dev);
	close(fd);
	ksft_finished();
}
