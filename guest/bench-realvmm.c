// SPDX-License-Identifier: GPL-2.0
/*
 * bench-realvmm: the cost of the guest's own invalidations under the real
 * VMM (TAP). This VM, a KVM host (tests/bench-realvmm.plan), runs Debian's
 * QEMU 11.1 three times on the same inner guest (tests/inner-bench.plan)
 * with the same two edus, one per physical SMMU, as vfio-pci on iommufd:
 *
 *   trapped  arm-smmuv3,accel=on,cmdqv=off per SMMU: each TLBI and CMD_SYNC
 *            of the guest's driver traps to QEMU, which forwards the TLBI
 *            with IOMMU_HWPT_INVALIDATE (one command per call) and
 *            completes the CMD_SYNC itself
 *   vcmdq    arm-smmuv3,accel=on,cmdqv=on: the guest writes its commands
 *            into its VCMDQs (a VINTF page mmapped from /dev/iommu), no exit
 *   floor    no vSMMU: the guest has no IOMMU, its DMA API is dma-direct
 *
 *   bench-realvmm [trapped|vcmdq|floor]...   default: all three, in order
 *
 * In each run the inner guest's guest/dma-bench.c times N x
 * dma_map_single + dma_unmap_single of one 4 KiB page (strict
 * invalidation: every unmap a TLBI + CMD_SYNC) on each edu for N = 1, 16,
 * 256, 4096. Its suites' TAP is reported here as tests ("trapped:
 * dma-bench: ..."), with a test per run for the figures collected (2 edus
 * x 4 N), the guest's power-off and QEMU's exit; its "# dma-bench:" lines
 * come out again as "# bench-realvmm-json: {JSON}" with the run and the vSMMU
 * (0 or 1, by the edu's guest address) added, which scripts/bench-report.sh
 * turns into the table rows, the 0.2 target and docs/bench-realvmm.png.
 * Targets are never tests here.
 *
 * The command lines are guest/realvmm.c's (guest/lib/qemu111.[ch]).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#include <kselftest.h>

#include "edu.h"
#include "qemu111.h"
#include "vmm.h"

/* Boot (1-2 min under nested KVM on TCG), the figures, power-off */
#define RUN_TIMEOUT	540
#define MAX_EDU		8
#define NR_SIZES	4	/* dma-bench's N */

/* The edus' addresses in the inner guest: SMMU 0's, SMMU 1's */
static const char *const inner_bdf[2] = { "0000:00:03.0", "0000:11:00.0" };

enum run_kind { RUN_TRAPPED, RUN_VCMDQ, RUN_FLOOR, RUNS };
static const char *const run_name[RUNS] = { "trapped", "vcmdq", "floor" };
static const char *const run_tag[RUNS] = {
	"cmdqv=off", "cmdqv=on", "no vSMMU"
};

struct run {
	enum run_kind kind;
	const char *tag;
	struct q111_tap tap;
	int figures;			/* maploop lines with a time */
	double best[2];			/* lowest ns per pair over N, by vSMMU */
};

/* The run's command line: the layout of q111_cmdline_devices(). */
static int cmdline(struct q111_argv *a, enum run_kind kind,
		   const struct vmm_pci *smmu0, const struct vmm_pci *smmu1)
{
	const char *cq = kind == RUN_VCMDQ ? "on" : "off";
	char append[256];

	snprintf(append, sizeof(append),
		 "console=ttyAMA0 acpi=force panic=-1 kunit.enable=0 iommu.strict=1 viommu.printk=5 viommu.cmdqv=%s viommu.bench=%s",
		 cq, run_name[kind]);
	return q111_cmdline_base(a, "512M", append) ?:
	       q111_cmdline_devices(a, kind == RUN_FLOOR ? NULL : cq,
				    smmu0->bdf, smmu1->bdf, NULL);
}

/* A number field "KEY": V of a one-line JSON object; NAN if missing. */
static double json_field(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(json, pat);
	return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* "# dma-bench: {...}": out again with the run and the vSMMU. */
static void bench_line(struct run *r, const char *json)
{
	int vsmmu = -1, i;
	double ns;

	for (i = 0; i < 2; i++)
		if (strstr(json, inner_bdf[i]))
			vsmmu = i;
	printf("# bench-realvmm-json: {\"run\": \"%s\", \"tag\": \"%s\", ",
	       run_name[r->kind], r->tag);
	if (vsmmu >= 0)
		printf("\"vsmmu\": %d, ", vsmmu);
	printf("%s\n", json + 1);
	if (!strstr(json, "\"kind\": \"maploop\""))
		return;
	ns = json_field(json, "ns");
	if (ns > 0) {
		r->figures++;
		if (vsmmu >= 0 && (!r->best[vsmmu] || ns < r->best[vsmmu]))
			r->best[vsmmu] = ns;
	}
}

static void on_line(struct q111_proc *p, char *line)
{
	struct run *r = p->ctx;
	char msg[512];

	q111_clean(line);
	printf("inner| %s\n", line);
	if (!strncmp(line, "# dma-bench: {", 14))
		bench_line(r, line + 13);
	q111_report(q111_tap_line(&r->tap, line, msg, sizeof(msg)), r->tag,
		    msg);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void one_run(struct run *r, const struct vmm_pci *smmu0,
		    const struct vmm_pci *smmu1)
{
	struct q111_proc p = { .timeout = RUN_TIMEOUT, .line = on_line,
			       .ctx = r };
	struct q111_argv a = { .n = 0 };
	const char *tag = r->tag;
	double t0 = now_s();
	char msg[512];
	int ret, i;

	q111_tap_init(&r->tap);
	ret = cmdline(&a, r->kind, smmu0, smmu1);
	if (ret)
		ksft_exit_fail_msg("QEMU command line: %s\n", strerror(-ret));
	printf("# bench-realvmm: %s: starting QEMU 11.1:\n#  ", tag);
	for (i = 0; i < a.n; i++)
		printf(" %s", a.v[i]);
	printf("\n");
	fflush(stdout);

	ret = q111_run(&p, &a);
	if (p.timed_out)
		printf("# bench-realvmm: %s: QEMU did not exit within %ds: killed\n",
		       tag, RUN_TIMEOUT);
	q111_report(q111_tap_end(&r->tap, msg, sizeof(msg)), tag, msg);
	printf("# bench-realvmm-json: {\"run\": \"%s\", \"tag\": \"%s\", \"kind\": \"run\", \"seconds\": %.0f, \"vsmmus\": %d}\n",
	       run_name[r->kind], tag, now_s() - t0,
	       r->kind == RUN_FLOOR ? 0 : 2);
	ksft_test_result(!ret && r->tap.suites > 0 &&
			 r->tap.suites == r->tap.suites_ok,
			 "%s: the inner guest ran its %d suites, all passed\n",
			 tag, r->tap.suites);
	ksft_test_result(r->figures == 2 * NR_SIZES,
			 "%s: %d of %d figures (2 edus x %d N)\n", tag,
			 r->figures, 2 * NR_SIZES, NR_SIZES);
	ksft_test_result(r->tap.poweroff == 0,
			 "%s: the inner guest powered off (verdict %d)\n", tag,
			 r->tap.poweroff);
	ksft_test_result(!ret && WIFEXITED(p.status) &&
			 WEXITSTATUS(p.status) == 0,
			 "%s: QEMU exited cleanly (status 0x%x)\n", tag,
			 p.status);
	q111_argv_free(&a);
}

int main(int argc, char **argv)
{
	struct q111_host host;
	bool want[RUNS];
	static struct run runs[RUNS];
	struct vmm_pci pci[MAX_EDU];
	struct utsname u;
	int i, k, n;

	if (q111_pick_runs(argc, argv, run_name, RUNS, want)) {
		fprintf(stderr, "usage: bench-realvmm [trapped|vcmdq|floor]...\n");
		return 2;
	}

	ksft_print_header();
	q111_host_setup(&host);
	ksft_test_result(host.memlock, "RLIMIT_MEMLOCK unlimited\n");
	ksft_test_result(host.kvm,
			 "/dev/kvm: KVM API 12 (nested virtualization)\n");
	n = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, MAX_EDU);
	if (n < 2 || vmm_pci_per_iommu(pci, n) != 2)
		ksft_exit_fail_msg("needs the realvmm topology: an edu behind each of 2 SMMUs\n");
	printf("# bench-realvmm: %s behind %s, %s behind %s\n", pci[0].bdf,
	       pci[0].iommu, pci[1].bdf, pci[1].iommu);
	ksft_test_result(host.files,
			 "QEMU 11.1, UEFI firmware, inner kernel and initramfs present\n");
	uname(&u);
	printf("# bench-realvmm-json: {\"kind\": \"host\", \"kernel\": \"%s %s\", \"edus\": [\"%s\", \"%s\"]}\n",
	       u.release, u.machine, pci[0].bdf, pci[1].bdf);
	for (k = 0; k < RUNS; k++) {
		runs[k].kind = k;
		runs[k].tag = run_tag[k];
		if (want[k])
			one_run(&runs[k], &pci[0], &pci[1]);
	}
	/* For the reader of the console; bench-report.sh does the same */
	for (i = 0; i < 2; i++) {
		double t = runs[RUN_TRAPPED].best[i];
		double q = runs[RUN_VCMDQ].best[i];

		ksft_print_msg("vSMMU %d, lowest median over N: trapped %.0f ns, VCMDQ %.0f ns, floor %.0f ns per map + unmap; VCMDQ / trapped %.3f (target <= 0.2)\n",
			       i, t, q, runs[RUN_FLOOR].best[i],
			       t > 0 && q > 0 ? q / t : NAN);
	}
	ksft_print_msg("Totals: pass:%u fail:%u skip:%u\n", ksft_get_pass_cnt(),
		       ksft_get_fail_cnt(), ksft_get_xskip_cnt());
	/* The number of tests depends on the inner guest: plan at the end */
	printf("1..%u\n", ksft_test_num());
	return ksft_get_fail_cnt() ? 1 : 0;
}
