// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the test VMs: mount the pseudo file systems, run the programs
 * that /plan names, one after the other, and power off.
 *
 * /plan is made by scripts/initramfs.sh from a plan file in tests/. Each
 * "run NAME PROGRAM [ARG...]" line runs PROGRAM with its output on the
 * console, framed by two lines the host's result parser reads:
 *
 *	# viommu-suite: NAME
 *	...the program's TAP...
 *	# viommu-exit: NAME STATUS
 *
 * STATUS is the exit code, or 128 + the signal that killed it. A "do NAME
 * PROGRAM [ARG...]" line is a set-up step: it runs the same way but is
 * framed by "# viommu-step:" / "# viommu-step-exit:", which the parser
 * does not count as a suite. Other lines of /plan are for the host. At the end the guest prints
 * "# viommu-poweroff: N", N being the number of programs that did not exit
 * 0, and powers off; the host takes its exit status from that line. The
 * kernel command line may carry "viommu.printk=N" to set the console log
 * level once the boot (and the KUnit suites it runs) is over.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 32

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void do_mount(const char *src, const char *dst, const char *type,
		     const char *opts)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, 0, opts) && errno != EBUSY)
		say("# init: mount %s on %s: %s\n", type, dst, strerror(errno));
}

/* The kernel found no /dev/console in the initramfs: open it ourselves. */
static void open_console(void)
{
	int fd = open("/dev/console", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Value of "key=" on the kernel command line, or NULL. */
static char *cmdline_arg(const char *key)
{
	static char buf[4096];
	size_t len = strlen(key);
	char *tok, *save;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strncmp(tok, key, len) && tok[len] == '=')
			return tok + len + 1;
	return NULL;
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		say("# init: write %s: %s\n", path, strerror(errno));
	close(fd);
}

static int run(const char *kind, char *name, char **argv)
{
	int status;
	pid_t pid;

	say("# viommu-%s: %s\n", kind, name);
	pid = fork();
	if (pid < 0) {
		say("# init: fork: %s\n", strerror(errno));
		return 127;
	}
	if (!pid) {
		chdir("/tmp");
		execv(argv[0], argv);
		say("# init: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	status = WIFEXITED(status) ? WEXITSTATUS(status) :
				     128 + WTERMSIG(status);
	say("# viommu-%s: %s %d\n", strcmp(kind, "suite") ? "step-exit" : "exit",
	    name, status);
	return status;
}

int main(void)
{
	char line[1024], *argv[MAX_ARGS + 1], *kind, *name, *level, *save;
	int failed = 0, argc;
	FILE *plan;

	do_mount("devtmpfs", "/dev", "devtmpfs", NULL);
	open_console();
	do_mount("proc", "/proc", "proc", NULL);
	do_mount("sysfs", "/sys", "sysfs", NULL);
	do_mount("debugfs", "/sys/kernel/debug", "debugfs", NULL);
	do_mount("tmpfs", "/tmp", "tmpfs", "mode=1777");
	do_mount("hugetlbfs", "/dev/hugepages", "hugetlbfs", NULL);

	level = cmdline_arg("viommu.printk");
	if (level)
		write_file("/proc/sys/kernel/printk", level);

	plan = fopen("/plan", "r");
	if (!plan) {
		say("# init: no /plan: %s\n", strerror(errno));
		failed = 1;
	}
	while (plan && fgets(line, sizeof(line), plan)) {
		if (!strncmp(line, "run ", 4))
			kind = "suite";
		else if (!strncmp(line, "do ", 3))
			kind = "step";
		else
			continue;
		name = strtok_r(line + 3, " \t\n", &save);
		argc = 0;
		while (argc < MAX_ARGS &&
		       (argv[argc] = strtok_r(NULL, " \t\n", &save)))
			argc++;
		argv[argc] = NULL;
		if (!name || !argc) {
			say("# init: bad plan line\n");
			failed++;
			continue;
		}
		if (run(kind, name, argv))
			failed++;
	}
	if (plan)
		fclose(plan);

	sync();
	say("# viommu-poweroff: %d\n", failed);
	reboot(RB_POWER_OFF);
	return 0;
}
