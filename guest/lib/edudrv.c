// SPDX-License-Identifier: GPL-2.0
/* The inner guest's edu driver from user space: see edudrv.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "edu.h"
#include "edudrv.h"
#include "vmm.h"

int sysfs_read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return -errno;
	if (!fgets(buf, size, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	return 0;
}

void sysfs_link_base(const char *path, char *out, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *b;

	out[0] = 0;
	if (n < 0)
		return;
	target[n] = 0;
	b = strrchr(target, '/');
	snprintf(out, size, "%s", b ? b + 1 : target);
}

void cmdline_param(const char *name, char *out, size_t size)
{
	char line[2048], *p = line;
	size_t len = strlen(name);

	out[0] = 0;
	sysfs_read_line("/proc/cmdline", line, sizeof(line));
	while ((p = strstr(p, name))) {
		if ((p == line || p[-1] == ' ') && p[len] == '=') {
			p += len + 1;
			snprintf(out, size, "%.*s", (int)strcspn(p, " "), p);
			return;
		}
		p += len;
	}
}

void edudrv_driver_of(const char *bdf, char *out, size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	sysfs_link_base(path, out, size);
}

bool edudrv_loaded(void)
{
	struct stat st;

	return !stat("/sys/module/" EDUDRV_NAME, &st);
}

int edudrv_load(const char *path, const char *params)
{
	int fd, ret;

	if (edudrv_loaded())
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret == -EEXIST ? 0 : ret;
}

int edudrv_bind(const char *bdf, char *iommu, size_t size)
{
	char path[PATH_MAX], drv[64];
	int ret;

	iommu[0] = 0;

	edudrv_driver_of(bdf, drv, sizeof(drv));
	if (!strcmp(drv, EDUDRV_NAME))
		goto bound;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	ret = vmm_write_file(path, EDUDRV_NAME);
	if (ret)
		return ret;
	if (drv[0]) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		ret = vmm_write_file(path, bdf);
		if (ret)
			return ret;
	}
	/* -EBUSY/-ENODEV here are told apart by the check below */
	vmm_write_file("/sys/bus/pci/drivers_probe", bdf);
	edudrv_driver_of(bdf, drv, sizeof(drv));
	if (strcmp(drv, EDUDRV_NAME))
		return -ENODEV;
bound:
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu", bdf);
	sysfs_link_base(path, iommu, size);
	return 0;
}

static void bdf_copy(char *dst, const char *src)
{
	size_t len = strnlen(src, 15);

	memcpy(dst, src, len);
	dst[len] = 0;
}

int edudrv_find(char *bdf, size_t stride, int max, int argc, char **argv,
		int first)
{
	struct vmm_pci pci[16];
	int i, n = 0, found;

	if (first < argc) {
		for (i = first; i < argc && n < max; i++)
			bdf_copy(bdf + n++ * stride, argv[i]);
		return n;
	}
	found = vmm_find_pci(EDU_VENDOR, EDU_DEVICE, pci, 16);
	for (i = 0; i < found && i < 16 && n < max; i++)
		bdf_copy(bdf + n++ * stride, pci[i].bdf);
	return n;
}
