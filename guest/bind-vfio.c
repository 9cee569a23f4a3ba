// SPDX-License-Identifier: GPL-2.0
/*
 * bind-vfio VENDOR:DEVICE: bind every PCI device with that ID to vfio-pci
 * (driver_override, then drivers_probe), as a VMM's set-up does before it
 * opens /dev/vfio/devices/vfioN. Prints one line per device; fails when
 * none matched or one did not bind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "edudrv.h"
#include "vmm.h"


int main(int argc, char **argv)
{
	char path[PATH_MAX], want_v[16], want_d[16], v[16], d[16];
	int found = 0, failed = 0, ret;
	struct dirent *de;
	DIR *dir;

	if (argc != 2 || sscanf(argv[1], "%4[0-9a-f]:%4[0-9a-f]", want_v,
				want_d) != 2) {
		fprintf(stderr, "usage: bind-vfio VENDOR:DEVICE (hex)\n");
		return 2;
	}
	dir = opendir("/sys/bus/pci/devices");
	if (!dir) {
		perror("/sys/bus/pci/devices");
		return 1;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (sysfs_read_line(path, v, sizeof(v)) || strcmp(v + 2, want_v))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (sysfs_read_line(path, d, sizeof(d)) || strcmp(d + 2, want_d))
			continue;
		found++;
		ret = vmm_bind_vfio_pci(de->d_name);
		if (ret)
			failed++;
		printf("%s [%s:%s]: %s%s\n", de->d_name, want_v, want_d,
		       ret ? "not bound to vfio-pci: " : "bound to vfio-pci",
		       ret ? strerror(-ret) : "");
	}
	closedir(dir);
	if (!found)
		printf("no PCI device %s:%s\n", want_v, want_d);
	return !found || failed;
}
