// SPDX-License-Identifier: GPL-2.0
/*
 * qemu111: run Debian's QEMU 11.1 on the inner guest and read its
 * console (see qemu111.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "qemu111.h"

int q111_arg(struct q111_argv *a, const char *fmt, ...)
{
	va_list ap;
	int ret;

	if (a->n >= Q111_MAX_ARGS - 1)
		return -E2BIG;
	va_start(ap, fmt);
	ret = vasprintf(&a->v[a->n], fmt, ap);
	va_end(ap);
	if (ret < 0)
		return -ENOMEM;
	a->v[++a->n] = NULL;
	return 0;
}

void q111_argv_free(struct q111_argv *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
	a->v[0] = NULL;
}

int q111_cmdline_base(struct q111_argv *a, const char *mem,
		      const char *append)
{
	static const char *const fixed[] = {
		Q111_QEMU,
		"-M", "virt,accel=kvm,gic-version=3,its=on",
		"-cpu", "host", "-smp", "2",
	};
	static const char *const io[] = {
		"-nographic", "-nodefaults", "-serial", "stdio", "-net", "none",
		"-no-reboot", "-bios", Q111_FIRMWARE,
		"-kernel", Q111_INNER_KERNEL, "-initrd", Q111_INNER_INITRD,
	};
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < sizeof(fixed) / sizeof(fixed[0]); i++)
		ret = q111_arg(a, "%s", fixed[i]);
	if (!ret)
		ret = q111_arg(a, "-m");
	if (!ret)
		ret = q111_arg(a, "%s", mem);
	for (i = 0; !ret && i < sizeof(io) / sizeof(io[0]); i++)
		ret = q111_arg(a, "%s", io[i]);
	if (!ret)
		ret = q111_arg(a, "-append");
	if (!ret)
		ret = q111_arg(a, "%s", append);
	if (!ret)
		ret = q111_arg(a, "-object");
	if (!ret)
		ret = q111_arg(a, "iommufd,id=iommufd0");
	return ret;
}

void q111_clean(char *s)
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

int q111_run(struct q111_proc *p, const struct q111_argv *a)
{
	char buf[4096], line[1024];
	time_t deadline = time(NULL) + p->timeout;
	size_t len = 0;
	int pipefd[2];
	pid_t pid;

	p->timed_out = false;
	p->status = 0;
	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
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
	p->pid = pid;
	for (;;) {
		struct pollfd pf = { .fd = pipefd[0], .events = POLLIN };
		int left = deadline - time(NULL);
		ssize_t got;

		if (left <= 0 || poll(&pf, 1, left * 1000) <= 0) {
			p->timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		got = read(pipefd[0], buf, sizeof(buf));
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] == '\n' || len == sizeof(line) - 1) {
				line[len] = 0;
				p->line(p, line);
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
		p->line(p, line);
	}
	close(pipefd[0]);
	if (waitpid(pid, &p->status, 0) < 0)
		return -errno;
	return 0;
}

void q111_tap_init(struct q111_tap *t)
{
	memset(t, 0, sizeof(*t));
	t->planned = -1;
	t->poweroff = -1;
}

/* The end of the suite being read: a failure to report, or none. */
static enum q111_result suite_end(struct q111_tap *t, int status, char *msg,
				  size_t size)
{
	enum q111_result res = Q111_NONE;

	if (t->planned >= 0 && t->reported != t->planned) {
		snprintf(msg, size, "%s: %d of %d planned tests reported%s",
			 t->suite, t->reported, t->planned,
			 status ? ", exit status non-zero" : "");
		res = Q111_FAIL;
	} else if (status != 0 && !t->failed) {
		snprintf(msg, size, "%s: exit status %d", t->suite, status);
		res = Q111_FAIL;
	}
	t->suites++;
	t->suites_ok += res == Q111_NONE && !t->failed;
	t->suite[0] = 0;
	return res;
}

enum q111_result q111_tap_line(struct q111_tap *t, const char *line,
			       char *msg, size_t size)
{
	const char *desc;
	int n, status;
	bool pass;

	if (sscanf(line, "# viommu-poweroff: %d", &n) == 1) {
		t->poweroff = n;
		return Q111_NONE;
	}
	if (!strncmp(line, "# viommu-suite: ", 16)) {
		snprintf(t->suite, sizeof(t->suite), "%s", line + 16);
		t->planned = -1;
		t->reported = t->failed = 0;
		return Q111_NONE;
	}
	if (!t->suite[0])
		return Q111_NONE;
	if (!strncmp(line, "# viommu-exit: ", 15)) {
		status = 0;
		sscanf(line + 15, "%*s %d", &status);
		return suite_end(t, status, msg, size);
	}
	if (t->planned < 0 && sscanf(line, "1..%d", &n) == 1) {
		t->planned = n;
		return Q111_NONE;
	}
	if (sscanf(line, "ok %d", &n) != 1 && sscanf(line, "not ok %d", &n) != 1)
		return Q111_NONE;
	pass = !strncmp(line, "ok ", 3);
	desc = strchr(line + (pass ? 3 : 7), ' ');
	desc = desc ? desc + 1 : line;
	snprintf(msg, size, "%s: %s", t->suite, desc);
	t->reported++;
	if (strstr(desc, "# SKIP"))
		return Q111_SKIP;
	if (pass)
		return Q111_PASS;
	t->failed++;
	return Q111_FAIL;
}

enum q111_result q111_tap_end(struct q111_tap *t, char *msg, size_t size)
{
	if (!t->suite[0])
		return Q111_NONE;
	snprintf(msg, size, "%s: inner guest stopped in the middle of it",
		 t->suite);
	t->suites++;
	t->suite[0] = 0;
	return Q111_FAIL;
}

int q111_cmdline_devices(struct q111_argv *a, const char *cmdqv,
			 const char *bdf0, const char *bdf1, const char *stray)
{
	int ret = 0;

	if (cmdqv)
		ret = q111_arg(a, "-device") ?:
		      q111_arg(a, "arm-smmuv3,primary-bus=pcie.0,id=vsmmu0,accel=on,cmdqv=%s",
			       cmdqv);
	if (!ret)
		ret = q111_arg(a, "-device") ?:
		      q111_arg(a, "vfio-pci,host=%s,iommufd=iommufd0,bus=pcie.0,addr=0x3",
			       bdf0);
	if (stray)
		return ret ?: q111_arg(a, "-device") ?:
		       q111_arg(a, "vfio-pci,host=%s,iommufd=iommufd0,bus=pcie.0,addr=0x4",
				stray);
	if (!ret)
		ret = q111_arg(a, "-device") ?:
		      q111_arg(a, "pxb-pcie,id=pcie.1,bus_nr=16,bus=pcie.0");
	if (!ret && cmdqv)
		ret = q111_arg(a, "-device") ?:
		      q111_arg(a, "arm-smmuv3,primary-bus=pcie.1,id=vsmmu1,accel=on,cmdqv=%s",
			       cmdqv);
	if (!ret)
		ret = q111_arg(a, "-device") ?:
		      q111_arg(a, "pcie-root-port,id=vrp1,bus=pcie.1,chassis=1") ?:
		      q111_arg(a, "-device") ?:
		      q111_arg(a, "vfio-pci,host=%s,iommufd=iommufd0,bus=vrp1",
			       bdf1);
	return ret;
}

void q111_host_setup(struct q111_host *h)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	int kvm;

	h->memlock = !setrlimit(RLIMIT_MEMLOCK, &unlimited);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	h->kvm = kvm >= 0 && ioctl(kvm, KVM_GET_API_VERSION, 0) == 12;
	if (kvm >= 0)
		close(kvm);
	h->files = !access(Q111_QEMU, X_OK) && !access(Q111_FIRMWARE, R_OK) &&
		   !access(Q111_INNER_KERNEL, R_OK) &&
		   !access(Q111_INNER_INITRD, R_OK);
}

int q111_pick_runs(int argc, char **argv, const char *const *names, int n,
		   bool *want)
{
	int i, k;

	for (k = 0; k < n; k++)
		want[k] = argc <= 1;
	for (i = 1; i < argc; i++) {
		for (k = 0; k < n; k++)
			if (!strcmp(argv[i], names[k]))
				break;
		if (k == n)
			return -EINVAL;
		want[k] = true;
	}
	return 0;
}
