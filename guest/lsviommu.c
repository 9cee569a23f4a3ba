// SPDX-License-Identifier: GPL-2.0
/*
 * lsviommu: what the guest sees of the IOMMU platform, in plain words.
 *
 * For each IOMMU instance in /sys/class/iommu: its platform device, the
 * features the arm-smmu-v3 driver logged when it probed, whether it can
 * nest (stage 1 over stage 2), and the devices behind it with their IOMMU
 * groups and PCI IDs. Exits non-zero when no IOMMU is found.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * ARM_SMMU_FEAT_* of drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h: bits 0-22
 * as in 6.12, bit 23 (S2FWB) added by the series.
 */
static const char *const smmu_feat[] = {
	"2_LVL_STRTAB", "2_LVL_CDTAB", "TT_LE", "TT_BE", "PRI", "ATS", "SEV",
	"MSI", "COHERENCY", "TRANS_S1", "TRANS_S2", "STALLS", "HYP",
	"STALL_FORCE", "VAX", "RANGE_INV", "BTM", "SVA", "E2H", "NESTING",
	"ATTR_TYPES_OVR", "HA", "HD", "S2FWB",
};

#define FEAT_TRANS_S1 (1u << 9)
#define FEAT_TRANS_S2 (1u << 10)
#define FEAT_NESTING (1u << 19)

static char kmsg[256 * 1024];

/* The kernel log so far, read once through /dev/kmsg without blocking. */
static void read_kmsg(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return;
	while (len < sizeof(kmsg) - 1 &&
	       (n = read(fd, kmsg + len, sizeof(kmsg) - 1 - len)) > 0)
		len += n;
	kmsg[len] = 0;
	close(fd);
}

static int read_str(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, size, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	return 0;
}

static const char *link_base(const char *path)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return "-";
	buf[n] = 0;
	return strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
}

/* "features 0x..." that the driver logged for platform device @pdev. */
static int smmu_features(const char *pdev, unsigned int *features)
{
	char key[PATH_MAX + 16], *p;

	snprintf(key, sizeof(key), " %s: ias ", pdev);
	p = strstr(kmsg, key);
	if (!p)
		return -1;
	p = strstr(p, "(features 0x");
	if (!p)
		return -1;
	*features = strtoul(p + strlen("(features 0x"), NULL, 16);
	return 0;
}

static int visible(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* The VFIO cdev of a PCI device bound to vfio-pci, or "-". */
static const char *vfio_cdev(const char *bdf)
{
	static char name[NAME_MAX + 1];
	char path[PATH_MAX];
	struct dirent **de;
	int n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	n = scandir(path, &de, visible, alphasort);
	if (n <= 0)
		return "-";
	snprintf(name, sizeof(name), "%s", de[0]->d_name);
	while (n--)
		free(de[n]);
	free(de);
	return name;
}

static void show_devices(const char *iommu)
{
	char path[PATH_MAX], buf[PATH_MAX], vendor[16], device[16];
	struct dirent **list, *de;
	int i, n;

	snprintf(path, sizeof(path), "/sys/class/iommu/%s/devices", iommu);
	n = scandir(path, &list, visible, alphasort);
	for (i = 0; i < n; i++) {
		de = list[i];
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (read_str(path, vendor, sizeof(vendor)))
			strcpy(vendor, "-");
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (read_str(path, device, sizeof(device)))
			strcpy(device, "-");
		snprintf(path, sizeof(path),
			 "/sys/class/iommu/%s/devices/%s/iommu_group", iommu,
			 de->d_name);
		snprintf(buf, sizeof(buf), "%s", link_base(path));
		snprintf(path, sizeof(path),
			 "/sys/class/iommu/%s/devices/%s/driver", iommu,
			 de->d_name);
		printf("    device %s  [%s:%s]  iommu group %s  driver %s",
		       de->d_name, vendor + 2, device + 2, buf, link_base(path));
		if (!strcmp(link_base(path), "vfio-pci"))
			printf("  /dev/vfio/devices/%s", vfio_cdev(de->d_name));
		if (!strcmp(vendor, "0x1234") && !strcmp(device, "0x11e8"))
			printf("  (edu)");
		printf("\n");
		free(de);
	}
	if (n > 0)
		free(list);
}

int main(void)
{
	char path[PATH_MAX], pdev[PATH_MAX];
	unsigned int features, i;
	struct dirent **list, *de;
	int found = 0, k, n;

	read_kmsg();
	n = scandir("/sys/class/iommu", &list, visible, alphasort);
	if (n < 0) {
		perror("/sys/class/iommu");
		return 1;
	}
	for (k = 0; k < n; k++) {
		de = list[k];
		found++;
		snprintf(path, sizeof(path), "/sys/class/iommu/%s/device",
			 de->d_name);
		snprintf(pdev, sizeof(pdev), "%s", link_base(path));
		printf("IOMMU %s (platform device %s)\n", de->d_name, pdev);
		if (!smmu_features(pdev, &features)) {
			printf("    arm-smmu-v3 features 0x%08x:", features);
			for (i = 0; i < sizeof(smmu_feat) / sizeof(*smmu_feat); i++)
				if (features & (1u << i))
					printf(" %s", smmu_feat[i]);
			printf("\n    nesting (stage 1 over stage 2): %s\n",
			       (features & FEAT_NESTING) &&
			       (features & FEAT_TRANS_S1) &&
			       (features & FEAT_TRANS_S2) ? "yes" : "no");
		}
		show_devices(de->d_name);
		free(de);
	}
	free(list);
	printf("%d IOMMU instance(s)\n", found);
	return found ? 0 : 1;
}
