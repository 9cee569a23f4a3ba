/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qemu111: run Debian's QEMU 11.1 from a program of the test VM (a KVM
 * host: tests/realvmm.plan, tests/bench-realvmm.plan) on the inner guest
 * of /inner/Image and /inner/initrd, and read that guest's console: the
 * command line's common part, QEMU as a child whose output comes back
 * line by line, and the inner guest's TAP suites (guest/init.c's
 * "# viommu-suite:" framing) turned into results the caller reports.
 *
 *	q111_arg()		append one argument (printf format)
 *	q111_cmdline_base()	QEMU, KVM + GICv3/ITS, UEFI + ACPI, the inner
 *				kernel and initramfs, -append, iommufd0
 *	q111_run()		fork + exec, each output line to a callback,
 *				SIGKILL at a timeout
 *	q111_clean()		strip CRs and UEFI's terminal sequences
 *	q111_tap_line()		one inner console line: a result to report?
 *	q111_tap_end()		after QEMU exited: a suite left unfinished?
 *
 * The kselftest counters are per compilation unit (kselftest.h keeps them
 * static), so this code never reports a test itself: q111_tap_*() return
 * what the caller reports with ksft_test_result_*().
 */
#ifndef _QEMU111_H
#define _QEMU111_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define Q111_QEMU		"/usr/bin/qemu-system-aarch64"
#define Q111_FIRMWARE		"/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
#define Q111_INNER_KERNEL	"/inner/Image"
#define Q111_INNER_INITRD	"/inner/initrd"
#define Q111_MAX_ARGS		64

struct q111_argv {
	char *v[Q111_MAX_ARGS];	/* NULL-terminated */
	int n;
};

/* 0, or -E2BIG (too many arguments) / -ENOMEM; @a stays terminated. */
int q111_arg(struct q111_argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void q111_argv_free(struct q111_argv *a);

/*
 * The part every run shares, as a user writes it: KVM with the in-kernel
 * GICv3 and ITS (accel=on vSMMUs require kernel-irqchip), -cpu host, 2
 * vCPUs, @mem of RAM, UEFI + ACPI (accel=on is not supported with a
 * device tree), the inner kernel and initramfs with @append, and the
 * iommufd object "iommufd0". -nodefaults -net none: QEMU 11.1.3 aborts in
 * smmuv3-accel.c when the board's default NIC sits behind an accelerated
 * vSMMU. The caller adds its vSMMUs and devices. 0 or -errno.
 */
int q111_cmdline_base(struct q111_argv *a, const char *mem,
		      const char *append);

/*
 * The devices of the realvmm topology's runs: each edu as vfio-pci on
 * iommufd0 behind the accelerated vSMMU (cmdqv=@cmdqv) of its own SMMU,
 * @bdf0 (SMMU 0's) on pcie.0 at 00:03.0 (guest StreamID 0x18, not the
 * physical 0x8), @bdf1 (SMMU 1's) on a pxb-pcie (bus 16) behind a root
 * port at 11:00.0 (guest StreamID 0x1100, not 0x900): a vSID that reached
 * an SMMU would show in the trace. @cmdqv NULL: no vSMMU at all (plain
 * passthrough). @stray: a device of SMMU 1 put behind SMMU 0's vSMMU at
 * 00:04.0, and nothing after it. 0 or -errno.
 */
int q111_cmdline_devices(struct q111_argv *a, const char *cmdqv,
			 const char *bdf0, const char *bdf1, const char *stray);

/*
 * What a run needs of this VM, set up and checked (the caller reports
 * each): RLIMIT_MEMLOCK unlimited (QEMU pins all guest RAM for VFIO),
 * /dev/kvm with KVM API 12 (nested virtualization), and QEMU 11.1, its
 * firmware and the inner guest's kernel and initramfs in place.
 */
struct q111_host {
	bool memlock, kvm, files;
};

void q111_host_setup(struct q111_host *h);

/*
 * Which runs a program's arguments ask for, by name (@names[0..@n)):
 * none means all. 0, or -EINVAL for an unknown name.
 */
int q111_pick_runs(int argc, char **argv, const char *const *names, int n,
		   bool *want);

struct q111_proc {
	/* in */
	int timeout;		/* seconds from the start; then SIGKILL */
	void (*line)(struct q111_proc *p, char *line);	/* NUL-terminated,
							 * without the \n */
	void *ctx;		/* the caller's */
	/* out */
	pid_t pid;		/* QEMU's, set before the first line */
	bool timed_out;		/* killed at the timeout */
	int status;		/* waitpid()'s status */
};

/*
 * Run @a->v[0] with @a's arguments, stdin /dev/null, stdout and stderr
 * to a pipe whose lines go to @p->line, until it exits (or @p->timeout).
 * 0 once it was waited for, or -errno.
 */
int q111_run(struct q111_proc *p, const struct q111_argv *a);

/* In place: CRs and terminal control sequences (UEFI's screen) removed. */
void q111_clean(char *s);

/* The inner guest's TAP, suite by suite */
struct q111_tap {
	char suite[64];		/* suite being read, "" outside one */
	int planned;		/* its "1..N", -1 before */
	int reported, failed;	/* its results so far */
	int suites, suites_ok;	/* suites ended, and without failure */
	int poweroff;		/* "# viommu-poweroff: N", -1 before */
};

enum q111_result { Q111_NONE, Q111_PASS, Q111_FAIL, Q111_SKIP };

void q111_tap_init(struct q111_tap *t);
/*
 * One (cleaned) line of the inner console. A result line of a suite
 * gives Q111_PASS/FAIL/SKIP with "SUITE: DESCRIPTION" in @msg; the end of
 * a suite whose plan was not complete, or that exited non-zero with no
 * failed test, gives Q111_FAIL with the reason. Q111_NONE otherwise.
 */
enum q111_result q111_tap_line(struct q111_tap *t, const char *line,
			       char *msg, size_t size);
/*
 * After the console ended: Q111_FAIL if a suite was still running (it
 * counts as a suite that failed), else Q111_NONE.
 */
enum q111_result q111_tap_end(struct q111_tap *t, char *msg, size_t size);

#ifdef __KSELFTEST_H
/*
 * Report what q111_tap_line() or q111_tap_end() returned, as a test of
 * the caller's (kselftest.h keeps its counters per compilation unit, so
 * this is inline and needs kselftest.h included first), named "TAG: MSG".
 */
static inline void q111_report(enum q111_result res, const char *tag,
			       const char *msg)
{
	switch (res) {
	case Q111_PASS:
		ksft_test_result_pass("%s: %s\n", tag, msg);
		break;
	case Q111_FAIL:
		ksft_test_result_fail("%s: %s\n", tag, msg);
		break;
	case Q111_SKIP:
		ksft_test_result_skip("%s: %s\n", tag, msg);
		break;
	case Q111_NONE:
		break;
	}
}
#endif

#endif /* _QEMU111_H */
