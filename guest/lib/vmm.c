// SPDX-License-Identifier: GPL-2.0
/*
 * vmm.c: a minimal reference VMM layer over VFIO cdev + iommufd (vmm.h).
 *
 * Every ioctl here is one uAPI call with its structure filled in full:
 * "size"/"argsz" first, flags and reserved fields zero, so that a newer
 * kernel (which checks that bytes it does not know are zero) accepts it.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "vmm.h"

/* Return the current errno as a negative value, leaving errno set. */
static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

/* Fail with @err: errno = @err, return -@err. */
static int fail(int err)
{
	errno = err;
	return -err;
}

static int do_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? neg_errno() : 0;
}

/* One line of a sysfs file, without its newline. */
static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	int err;

	if (!f)
		return neg_errno();
	if (!fgets(buf, size, f)) {
		err = ferror(f) ? EIO : ENODATA;
		fclose(f);
		return fail(err);
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int read_hex(const char *path, unsigned long *val)
{
	char buf[32], *end;
	int ret = read_line(path, buf, sizeof(buf));

	if (ret)
		return ret;
	*val = strtoul(buf, &end, 16);
	return end == buf ? fail(EINVAL) : 0;
}

/* The last component of the target of symlink @path. */
static int link_name(const char *path, char *buf, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;

	if (n < 0)
		return neg_errno();
	target[n] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if ((size_t)snprintf(buf, size, "%s", base) >= size)
		return fail(ENAMETOOLONG);
	return 0;
}

/*
 * The VFIO cdev of a device bound to a VFIO driver: the kernel lists it as
 * /sys/bus/pci/devices/BDF/vfio-dev/vfioN, and devtmpfs creates it as
 * /dev/vfio/devices/vfioN.
 */
static void find_cdev(const char *bdf, char *buf, size_t size)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, "vfio", 4) &&
		    strlen(de->d_name) < 32) {
			snprintf(buf, size, "/dev/vfio/devices/%.31s",
				 de->d_name);
			break;
		}
	}
	closedir(dir);
}

static int pci_cmp(const void *a, const void *b)
{
	const struct vmm_pci *x = a, *y = b;
	int c = strcmp(x->iommu, y->iommu);

	return c ? c : strcmp(x->bdf, y->bdf);
}

int vmm_find_pci(__u16 vendor, __u16 device, struct vmm_pci *out, int max)
{
	char path[PATH_MAX];
	unsigned long v, d;
	struct dirent *de;
	int n = 0;
	DIR *dir;

	dir = opendir("/sys/bus/pci/devices");
	if (!dir)
		return neg_errno();
	while ((de = readdir(dir))) {
		struct vmm_pci pci = {};

		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= sizeof(pci.bdf))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (read_hex(path, &v) || v != vendor)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (read_hex(path, &d) || d != device)
			continue;
		snprintf(pci.bdf, sizeof(pci.bdf), "%s", de->d_name);
		/*
		 * The "iommu" link points at the IOMMU instance in
		 * /sys/class/iommu. On 6.12 it appears when a driver binds
		 * (IORT is consulted at probe): bind vfio-pci first.
		 */
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu",
			 de->d_name);
		if (link_name(path, pci.iommu, sizeof(pci.iommu)))
			pci.iommu[0] = 0;
		find_cdev(pci.bdf, pci.cdev, sizeof(pci.cdev));
		if (n < max)
			out[n] = pci;
		n++;
	}
	closedir(dir);
	qsort(out, n < max ? n : max, sizeof(*out), pci_cmp);
	return n;
}

int vmm_pci_per_iommu(struct vmm_pci *pci, int n)
{
	int i, m = 0;

	for (i = 0; i < n; i++)
		if (!m || strcmp(pci[i].iommu, pci[m - 1].iommu))
			pci[m++] = pci[i];
	return m;
}

int vmm_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int vmm_bind_vfio_pci(const char *bdf)
{
	char path[PATH_MAX], drv[PATH_MAX];
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, drv, sizeof(drv) - 1);
	if (n >= 0) {
		drv[n] = 0;
		if (strstr(drv, "/vfio-pci"))
			return 0;
		/* Let go of whatever driver has it now. */
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		ret = vmm_write_file(path, bdf);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	ret = vmm_write_file(path, "vfio-pci");
	if (ret)
		return ret;
	ret = vmm_write_file("/sys/bus/pci/drivers_probe", bdf);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, drv, sizeof(drv) - 1);
	if (n < 0)
		return -ENODEV;
	drv[n] = 0;
	return strstr(drv, "/vfio-pci") ? 0 : -EBUSY;
}

int vmm_iommufd_open(void)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	return fd < 0 ? neg_errno() : fd;
}

int vmm_ioas_alloc(int iommufd, __u32 *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int ret = do_ioctl(iommufd, IOMMU_IOAS_ALLOC, &cmd);

	if (!ret)
		*ioas_id = cmd.out_ioas_id;
	return ret;
}

int vmm_destroy(int iommufd, __u32 id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return do_ioctl(iommufd, IOMMU_DESTROY, &cmd);
}

__u64 vmm_page_size(void)
{
	static __u64 size;

	if (!size) {
		long n = sysconf(_SC_PAGESIZE);

		size = n > 0 ? (__u64)n : 4096;
	}
	return size;
}

__u64 vmm_page_align(__u64 len)
{
	__u64 page = vmm_page_size();

	return (len + page - 1) & ~(page - 1);
}

int vmm_ioas_map(int iommufd, __u32 ioas_id, void *va, __u64 len, __u64 iova,
		 __u32 prot)
{
	/*
	 * FIXED_IOVA: the VMM decides the address (the guest physical
	 * address of this RAM). The kernel pins the pages now; they stay
	 * pinned until the unmap (or the close of the iommufd).
	 */
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | prot,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return do_ioctl(iommufd, IOMMU_IOAS_MAP, &cmd);
}

int vmm_ioas_map_file(int iommufd, __u32 ioas_id, int fd, __u64 start,
		      __u64 len, __u64 iova, __u32 prot)
{
	/*
	 * The pages are the file's, whatever the VMM maps where: the device
	 * sees what the guest writes through any mapping of the file.
	 */
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | prot,
		.ioas_id = ioas_id,
		.fd = fd,
		.start = start,
		.length = len,
		.iova = iova,
	};

	return do_ioctl(iommufd, IOMMU_IOAS_MAP_FILE, &cmd);
}

int vmm_ioas_unmap(int iommufd, __u32 ioas_id, __u64 iova, __u64 len,
		   __u64 *unmapped)
{
	/*
	 * The range must cover whole mappings: unmapping part of one, or a
	 * range with nothing mapped in it, is ENOENT. When the call returns,
	 * the IOTLBs have been invalidated and the pages unpinned.
	 */
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};
	int ret = do_ioctl(iommufd, IOMMU_IOAS_UNMAP, &cmd);

	if (!ret && unmapped)
		*unmapped = cmd.length;
	return ret;
}

int vmm_ioas_ranges(int iommufd, __u32 ioas_id, struct iommu_iova_range *ranges,
		    int max, __u64 *alignment)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = max,
		.allowed_iovas = (uintptr_t)ranges,
	};

	/* EMSGSIZE: more ranges than @max; num_iovas has the total. */
	if (ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd) && errno != EMSGSIZE)
		return neg_errno();
	if (alignment)
		*alignment = cmd.out_iova_alignment;
	return cmd.num_iovas;
}

int vmm_hwpt_alloc(int iommufd, __u32 dev_id, __u32 pt_id, __u32 flags,
		   __u32 data_type, void *data, __u32 data_len, __u32 *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int ret = do_ioctl(iommufd, IOMMU_HWPT_ALLOC, &cmd);

	if (!ret)
		*hwpt_id = cmd.out_hwpt_id;
	return ret;
}

/*
 * IOMMU_GET_HW_INFO with @flags; with IOMMU_HW_INFO_FLAG_INPUT_TYPE, the
 * u32 that returns out_data_type carries the requested type in (a union
 * in the uAPI: in_data_type).
 */
static int hw_info(int iommufd, __u32 dev_id, __u32 flags, __u32 in_type,
		   void *data, __u32 *data_len, __u32 *type, __u64 *caps)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.data_len = data_len ? *data_len : 0,
		.data_uptr = (uintptr_t)data,
		.out_data_type = in_type,
	};
	int ret = do_ioctl(iommufd, IOMMU_GET_HW_INFO, &cmd);

	if (ret)
		return ret;
	if (data_len)
		*data_len = cmd.data_len;
	if (type)
		*type = cmd.out_data_type;
	if (caps)
		*caps = cmd.out_capabilities;
	return 0;
}

int vmm_hw_info(int iommufd, __u32 dev_id, void *data, __u32 *data_len,
		__u32 *type, __u64 *caps)
{
	/*
	 * flags 0: the driver's default type (struct iommu_hw_info_arm_smmuv3
	 * on an SMMUv3). The kernel copies min(*data_len, its size) bytes,
	 * zero-fills the rest of the buffer and returns its own size, so a
	 * VMM built against a newer struct still works.
	 */
	return hw_info(iommufd, dev_id, 0, 0, data, data_len, type, caps);
}

#ifdef VMM_HAVE_VIOMMU
int vmm_viommu_alloc(int iommufd, __u32 dev_id, __u32 parent_id, __u32 type,
		     void *data, __u32 data_len, __u32 *viommu_id)
{
	/*
	 * @dev_id only names the physical IOMMU instance to slice: the
	 * vIOMMU is not tied to that device. @parent_id must be a HWPT
	 * allocated with IOMMU_HWPT_ALLOC_NEST_PARENT on that same instance;
	 * the vIOMMU holds it (IOMMU_DESTROY of the parent is EBUSY until the
	 * vIOMMU is gone).
	 */
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = parent_id,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int ret = do_ioctl(iommufd, IOMMU_VIOMMU_ALLOC, &cmd);

	if (!ret)
		*viommu_id = cmd.out_viommu_id;
	return ret;
}

int vmm_viommu_create(int iommufd, __u32 dev_id, __u32 ioas_id, __u32 type,
		      void *data, __u32 data_len, __u32 *parent_id,
		      __u32 *viommu_id)
{
	int ret = vmm_hwpt_alloc(iommufd, dev_id, ioas_id,
				 IOMMU_HWPT_ALLOC_NEST_PARENT,
				 IOMMU_HWPT_DATA_NONE, NULL, 0, parent_id);

	if (ret)
		return ret;
	ret = vmm_viommu_alloc(iommufd, dev_id, *parent_id, type, data,
			       data_len, viommu_id);
	if (ret) {
		/* Nothing left behind; errno stays the vIOMMU's. */
		vmm_destroy(iommufd, *parent_id);
		errno = -ret;
	}
	return ret;
}

int vmm_viommu_set_dev_id(int iommufd, __u32 viommu_id, __u32 dev_id,
			  __u64 vid)
{
	/*
	 * EINVAL if the device sits behind another physical IOMMU than the
	 * vIOMMU's; EEXIST if @vid is taken or the device already has one.
	 */
	struct iommu_viommu_set_dev_id cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.id = vid,
	};

	return do_ioctl(iommufd, IOMMU_VIOMMU_SET_DEV_ID, &cmd);
}

int vmm_viommu_unset_dev_id(int iommufd, __u32 viommu_id, __u32 dev_id,
			    __u64 vid)
{
	struct iommu_viommu_unset_dev_id cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.id = vid,
	};

	return do_ioctl(iommufd, IOMMU_VIOMMU_UNSET_DEV_ID, &cmd);
}

int vmm_viommu_invalidate(int iommufd, __u32 viommu_id, __u32 data_type,
			  const void *entries, __u32 entry_len, __u32 *num)
{
	/*
	 * The entries are handled in order; the first one that fails stops
	 * the call, and entry_num comes back as the number handled before
	 * it. A VMM that traps a guest's command queue reports that index
	 * to the guest as the failing command (CMDQ_CONS.ERR = CERROR_ILL on
	 * a vSMMU).
	 */
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = viommu_id,
		.data_uptr = (uintptr_t)entries,
		.data_type = data_type,
		.entry_len = entry_len,
		.entry_num = *num,
	};
	int ret = do_ioctl(iommufd, IOMMU_HWPT_INVALIDATE, &cmd);
	int err = errno;

	*num = cmd.entry_num;
	errno = err;
	return ret;
}

#ifdef VMM_HAVE_VDEVICE
int vmm_vdevice_alloc(int iommufd, __u32 viommu_id, __u32 dev_id,
		      __u64 virt_id, __u32 *vdevice_id)
{
	/*
	 * The same record as vmm_viommu_set_dev_id(), owned by an object:
	 * the ID lives until IOMMU_DESTROY of that object or the unbind of
	 * the device, and a Tegra241 vIOMMU programs its SID pair here.
	 */
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int ret = do_ioctl(iommufd, IOMMU_VDEVICE_ALLOC, &cmd);

	if (!ret)
		*vdevice_id = cmd.out_vdevice_id;
	return ret;
}

int vmm_vdevice_destroy(int iommufd, __u32 vdevice_id)
{
	return vmm_destroy(iommufd, vdevice_id);
}
#endif

#ifdef VMM_HAVE_VEVENTQ
__u32 vmm_vevent_data_len(__u32 type)
{
	switch (type) {
	case IOMMU_VEVENTQ_TYPE_ARM_SMMUV3:
		return sizeof(struct iommu_vevent_arm_smmuv3);
	case IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV:
		return sizeof(struct iommu_vevent_tegra241_cmdqv);
	default:
		return 0;
	}
}

int vmm_veventq_alloc(int iommufd, __u32 viommu_id, __u32 type, __u32 depth,
		      struct vmm_veventq *q)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.veventq_depth = depth,
	};
	int ret;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	/* The kernel judges the type first: its errno is the one that counts. */
	ret = do_ioctl(iommufd, IOMMU_VEVENTQ_ALLOC, &cmd);
	if (ret)
		return ret;
	q->fd = cmd.out_veventq_fd;	/* O_CLOEXEC, read-only */
	q->id = cmd.out_veventq_id;
	q->type = type;
	q->data_len = vmm_vevent_data_len(type);
	if (!q->data_len) {
		/* A type this code cannot parse: give the queue back. */
		vmm_veventq_free(iommufd, q);
		return fail(EOPNOTSUPP);
	}
	return 0;
}

/* Take the next record out of q->buf. */
static int veventq_parse(struct vmm_veventq *q, struct vmm_vevent *ev)
{
	struct iommufd_vevent_header hdr;
	size_t left = q->buf_len - q->buf_off, len;

	if (left < sizeof(hdr))
		return fail(EPROTO);
	memcpy(&hdr, q->buf + q->buf_off, sizeof(hdr));
	if (hdr.flags & ~(__u32)IOMMU_VEVENTQ_FLAG_LOST_EVENTS ||
	    hdr.sequence > INT_MAX)
		return fail(EPROTO);
	/* A LOST_EVENTS record is a header alone. */
	len = hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS ? 0 : q->data_len;
	if (left - sizeof(hdr) < len)
		return fail(EPROTO);

	memset(ev, 0, sizeof(*ev));
	ev->flags = hdr.flags;
	ev->sequence = hdr.sequence;
	ev->data_len = len;
	memcpy(ev->data.raw, q->buf + q->buf_off + sizeof(hdr), len);
	q->buf_off += sizeof(hdr) + len;

	/*
	 * Every record, LOST_EVENTS included, takes the next number (mod
	 * 2^31): each one missing is an event dropped, and the LOST_EVENTS
	 * record, renumbered by every drop, stands for the last one.
	 */
	ev->lost_before = (hdr.sequence - q->next_seq) & INT_MAX;
	q->next_seq = (hdr.sequence + 1) & INT_MAX;
	q->lost += ev->lost_before;
	if (hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)
		q->lost++;
	q->records++;
	return 0;
}

int vmm_veventq_read(struct vmm_veventq *q, struct vmm_vevent *ev, int max,
		     int timeout_ms)
{
	int n = 0, ret;

	if (max <= 0 || q->fd < 0)
		return fail(EINVAL);
	while (n < max) {
		if (q->buf_off == q->buf_len) {
			struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
			ssize_t got;

			/* Wait for the first record only, then take what is there. */
			ret = poll(&pfd, 1, n ? 0 : timeout_ms);
			if (ret < 0 && errno == EINTR)
				continue;
			if (ret < 0)
				return neg_errno();
			if (!ret)
				break;
			/*
			 * Whole records only, as many as fit; 0 when the queue
			 * is empty (or its first record does not fit).
			 */
			got = read(q->fd, q->buf, sizeof(q->buf));
			if (got < 0)
				return neg_errno();
			if (!got)
				break;
			q->buf_len = got;
			q->buf_off = 0;
		}
		ret = veventq_parse(q, &ev[n]);
		if (ret)
			return ret;
		n++;
	}
	return n;
}

int vmm_veventq_free(int iommufd, struct vmm_veventq *q)
{
	/* The open file holds the queue: close it first. */
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	q->buf_len = q->buf_off = 0;
	return vmm_destroy(iommufd, q->id);
}

int vmm_hw_info_type(int iommufd, __u32 dev_id, __u32 in_type, void *data,
		     __u32 *data_len, __u32 *out_type, __u64 *caps)
{
	return hw_info(iommufd, dev_id, IOMMU_HW_INFO_FLAG_INPUT_TYPE, in_type,
		       data, data_len, out_type, caps);
}
#endif
#endif

#ifdef IOMMU_HW_QUEUE_ALLOC
void *vmm_iommufd_mmap(int iommufd, __u64 offset, __u64 len)
{
	void *va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, iommufd,
			offset);

	return va == MAP_FAILED ? NULL : va;
}

int vmm_hw_queue_alloc(int iommufd, __u32 viommu_id, __u32 type, __u32 index,
		       __u64 ipa, __u64 len, __u32 *hw_queue_id)
{
	struct iommu_hw_queue_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.index = index,
		.nesting_parent_iova = ipa,
		.length = len,
	};
	int ret = do_ioctl(iommufd, IOMMU_HW_QUEUE_ALLOC, &cmd);

	if (!ret)
		*hw_queue_id = cmd.out_hw_queue_id;
	return ret;
}
#endif

int vmm_dev_open(struct vmm_dev *dev, const struct vmm_pci *pci)
{
	memset(dev, 0, sizeof(*dev));
	dev->pci = *pci;
	dev->fd = -1;
	if (!pci->cdev[0])
		return fail(ENODEV);	/* not bound to a VFIO driver */
	/*
	 * Opening the cdev gives no access yet: every ioctl but
	 * VFIO_DEVICE_BIND_IOMMUFD fails with EINVAL until the bind.
	 */
	dev->fd = open(pci->cdev, O_RDWR | O_CLOEXEC);
	return dev->fd < 0 ? neg_errno() : 0;
}

int vmm_dev_bind(struct vmm_dev *dev, int iommufd)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int ret = do_ioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);

	/*
	 * From here on the device is owned by this iommufd and its DMA is
	 * blocked until it is attached to a page table.
	 */
	if (!ret) {
		dev->dev_id = bind.out_devid;
		dev->bound = true;
	}
	return ret;
}

int vmm_dev_attach(struct vmm_dev *dev, __u32 pt_id, __u32 *hwpt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = pt_id,
	};
	int ret = do_ioctl(dev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);

	/* On return pt_id names the HWPT in use (for an IOAS: its own). */
	if (!ret) {
		dev->pt_id = attach.pt_id;
		if (hwpt_id)
			*hwpt_id = attach.pt_id;
	}
	return ret;
}

int vmm_dev_detach(struct vmm_dev *dev)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};
	int ret = do_ioctl(dev->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach);

	if (!ret)
		dev->pt_id = 0;
	return ret;
}

int vmm_dev_irq_eventfd(struct vmm_dev *dev, __u32 index, int efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(__s32)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	__s32 fd = efd;

	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &fd, sizeof(fd));
	return do_ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set);
}

int vmm_dev_irq_off(struct vmm_dev *dev, __u32 index)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
	};

	return do_ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, &set);
}

int vmm_dev_region_info(struct vmm_dev *dev, __u32 index,
			struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return do_ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, info);
}

int vmm_dev_map_region(struct vmm_dev *dev, __u32 index,
		       struct vmm_region *reg)
{
	struct vfio_region_info info;
	void *va;
	int ret;

	memset(reg, 0, sizeof(*reg));
	ret = vmm_dev_region_info(dev, index, &info);
	if (ret)
		return ret;
	/* A region is mmap()able only if VFIO says so (and it has a size). */
	if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP) || !info.size)
		return fail(EOPNOTSUPP);
	va = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd,
		  info.offset);
	if (va == MAP_FAILED)
		return neg_errno();
	reg->va = va;
	reg->size = info.size;
	reg->offset = info.offset;
	reg->flags = info.flags;
	return 0;
}

void vmm_region_unmap(struct vmm_region *reg)
{
	int err = errno;

	if (reg->va)
		munmap(reg->va, reg->size);
	memset(reg, 0, sizeof(*reg));
	errno = err;
}

/* Config space is a region read and written with pread()/pwrite(). */
static int cfg_rw(struct vmm_dev *dev, __u32 off, void *buf, size_t len,
		  bool write)
{
	struct vfio_region_info info;
	ssize_t n;
	int ret;

	ret = vmm_dev_region_info(dev, VFIO_PCI_CONFIG_REGION_INDEX, &info);
	if (ret)
		return ret;
	if (off + len > info.size)
		return fail(EINVAL);
	if (write)
		n = pwrite(dev->fd, buf, len, info.offset + off);
	else
		n = pread(dev->fd, buf, len, info.offset + off);
	if (n < 0)
		return neg_errno();
	return (size_t)n == len ? 0 : fail(EIO);
}

int vmm_dev_cfg_read16(struct vmm_dev *dev, __u32 off, __u16 *val)
{
	__u16 le;
	int ret = cfg_rw(dev, off, &le, sizeof(le), false);

	if (!ret)
		*val = le16toh(le);
	return ret;
}

int vmm_dev_cfg_write16(struct vmm_dev *dev, __u32 off, __u16 val)
{
	__u16 le = htole16(val);

	return cfg_rw(dev, off, &le, sizeof(le), true);
}

int vmm_dev_set_command(struct vmm_dev *dev, __u16 set, __u16 clear)
{
	__u16 cmd;
	int ret = vmm_dev_cfg_read16(dev, PCI_COMMAND, &cmd);

	/*
	 * PCI_COMMAND_MASTER lets the device issue DMA at all;
	 * PCI_COMMAND_MEMORY makes its BARs decode (VFIO refuses BAR access
	 * with SIGBUS / EIO while it is off).
	 */
	if (ret)
		return ret;
	cmd = (cmd | set) & ~clear;
	return vmm_dev_cfg_write16(dev, PCI_COMMAND, cmd);
}

void vmm_dev_close(struct vmm_dev *dev)
{
	int err = errno;

	/* Closing the cdev detaches and unbinds: teardown cannot fail. */
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
	dev->bound = false;
	dev->pt_id = 0;
	errno = err;
}
