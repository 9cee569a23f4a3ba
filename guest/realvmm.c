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
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <kselftest.h>

#include "edu.h"
#include "smmuv3.h"
#include "vmm.h"

#define QEMU		"/usr/bin/qemu-system-aarch64"
#define FIRMWARE	"/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
#define INNER_KERNEL	"/inner/Image"
#define INNER_INITRD	"/inner/initrd"
/* Boot, tests and power-off of the inner guest; it takes 1-2 min */
#define RUN_TIMEOUT	420

/* Marker addresses: 0x7e5700000000 | run << 16 | end << 12 */
#define RUN_MARK(run, end) \
	(0x00007e5700000000ull | ((__u64)(run) << 16) | ((__u64)(end) << 12))

#define MAX_EDU		8
#define MAX_ARGS	64


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

struct argv {
	char *v[MAX_ARGS];
	int n;
};

static void arg(struct argv *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n >= MAX_ARGS - 1)
		ksft_exit_fail_msg("too many QEMU arguments\n");
	va_start(ap, fmt);
	if (vasprintf(&a->v[a->n++], fmt, ap) < 0)
		ksft_exit_fail_msg("out of memory\n");
	va_end(ap);
	a->v[a->n] = NULL;
}

/* PCI address of a "0000:BB:DD.F" as QEMU's host= property takes it */
static const char *host_bdf(const struct vmm_pci *pci)
{
	return pci->bdf;
}

/*
 * QEMU 11.1's command line, as a user writes it: KVM with the in-kernel
 * GICv3 and ITS (accel=on requires kernel-irqchip), UEFI + ACPI (accel=on
 * is not supported with a device tree), iommufd, one accelerated vSMMU per
 * physical SMMU with each edu behind the vSMMU of its own SMMU: SMMU 0's
 * on pcie.0 at 00:03.0 (guest StreamID 0x18, not the physical 0x8), SMMU
 * 1's on a pxb-pcie (bus 16) behind a root port, 11:00.0 (guest StreamID
 * 0x1100, not 0x900). -nodefaults -net none: QEMU 11.1.3 aborts in
 * smmuv3-accel.c when the board's default NIC sits behind an accelerated
 * vSMMU (no emulated endpoint may).
 */
static void qemu_cmdline(struct argv *a, const struct edus *e, bool cmdqv,
			 bool stray)
{
	const char *cq = cmdqv ? "on" : "off";

	arg(a, QEMU);
	arg(a, "-M");
	arg(a, "virt,accel=kvm,gic-version=3,its=on");
	arg(a, "-cpu");
	arg(a, "host");
	arg(a, "-smp");
	arg(a, "2");
	arg(a, "-m");
	arg(a, "512M");
	arg(a, "-nographic");
	arg(a, "-nodefaults");
	arg(a, "-serial");
	arg(a, "stdio");
	arg(a, "-net");
	arg(a, "none");
	arg(a, "-no-reboot");
	arg(a, "-bios");
	arg(a, FIRMWARE);
	arg(a, "-kernel");
	arg(a, INNER_KERNEL);
	arg(a, "-initrd");
	arg(a, INNER_INITRD);
	arg(a, "-append");
	arg(a, "console=ttyAMA0 acpi=force panic=-1 kunit.enable=0 iommu.strict=1 viommu.printk=5 viommu.cmdqv=%s",
	    cq);
	arg(a, "-object");
	arg(a, "iommufd,id=iommufd0");
	arg(a, "-device");
	arg(a, "arm-smmuv3,primary-bus=pcie.0,id=vsmmu0,accel=on,cmdqv=%s", cq);
	arg(a, "-device");
	arg(a, "vfio-pci,host=%s,iommufd=iommufd0,bus=pcie.0,addr=0x3",
	    host_bdf(&e->smmu0));
	if (stray) {
		/* A device of SMMU 1 behind SMMU 0's vSMMU: refused */
		arg(a, "-device");
		arg(a, "vfio-pci,host=%s,iommufd=iommufd0,bus=pcie.0,addr=0x4",
		    host_bdf(&e->stray));
		return;
	}
	arg(a, "-device");
	arg(a, "pxb-pcie,id=pcie.1,bus_nr=16,bus=pcie.0");
	arg(a, "-device");
	arg(a, "arm-smmuv3,primary-bus=pcie.1,id=vsmmu1,accel=on,cmdqv=%s", cq);
	arg(a, "-device");
	arg(a, "pcie-root-port,id=vrp1,bus=pcie.1,chassis=1");
	arg(a, "-device");
	arg(a, "vfio-pci,host=%s,iommufd=iommufd0,bus=vrp1",
	    host_bdf(&e->smmu1));
}

/* What one QEMU run showed */
struct run {
	const char *tag;	/* "cmdqv=off" */
	char suite[64];		/* inner suite being read, "" outside one */
	int planned, reported, failed;
	int suites, suites_ok;
	int poweroff;		/* inner init's verdict, -1 if none */
	bool stray_refused;	/* QEMU's error about the stray device */
	pid_t qemu;		/* to stop once it is seen */
	bool stopped;		/* SIGTERM sent */
	char stray_msg[256];
	const char *stray_bdf;
};

/* Strip CRs and terminal control sequences (UEFI's screen handling) */
static void clean(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (*r == '\x1b') {
			r++;
			if (*r == '[') {
				r++;
				while (*r && !((*r >= 'A' && *r <= 'Z') ||
					       (*r >= 'a' && *r <= 'z')))
					r++;
			}
			if (*r)
				r++;
			continue;
		}
		if (*r != '\r')
			*w++ = *r;
		r++;
	}
	*w = 0;
}

static void suite_end(struct run *r, int status)
{
	bool ok = true;

	if (r->planned >= 0 && r->reported != r->planned) {
		ksft_test_result_fail("%s: %s: %d of %d planned tests reported\n",
				      r->tag, r->suite, r->reported,
				      r->planned);
		ok = false;
	}
	if (status != 0 && !r->failed) {
		ksft_test_result_fail("%s: %s: exit status %d\n", r->tag,
				      r->suite, status);
		ok = false;
	}
	if (r->failed)
		ok = false;
	r->suites++;
	r->suites_ok += ok;
	r->suite[0] = 0;
}

/* One line of the inner console */
static void inner_line(struct run *r, char *line)
{
	int n, status;
	char *desc;

	clean(line);
	printf("inner| %s\n", line);

	if (r->stray_bdf && strstr(line, r->stray_bdf) &&
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
		kill(r->qemu, SIGTERM);
	}
	if (sscanf(line, "# viommu-poweroff: %d", &n) == 1) {
		r->poweroff = n;
		return;
	}
	if (!strncmp(line, "# viommu-suite: ", 16)) {
		snprintf(r->suite, sizeof(r->suite), "%s", line + 16);
		r->planned = -1;
		r->reported = r->failed = 0;
		return;
	}
	if (!r->suite[0])
		return;
	if (!strncmp(line, "# viommu-exit: ", 15)) {
		status = 0;
		sscanf(line + 15, "%*s %d", &status);
		suite_end(r, status);
		return;
	}
	if (r->planned < 0 && sscanf(line, "1..%d", &n) == 1) {
		r->planned = n;
		return;
	}
	if (sscanf(line, "ok %d", &n) == 1 ||
	    sscanf(line, "not ok %d", &n) == 1) {
		bool pass = !strncmp(line, "ok ", 3);

		desc = strchr(line + (pass ? 3 : 7), ' ');
		desc = desc ? desc + 1 : line;
		r->reported++;
		if (strstr(desc, "# SKIP")) {
			ksft_test_result_skip("%s: %s: %s\n", r->tag, r->suite,
					      desc);
		} else if (pass) {
			ksft_test_result_pass("%s: %s: %s\n", r->tag, r->suite,
					      desc);
		} else {
			r->failed++;
			ksft_test_result_fail("%s: %s: %s\n", r->tag, r->suite,
					      desc);
		}
	}
}

/* Run QEMU on @argv; its output goes through inner_line(). */
static int qemu_run(struct run *r, struct argv *a, int *wstatus)
{
	char buf[4096], line[1024];
	size_t len = 0;
	int pipefd[2];
	time_t deadline = time(NULL) + RUN_TIMEOUT;
	pid_t pid;

	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(a->v[0], a->v);
		fprintf(stderr, "exec %s: %s\n", a->v[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	r->qemu = pid;
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		int left = deadline - time(NULL);
		ssize_t got;

		if (left <= 0 || poll(&p, 1, left * 1000) <= 0) {
			printf("# realvmm: QEMU did not exit within %ds: killed\n",
			       RUN_TIMEOUT);
			kill(pid, SIGKILL);
			break;
		}
		got = read(pipefd[0], buf, sizeof(buf));
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] == '\n' || len == sizeof(line) - 1) {
				line[len] = 0;
				inner_line(r, line);
				len = 0;
				if (buf[i] == '\n')
					continue;
			}
			line[len++] = buf[i];
		}
		fflush(stdout);
	}
	if (len) {
		line[len] = 0;
		inner_line(r, line);
	}
	close(pipefd[0]);
	if (waitpid(pid, wstatus, 0) < 0)
		return -errno;
	return 0;
}

enum run_kind { RUN_OFF, RUN_ON, RUN_STRAY, RUNS };
static const char *const run_tag[RUNS] = { "cmdqv=off", "cmdqv=on", "stray" };
static const char *const run_arg[RUNS] = { "off", "on", "stray" };

static void one_run(const struct edus *e, enum run_kind kind)
{
	struct run r = { .poweroff = -1, .tag = run_tag[kind] };
	bool stray = kind == RUN_STRAY;
	struct argv a = { .n = 0 };
	const char *tag = r.tag;
	int ws = 0, ret;

	r.stray_bdf = stray ? e->stray.bdf : NULL;
	qemu_cmdline(&a, e, kind == RUN_ON, stray);

	ksft_test_result(!mark(&e->smmu0, RUN_MARK(kind, 0)),
			 "%s: trace marker before QEMU\n", tag);
	printf("# realvmm: %s: starting QEMU 11.1:\n#  ", tag);
	for (int i = 0; i < a.n; i++)
		printf(" %s", a.v[i]);
	printf("\n");
	fflush(stdout);

	ret = qemu_run(&r, &a, &ws);
	if (stray) {
		if (r.stray_refused)
			printf("# realvmm: QEMU said: %s\n", r.stray_msg);
		ksft_test_result(r.stray_refused,
				 "%s: %s (SMMU 1) behind SMMU 0's vSMMU refused with EINVAL\n",
				 tag, e->stray.bdf);
		/* QEMU exits 0 on SIGTERM, after its normal teardown */
		ksft_test_result(!ret && WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
				 "%s: QEMU stopped cleanly on SIGTERM (status 0x%x)\n",
				 tag, ws);
		goto out;
	}
	if (r.suite[0]) {
		ksft_test_result_fail("%s: %s: inner guest stopped in the middle of it\n",
				      tag, r.suite);
		r.suites++;
	}
	ksft_test_result(!ret && r.suites > 0 && r.suites == r.suites_ok,
			 "%s: the inner guest ran its %d suites, all passed\n",
			 tag, r.suites);
	ksft_test_result(r.poweroff == 0,
			 "%s: the inner guest powered off (verdict %d)\n", tag,
			 r.poweroff);
	ksft_test_result(!ret && WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
			 "%s: QEMU exited cleanly (status 0x%x)\n", tag, ws);
out:
	ksft_test_result(!mark(&e->smmu0, RUN_MARK(kind, 1)),
			 "%s: trace marker after QEMU\n", tag);
	for (int i = 0; i < a.n; i++)
		free(a.v[i]);
}

int main(int argc, char **argv)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	bool runs[RUNS] = { argc == 1, argc == 1, argc == 1 };
	struct edus e;
	int kvm, i, k;

	for (i = 1; i < argc; i++) {
		for (k = 0; k < RUNS; k++)
			if (!strcmp(argv[i], run_arg[k]))
				break;
		if (k == RUNS) {
			fprintf(stderr, "usage: realvmm [off|on|stray]...\n");
			return 2;
		}
		runs[k] = true;
	}

	ksft_print_header();
	/* QEMU pins all guest RAM for VFIO */
	ksft_test_result(!setrlimit(RLIMIT_MEMLOCK, &unlimited),
			 "RLIMIT_MEMLOCK unlimited\n");
	kvm = open("/dev/kvm", O_RDWR);
	ksft_test_result(kvm >= 0 && ioctl(kvm, KVM_GET_API_VERSION, 0) == 12,
			 "/dev/kvm: KVM API 12 (nested virtualization)\n");
	if (kvm >= 0)
		close(kvm);
	if (find_edus(&e))
		ksft_exit_fail_msg("needs the realvmm topology: 3 edus, one behind SMMU 0, two behind SMMU 1\n");
	printf("# realvmm: %s behind %s, %s and %s behind %s\n", e.smmu0.bdf,
	       e.smmu0.iommu, e.smmu1.bdf, e.stray.bdf, e.smmu1.iommu);
	ksft_test_result(!access(QEMU, X_OK) && !access(FIRMWARE, R_OK) &&
			 !access(INNER_KERNEL, R_OK) &&
			 !access(INNER_INITRD, R_OK),
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
