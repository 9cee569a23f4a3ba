// SPDX-License-Identifier: GPL-2.0
/*
 * A real VMM on the series (TAP): this VM, a KVM host, runs Debian's
 * unmodified QEMU 11.1 the way a user would, with one accelerated vSMMU
 * (arm-smmuv3,accel=on) per physical SMMU, each edu as a vfio-pci device
 * on iommufd behind the vSMMU of its own SMMU, and a Linux guest whose own
 * arm-smmu-v3 (and, with cmdqv=on, tegra241-cmdqv) driver programs the
 * vSMMUs and DMAs through them with its DMA API.
 *
 *   realvmm [off|on|stray]...   one QEMU run per argument (cmdqv=off,
 *                               cmdqv=on, a misplaced device);
 *                               default: off, on, stray
 *
 * The inner guest boots /inner/Image with /inner/initrd (an initramfs of
 * guest/init.c with tests/inner.plan) under UEFI + ACPI; its console is
 * this program's, each line prefixed with "inner| ". Its TAP suites are
 * reported here as tests of their own ("cmdqv=on: edu-dma-test: ..."),
 * with a test for a suite whose plan was not complete, one for its exit
 * status, one for the guest powering off and one for QEMU's exit.
 *
 * The stray run names a device of SMMU 1 (the topology's third edu)
 * behind the vSMMU of SMMU 0, after SMMU 0's own: our kernel must refuse
 * to attach it to that vIOMMU (EINVAL) and QEMU says so. QEMU 11.1 then
 * goes on with the device in the guest, whose every STE install for it
 * fails (IOMMU_VDEVICE_ALLOC: EINVAL again, CERROR_ILL in the guest), so
 * that run stops QEMU (SIGTERM) once the refusal is seen.
 *
 * Each run is framed in the outer QEMU's trace by marker commands
 * (TLBI_NH_VA of RUN_MARK(run, 0) and RUN_MARK(run, 1)) that this program
 * sends through a vIOMMU of its own on SMMU 0 before QEMU starts and after
 * it exits, so that scripts/check-realvmm-trace.sh can tell which commands
 * of the SMMUs came from which run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kselftest.h>

#include "edu.h"
#include "qemu111.h"
#include "smmuv3.h"
#include "vmm.h"

/*
 * Boot, tests and power-off of the inner guest take 1-2 min (3 on the
 * debug kernel); three runs stay inside tests/realvmm.plan's timeout.
 */
#define RUN_TIMEOUT	300
/* The suites tests/inner.plan runs: edu-dma-test, cmdqv-guest */
#define INNER_SUITES	2

/* Marker addresses: 0x7e5700000000 | run << 16 | end << 12 */
#define RUN_MARK(run, end) \
	(0x00007e5700000000ull | ((__u64)(run) << 16) | ((__u64)(end) << 12))

#define MAX_EDU		8

struct edus {
	struct vmm_pci smmu0;	/* behind SMMU 0 */
	struct vmm_pci smmu1;	/* behind SMMU 1 */
	struct vmm_pci stray;	/* behind SMMU 1 too: put behind SMMU 0 */
};

/* The edus of the realvmm topology, by the IOMMU they sit behind. */
static int find_edus(struct edus *e)
{
	struct vmm_pci pci[MAX_EDU];
	int n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, MAX_EDU);

	if (n != 3 || !strcmp(pci[0].iommu, pci[1].iommu) ||
	    strcmp(pci[1].iommu, pci[2].iommu))
		return -ENODEV;
	e->smmu0 = pci[0];
	e->smmu1 = pci[1];
	e->stray = pci[2];
	return 0;
}

/*
 * A marker in the outer QEMU's trace: a TLBI_NH_VA of @va through a vIOMMU
 * of our own on @pci's SMMU. Everything is released before QEMU opens the
 * device.
 */
static int mark(const struct vmm_pci *pci, __u64 va)
{
	__u32 ioas, parent, viommu, done = 1;
	struct vmm_dev dev = { .fd = -1 };
	__le64 cmd[1][2];
	int fd, ret;

	fd = vmm_iommufd_open();
	if (fd < 0)
		return fd;
	ret = vmm_ioas_alloc(fd, &ioas);
	if (!ret)
		ret = vmm_dev_open(&dev, pci);
	if (!ret)
		ret = vmm_dev_bind(&dev, fd);
	if (!ret)
		ret = vmm_hwpt_alloc(fd, dev.dev_id, ioas,
				     IOMMU_HWPT_ALLOC_NEST_PARENT,
				     IOMMU_HWPT_DATA_NONE, NULL, 0, &parent);
	if (!ret)
		ret = vmm_viommu_alloc(fd, dev.dev_id, parent,
				       IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				       &viommu);
	if (!ret) {
		smmu_cmd_tlbi_nh_va(cmd[0], 0, va, false);
		ret = vmm_viommu_invalidate(fd, viommu,
				IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
				cmd, sizeof(cmd[0]), &done);
	}
	vmm_dev_close(&dev);
	close(fd);
	return ret;
}

enum run_kind { RUN_OFF, RUN_ON, RUN_STRAY, RUNS };
static const char *const run_tag[RUNS] = { "cmdqv=off", "cmdqv=on", "stray" };
static const char *const run_arg[RUNS] = { "off", "on", "stray" };

/* What one QEMU run showed */
struct run {
	const char *tag;	/* "cmdqv=off" */
	struct q111_tap tap;	/* the inner guest's suites */
	struct q111_proc *proc;
	const char *stray_bdf;	/* the stray run's misplaced device */
	bool stray_refused;	/* QEMU's error about it */
	bool stopped;		/* SIGTERM sent */
	char stray_msg[256];
};

/* QEMU 11.1's command line, as a user writes it (see qemu111.h) */
static int qemu_cmdline(struct q111_argv *a, const struct edus *e,
			enum run_kind kind)
{
	const char *cq = kind == RUN_ON ? "on" : "off";
	char append[256];

	snprintf(append, sizeof(append),
		 "console=ttyAMA0 acpi=force panic=-1 kunit.enable=0 iommu.strict=1 viommu.printk=5 viommu.cmdqv=%s",
		 cq);
	return q111_cmdline_base(a, "512M", append) ?:
	       q111_cmdline_devices(a, cq, e->smmu0.bdf, e->smmu1.bdf,
				    kind == RUN_STRAY ? e->stray.bdf : NULL);
}

/* One line of the inner console (QEMU's output included) */
static void inner_line(struct q111_proc *p, char *line)
{
	struct run *r = p->ctx;
	char msg[512];

	q111_clean(line);
	printf("inner| %s\n", line);

	/* QEMU's "error attach <bdf> ... to id=N: Invalid argument" */
	if (r->stray_bdf && strstr(line, "error attach") &&
	    strstr(line, r->stray_bdf) &&
	    strstr(line, "Invalid argument") && !r->stray_refused) {
		r->stray_refused = true;
		snprintf(r->stray_msg, sizeof(r->stray_msg), "%s", line);
	}
	/*
	 * The stray run has shown what it is for: stop QEMU once the guest
	 * runs (its signal handlers are set up by then, so SIGTERM makes it
	 * shut down and tear down the way a user's kill does).
	 */
	if (r->stray_refused && !r->stopped && strstr(line, "UEFI firmware")) {
		r->stopped = true;
		kill(p->pid, SIGTERM);
	}

	q111_report(q111_tap_line(&r->tap, line, msg, sizeof(msg)), r->tag,
		    msg);
}

static void one_run(const struct edus *e, enum run_kind kind)
{
	struct run r = { .tag = run_tag[kind] };
	struct q111_proc p = { .timeout = RUN_TIMEOUT, .line = inner_line,
			       .ctx = &r };
	bool stray = kind == RUN_STRAY;
	struct q111_argv a = { .n = 0 };
	const char *tag = r.tag;
	char msg[512];
	int ret;

	q111_tap_init(&r.tap);
	r.stray_bdf = stray ? e->stray.bdf : NULL;
	if (qemu_cmdline(&a, e, kind))
		ksft_exit_fail_msg("QEMU command line too long\n");

	ksft_test_result(!mark(&e->smmu0, RUN_MARK(kind, 0)),
			 "%s: trace marker before QEMU\n", tag);
	printf("# realvmm: %s: starting QEMU 11.1:\n#  ", tag);
	for (int i = 0; i < a.n; i++)
		printf(" %s", a.v[i]);
	printf("\n");
	fflush(stdout);

	ret = q111_run(&p, &a);
	if (p.timed_out)
		printf("# realvmm: %s: QEMU did not exit within %ds: killed\n",
		       tag, RUN_TIMEOUT);
	if (stray) {
		if (r.stray_refused)
			printf("# realvmm: QEMU said: %s\n", r.stray_msg);
		ksft_test_result(r.stray_refused,
				 "%s: %s (SMMU 1) behind SMMU 0's vSMMU refused with EINVAL\n",
				 tag, e->stray.bdf);
		/* QEMU exits 0 on SIGTERM, after its normal teardown */
		ksft_test_result(!ret && r.stopped && WIFEXITED(p.status) &&
				 WEXITSTATUS(p.status) == 0,
				 "%s: QEMU stopped cleanly on SIGTERM (status 0x%x)\n",
				 tag, p.status);
		goto out;
	}
	q111_report(q111_tap_end(&r.tap, msg, sizeof(msg)), tag, msg);
	ksft_test_result(!ret && r.tap.suites == INNER_SUITES &&
			 r.tap.suites == r.tap.suites_ok,
			 "%s: the inner guest ran its %d suites (of %d), all passed\n",
			 tag, r.tap.suites, INNER_SUITES);
	ksft_test_result(r.tap.poweroff == 0,
			 "%s: the inner guest powered off (verdict %d)\n", tag,
			 r.tap.poweroff);
	ksft_test_result(!ret && WIFEXITED(p.status) &&
			 WEXITSTATUS(p.status) == 0,
			 "%s: QEMU exited cleanly (status 0x%x)\n", tag, p.status);
out:
	ksft_test_result(!mark(&e->smmu0, RUN_MARK(kind, 1)),
			 "%s: trace marker after QEMU\n", tag);
	q111_argv_free(&a);
}

int main(int argc, char **argv)
{
	struct q111_host host;
	bool runs[RUNS];
	struct edus e;
	int k;

	if (q111_pick_runs(argc, argv, run_arg, RUNS, runs)) {
		fprintf(stderr, "usage: realvmm [off|on|stray]...\n");
		return 2;
	}

	ksft_print_header();
	q111_host_setup(&host);
	ksft_test_result(host.memlock, "RLIMIT_MEMLOCK unlimited\n");
	ksft_test_result(host.kvm,
			 "/dev/kvm: KVM API 12 (nested virtualization)\n");
	if (find_edus(&e))
		ksft_exit_fail_msg("needs the realvmm topology: 3 edus, one behind SMMU 0, two behind SMMU 1\n");
	printf("# realvmm: %s behind %s, %s and %s behind %s\n", e.smmu0.bdf,
	       e.smmu0.iommu, e.smmu1.bdf, e.stray.bdf, e.smmu1.iommu);
	ksft_test_result(host.files,
			 "QEMU 11.1, UEFI firmware, inner kernel and initramfs present\n");
	for (k = 0; k < RUNS; k++)
		if (runs[k])
			one_run(&e, k);
	/* The number of tests depends on the inner guest: plan at the end */
	ksft_print_msg("Totals: pass:%u fail:%u skip:%u\n", ksft_get_pass_cnt(),
		       ksft_get_fail_cnt(), ksft_get_xskip_cnt());
	printf("1..%u\n", ksft_test_num());
	return ksft_get_fail_cnt() ? 1 : 0;
}
