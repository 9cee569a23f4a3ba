// SPDX-License-Identifier: GPL-2.0
/*
 * edu-dma-test: DMA through the kernel's own DMA API on each edu (QEMU's
 * PCI test device, 1234:11e8), driven by the edu_dma test driver
 * (guest/edu-dma/, loaded here from /usr/lib/modules/edu_dma.ko if it is
 * not loaded yet). This is how a guest that cannot use VFIO (behind QEMU's
 * accel vSMMU its devices "require direct") proves DMA through its own
 * (v)SMMU: buffers mapped with dma_map_single() in the device's default
 * DMA domain, with strict invalidation.
 *
 *   edu-dma-test [-m MODULE] [-p PARAMS] [-n ROUNDS] [-c ROUNDS] [-l LOOPS]
 *                [-s LEN] [BDF...]
 *
 * -m the module file (default /usr/lib/modules/edu_dma.ko), -p its
 * parameters if this loads it (e.g. "dma_bits=28" for edus without QEMU's
 * dma_mask property), -n round trips of each size per device and mode
 * (default 1), -c round trips per device in the concurrent test (default
 * 8), -l map/unmap pairs of the loop (default 1000), -s bytes of the write
 * to a stale bus address (default 8: QEMU's edu writes an unmapped range 4
 * bytes at a time, QEMU's SMMUv3 logs an event for each, and arm-smmu-v3
 * prints at most 10 in 5 s); the BDFs default to every edu.
 *
 * Each edu is bound to edu_dma (driver_override, never vfio-pci) and
 * reports as separate tests: its IOMMU group is a translated DMA domain,
 * and which SMMU it is behind; round trips byte-exact with the MSI and
 * polled, with the bus addresses used (translated, outside the group's
 * reserved regions, inside the DMA mask); the MSI count (one per transfer,
 * the same as /proc/interrupts); a device write to a bus address it has
 * just written through and that was then unmapped is blocked, and its SMMU
 * logged a translation fault with the device's StreamID (its RID) and that
 * address; map/unmap cost; bad arguments refused. Then all edus at once,
 * the driver's removal with its file open and in use, and a module unload
 * and reload (skipped on a kernel without CONFIG_MODULE_UNLOAD). Exits
 * non-zero on any failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <kselftest.h>

#include "edu-dma/edu_dma.h"
#include "pattern.h"
#include "edudrv.h"
#include "vmm.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define MAX_EDU		8
#define DRIVER		EDUDRV_NAME
#define PAGE		4096ull

/* arm-smmu-v3: "event 0x10 received:", then the event's four words */
#define EVT_F_TRANSLATION	0x10
#define EVT_WORDS		4
#define KMSG_WAIT_MS		3000

struct edu {
	char bdf[16];
	char iommu[64];		/* /sys/class/iommu/NAME */
	char smmu_dev[64];	/* its platform device, as the kernel log names it */
	char node[64];		/* /dev/edu-dma-BDF */
	int fd;
	struct edu_dma_info info;
	bool bound;
	__u64 irqs_expected;	/* MSIs the COPY tests asked for */
	__u64 irq_base;		/* irq_count before them */
};

static struct edu edus[MAX_EDU];
static int n_edu;
static int rounds = 1, conc_rounds = 8, loops = 1000, stale_len = 8;
static const char *module_path = EDUDRV_MODULE;
static const char *module_params = "";
static __u32 run_seed;

/* ---- sysfs, /proc -------------------------------------------------- */

/* Bind @e to edu_dma (and only to it): 0 or a negative errno. */
static int bind_edu(struct edu *e)
{
	char path[PATH_MAX];
	int ret = edudrv_bind(e->bdf, e->iommu, sizeof(e->iommu));

	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/sys/class/iommu/%s/device", e->iommu);
	sysfs_link_base(path, e->smmu_dev, sizeof(e->smmu_dev));
	snprintf(e->node, sizeof(e->node), "/dev/edu-dma-%s", e->bdf);
	return 0;
}

static int open_edu(struct edu *e)
{
	e->fd = open(e->node, O_RDWR | O_CLOEXEC);
	if (e->fd < 0)
		return -errno;
	if (ioctl(e->fd, EDU_DMA_INFO, &e->info)) {
		close(e->fd);
		e->fd = -1;
		return -errno;
	}
	return 0;
}

/* Sum of the per-CPU counts of IRQ @irq in /proc/interrupts, -1 if none. */
static long long proc_interrupts(unsigned int irq)
{
	char line[1024], key[16], *p, *end;
	long long sum = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	snprintf(key, sizeof(key), "%u:", irq);
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, key, strlen(key)))
			continue;
		p += strlen(key);
		sum = 0;
		for (;;) {
			long long v = strtoll(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		break;
	}
	fclose(f);
	return sum;
}

/* Is [@a, @a + @len) inside one of the group's reserved regions? */
static bool in_reserved(const struct edu *e, __u64 a, __u64 len,
			char *what, size_t size)
{
	char path[PATH_MAX], line[256], type[64];
	unsigned long long s, t;
	bool hit = false;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu_group/reserved_regions",
		 e->bdf);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %llx %63s", &s, &t, type) != 3)
			continue;
		if (a <= t && a + len - 1 >= s) {
			hit = true;
			snprintf(what, size, "%s region %#llx-%#llx", type, s, t);
		}
	}
	fclose(f);
	return hit;
}

/* Is @a inside a "System RAM" range of /proc/iomem? (information only) */
static bool in_ram(__u64 a)
{
	unsigned long long s, t;
	char line[256];
	bool hit = false;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f))
		if (line[0] != ' ' && strstr(line, ": System RAM") &&
		    sscanf(line, "%llx-%llx", &s, &t) == 2 && a >= s && a <= t)
			hit = true;
	fclose(f);
	return hit;
}

/* ---- the kernel log ------------------------------------------------ */

/* /dev/kmsg, positioned after every record logged so far. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

struct smmu_event {
	char dev[64];		/* the SMMU's device, "" while unused */
	int words;		/* words read so far */
	__u64 w[EVT_WORDS];
};

/*
 * Wait for an F_TRANSLATION event of StreamID @sid from SMMU @smmu_dev in
 * the records after @fd's position; fill @ev. 0, or -ETIMEDOUT. Records of
 * two SMMUs may interleave: each is followed on its own.
 */
static int kmsg_find_fault(int fd, const char *smmu_dev, __u32 sid,
			   struct smmu_event *ev)
{
	struct smmu_event pend[4] = {};
	int waited = 0, i;
	char rec[2048];
	ssize_t n;

	while (waited < KMSG_WAIT_MS) {
		struct smmu_event *pe = NULL;
		char *msg, *p, *name;
		size_t dlen;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records were overwritten: go on */
		if (n < 0) {
			usleep(20000);
			waited += 20;
			continue;
		}
		rec[n] = 0;
		/* "6,SEQ,TS,-;arm-smmu-v3 arm-smmu-v3.0.auto: MESSAGE\n..." */
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = 0;
		p = strstr(msg, ": ");
		if (!p)
			continue;
		dlen = p - msg;
		p += 2;
		if (dlen >= sizeof(pend[0].dev))
			continue;
		for (i = 0; i < 4 && !pe; i++)
			if (strlen(pend[i].dev) == dlen &&
			    !strncmp(pend[i].dev, msg, dlen))
				pe = &pend[i];
		if (!strncmp(p, "event 0x", 8) && strstr(p, " received:")) {
			for (i = 0; i < 4 && !pe; i++)
				if (!pend[i].dev[0])
					pe = &pend[i];
			if (!pe)
				continue;
			memset(pe, 0, sizeof(*pe));
			if (strtoul(p + 8, NULL, 16) == EVT_F_TRANSLATION)
				memcpy(pe->dev, msg, dlen);
			continue;
		}
		if (!pe)
			continue;
		/* "\x090x%016llx": /dev/kmsg escapes the tab */
		if (!strncmp(p, "\\x09", 4))
			p += 4;
		p += strspn(p, "\t ");
		if (strncmp(p, "0x", 2)) {
			pe->dev[0] = 0;
			continue;
		}
		pe->w[pe->words++] = strtoull(p, NULL, 16);
		if (pe->words < EVT_WORDS)
			continue;
		/* "arm-smmu-v3 arm-smmu-v3.0.auto": driver, then device */
		name = strrchr(pe->dev, ' ');
		name = name ? name + 1 : pe->dev;
		if (!strcmp(name, smmu_dev) && (__u32)(pe->w[0] >> 32) == sid) {
			*ev = *pe;
			return 0;
		}
		ksft_print_msg("  (another fault: %s, StreamID %#x)\n", pe->dev,
			       (unsigned int)(pe->w[0] >> 32));
		pe->dev[0] = 0;
	}
	return -ETIMEDOUT;
}

/* ---- tests of one edu ---------------------------------------------- */

#define T_PREFIX "%s: "

static void test_iommu(struct edu *e)
{
	char path[PATH_MAX], type[32] = "", group[32] = "";
	bool ok;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu_group/type", e->bdf);
	sysfs_read_line(path, type, sizeof(type));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 e->bdf);
	sysfs_link_base(path, group, sizeof(group));
	ksft_print_msg("%s: RID %#06x, IOMMU group %s type %s, behind %s (%s), MSI irq %u, DMA mask %#llx, edu ID %#x\n",
		       e->bdf, e->info.rid, group[0] ? group : "-",
		       type[0] ? type : "-", e->iommu[0] ? e->iommu : "-",
		       e->smmu_dev[0] ? e->smmu_dev : "-", e->info.irq,
		       (unsigned long long)e->info.dma_mask, e->info.edu_id);
	ok = !strcmp(type, "DMA") && e->iommu[0] &&
	     !strncmp(e->smmu_dev, "arm-smmu-v3", 11) &&
	     (e->info.flags & EDU_DMA_INFO_IOMMU);
	ksft_test_result(ok, T_PREFIX "translated DMA domain (group type %s) behind %s\n",
			 e->bdf, type[0] ? type : "none",
			 e->iommu[0] ? e->iommu : "no IOMMU");
}

/*
 * One COPY: 0, 1 when it ran but was wrong, -1 when the ioctl failed; the
 * reason logged.
 */
static int copy_once(struct edu *e, int fd, __u32 len, __u32 off, __u32 flags,
		     __u32 seed, struct edu_dma_copy *c, bool verbose)
{
	static __thread __u8 src[EDU_DMA_BUF_SIZE], dst[EDU_DMA_BUF_SIZE];
	char what[128];
	long diff;

	pattern_fill(src, len, seed);
	memset(dst, 0, len);
	*c = (struct edu_dma_copy){
		.src = (__u64)(unsigned long)src,
		.dst = (__u64)(unsigned long)dst,
		.len = len,
		.dev_off = off,
		.flags = flags,
	};
	if (ioctl(fd, EDU_DMA_COPY, c)) {
		ksft_print_msg("%s: COPY len %u off %u: %s\n", e->bdf, len,
			       off, strerror(errno));
		return -1;
	}
	if (verbose)
		ksft_print_msg("%s: %s len %4u off %4u: to-device IOVA %#llx%s, from-device IOVA %#llx%s, %u MSIs\n",
			       e->bdf, flags & EDU_DMA_POLL ? "polled" : "MSI   ",
			       len, off, (unsigned long long)c->iova_to_dev,
			       in_ram(c->iova_to_dev) ? " (in RAM range)" : " (outside RAM)",
			       (unsigned long long)c->iova_from_dev,
			       in_ram(c->iova_from_dev) ? " (in RAM range)" : " (outside RAM)",
			       c->irqs);
	diff = pattern_diff(src, dst, len);
	if (diff >= 0) {
		ksft_print_msg("%s: COPY len %u off %u: byte %ld is %#x, sent %#x (seed %#x)\n",
			       e->bdf, len, off, diff, dst[diff], src[diff],
			       seed);
		return 1;
	}
	if ((c->flags & (EDU_DMA_TO_DEV_TRANSLATED | EDU_DMA_FROM_DEV_TRANSLATED)) !=
	    (EDU_DMA_TO_DEV_TRANSLATED | EDU_DMA_FROM_DEV_TRANSLATED)) {
		ksft_print_msg("%s: COPY len %u: a bus address was the buffer's physical address (flags %#x)\n",
			       e->bdf, len, c->flags);
		return 1;
	}
	if (in_reserved(e, c->iova_to_dev, len, what, sizeof(what)) ||
	    in_reserved(e, c->iova_from_dev, len, what, sizeof(what))) {
		ksft_print_msg("%s: COPY len %u: bus address in the %s\n",
			       e->bdf, len, what);
		return 1;
	}
	if ((c->iova_to_dev + len - 1) & ~e->info.dma_mask ||
	    (c->iova_from_dev + len - 1) & ~e->info.dma_mask) {
		ksft_print_msg("%s: COPY: bus address beyond the DMA mask\n",
			       e->bdf);
		return 1;
	}
	if (c->irqs != (flags & EDU_DMA_POLL ? 0 : 2)) {
		ksft_print_msg("%s: COPY (%s): %u MSIs, expected %u\n", e->bdf,
			       flags & EDU_DMA_POLL ? "polled" : "MSI", c->irqs,
			       flags & EDU_DMA_POLL ? 0 : 2);
		return 1;
	}
	return 0;
}

static void test_copy(struct edu *e, int idx, __u32 flags)
{
	static const struct { __u32 len, off; } sz[] = {
		{ 1, 0 }, { 7, 4089 }, { 64, 128 }, { 513, 1000 },
		{ 4096, 0 },
	};
	struct edu_dma_copy c;
	unsigned int i;
	int r, ret, fails = 0, n = 0;

	for (r = 0; r < rounds; r++)
		for (i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
			__u32 seed = pattern_seed(run_seed, idx,
						  (flags << 16) | (r << 8) | i);

			ret = copy_once(e, e->fd, sz[i].len, sz[i].off, flags,
					seed, &c, r == 0);
			/* Each transfer of a COPY that ran asks for an MSI */
			if (ret >= 0 && !(flags & EDU_DMA_POLL))
				e->irqs_expected += 2;
			fails += !!ret;
			n++;
		}
	ksft_test_result(!fails, T_PREFIX "%s round trips byte-exact, through translated bus addresses (%d of %d)\n",
			 e->bdf, flags & EDU_DMA_POLL ? "polled" : "MSI", n - fails, n);
}

static void test_msi_count(struct edu *e)
{
	struct edu_dma_info info;
	long long proc;
	bool ok;

	if (ioctl(e->fd, EDU_DMA_INFO, &info)) {
		ksft_test_result_fail(T_PREFIX "MSI count: INFO: %s\n", e->bdf,
				      strerror(errno));
		return;
	}
	proc = proc_interrupts(info.irq);
	ksft_print_msg("%s: MSIs %llu -> %llu (expected +%llu), /proc/interrupts irq %u: %lld\n",
		       e->bdf, (unsigned long long)e->irq_base,
		       (unsigned long long)info.irq_count,
		       (unsigned long long)e->irqs_expected, info.irq, proc);
	ok = info.irq_count - e->irq_base == e->irqs_expected &&
	     e->irqs_expected > 0 && proc == (long long)info.irq_count;
	ksft_test_result(ok, T_PREFIX "one MSI per interrupting transfer (+%llu), as /proc/interrupts counts\n",
			 e->bdf, (unsigned long long)(info.irq_count - e->irq_base));
}

/* *@ran: the ioctl succeeded (whether the write was blocked or not) */
static void test_stale(struct edu *e, bool *ran, struct edu_dma_stale *s)
{
	*s = (struct edu_dma_stale){ .len = stale_len };
	*ran = !ioctl(e->fd, EDU_DMA_STALE, s);
	if (!*ran) {
		ksft_test_result_fail(T_PREFIX "stale bus address: STALE: %s\n",
				      e->bdf, strerror(errno));
		return;
	}
	ksft_print_msg("%s: IOVA %#llx: mapped (page table %s), device write: %u of %u bytes arrived; unmapped (page table %s), device write: %u canary bytes changed\n",
		       e->bdf, (unsigned long long)s->iova,
		       s->flags & EDU_DMA_STALE_PTE_SET ? "maps it to the buffer" : "WRONG",
		       s->arrived, s->len,
		       s->flags & EDU_DMA_STALE_PTE_CLEARED ? "cleared" : "NOT cleared",
		       s->changed);
	/*
	 * The page table said the IOVA was mapped, then not: a write that
	 * still landed could only come from a stale IOTLB entry.
	 */
	ksft_test_result(!s->changed && s->arrived == s->len &&
			 (s->flags & EDU_DMA_STALE_PTE_SET) &&
			 (s->flags & EDU_DMA_STALE_PTE_CLEARED),
			 T_PREFIX "write to a bus address just used and unmapped blocked (canary intact), the IOMMU's page table cleared\n",
			 e->bdf);
}

static void test_fault_event(struct edu *e, int kfd, bool stale_ran,
			     const struct edu_dma_stale *s)
{
	struct smmu_event ev;
	__u32 sid = e->info.rid;

	if (kfd < 0 || !stale_ran) {
		ksft_test_result_fail(T_PREFIX "SMMU fault event: %s\n", e->bdf,
				      kfd < 0 ? "no /dev/kmsg" : "STALE failed");
		return;
	}
	if (kmsg_find_fault(kfd, e->smmu_dev, sid, &ev)) {
		ksft_test_result_fail(T_PREFIX "no F_TRANSLATION event with StreamID %#x from %s in the kernel log\n",
				      e->bdf, sid, e->smmu_dev);
		return;
	}
	ksft_print_msg("%s: %s: event 0x%02x, StreamID %#x, address %#llx; words 0x%016llx 0x%016llx 0x%016llx 0x%016llx\n",
		       e->bdf, ev.dev, (unsigned int)(ev.w[0] & 0xff),
		       (unsigned int)(ev.w[0] >> 32),
		       (unsigned long long)ev.w[2], (unsigned long long)ev.w[0],
		       (unsigned long long)ev.w[1], (unsigned long long)ev.w[2],
		       (unsigned long long)ev.w[3]);
	/* F_TRANSLATION: InputAddr in word 2 */
	ksft_test_result((ev.w[2] & ~(PAGE - 1)) == (s->iova & ~(PAGE - 1)),
			 T_PREFIX "%s logged F_TRANSLATION for StreamID %#x (the RID) at the stale IOVA\n",
			 e->bdf, e->smmu_dev, sid);
}

static void test_maploop(struct edu *e)
{
	struct edu_dma_maploop m = { .iters = loops };

	if (ioctl(e->fd, EDU_DMA_MAPLOOP, &m)) {
		ksft_test_result_fail(T_PREFIX "MAPLOOP: %s\n", e->bdf,
				      strerror(errno));
		return;
	}
	ksft_test_result(m.elapsed_ns > 0, T_PREFIX "%u x dma_map_single + dma_unmap_single of 4 KiB: %llu ns each\n",
			 e->bdf, m.iters,
			 (unsigned long long)(m.elapsed_ns / m.iters));
}

static void test_einval(struct edu *e)
{
	__u8 buf[16] = {};
	struct edu_dma_copy bad[] = {
		{ .len = 0 },
		{ .len = EDU_DMA_BUF_SIZE + 1 },
		{ .len = 2, .dev_off = EDU_DMA_BUF_SIZE - 1 },
		{ .len = 1, .dev_off = EDU_DMA_BUF_SIZE },
		{ .len = 1, .dev_off = 0xffffffff },
		{ .len = 0xffffffff, .dev_off = 1 },
		{ .len = 1, .flags = 0x80 },
	};
	struct edu_dma_stale sbad[] = {
		{ .len = 0 }, { .len = EDU_DMA_BUF_SIZE + 1 },
		{ .len = 1, .flags = 2 },
	};
	struct edu_dma_maploop mbad[] = {
		{ .iters = 0 }, { .iters = EDU_DMA_MAPLOOP_MAX + 1 },
		{ .iters = 1, .flags = 1 },
	};
	struct edu_dma_copy fault = {
		.src = 16, .dst = (unsigned long)buf, .len = 16,
	};
	unsigned int i, fails = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bad[i].src = bad[i].dst = (unsigned long)buf;
		if (!ioctl(e->fd, EDU_DMA_COPY, &bad[i]) || errno != EINVAL) {
			ksft_print_msg("%s: COPY len %u off %u flags %#x: not EINVAL\n",
				       e->bdf, bad[i].len, bad[i].dev_off,
				       bad[i].flags);
			fails++;
		}
	}
	for (i = 0; i < sizeof(sbad) / sizeof(sbad[0]); i++)
		if (!ioctl(e->fd, EDU_DMA_STALE, &sbad[i]) || errno != EINVAL) {
			ksft_print_msg("%s: STALE len %u: not EINVAL\n", e->bdf,
				       sbad[i].len);
			fails++;
		}
	for (i = 0; i < sizeof(mbad) / sizeof(mbad[0]); i++)
		if (!ioctl(e->fd, EDU_DMA_MAPLOOP, &mbad[i]) || errno != EINVAL) {
			ksft_print_msg("%s: MAPLOOP iters %u: not EINVAL\n",
				       e->bdf, mbad[i].iters);
			fails++;
		}
	if (!ioctl(e->fd, EDU_DMA_COPY, &fault) || errno != EFAULT) {
		ksft_print_msg("%s: COPY from a bad address: not EFAULT\n",
			       e->bdf);
		fails++;
	}
	if (!ioctl(e->fd, _IO(EDU_DMA_IOC_MAGIC, 0x7f)) || errno != ENOTTY) {
		ksft_print_msg("%s: unknown ioctl: not ENOTTY\n", e->bdf);
		fails++;
	}
	ksft_test_result(!fails, T_PREFIX "bad lengths, offsets, flags, user addresses and ioctls refused\n",
			 e->bdf);
}

/* ---- all edus at once ---------------------------------------------- */

struct worker {
	pthread_t thread;
	struct edu *e;
	int idx;
	int fails;
	int done;
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct edu_dma_copy c;
	__u32 x = pattern_seed(run_seed, w->idx, 0xc0c0);
	int fd, r;

	fd = open(w->e->node, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		w->fails++;
		return NULL;
	}
	for (r = 0; r < conc_rounds; r++) {
		__u32 len, off;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		len = 1 + x % EDU_DMA_BUF_SIZE;
		off = (x >> 12) % (EDU_DMA_BUF_SIZE - len + 1);
		if (copy_once(w->e, fd, len, off, r & 1 ? EDU_DMA_POLL : 0,
			      x, &c, false))
			w->fails++;
		w->done++;
	}
	close(fd);
	return NULL;
}

static void test_concurrent(void)
{
	struct worker w[MAX_EDU] = {};
	struct timespec t0, t1;
	int i, n = 0, fails = 0, done = 0;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n_edu; i++) {
		if (!edus[i].bound)
			continue;
		w[n].e = &edus[i];
		w[n].idx = i + 100;
		if (pthread_create(&w[n].thread, NULL, worker_fn, &w[n])) {
			fails++;
			continue;
		}
		n++;
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		fails += w[i].fails;
		done += w[i].done;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	ksft_print_msg("%d edus x %d round trips at once: %.0f ms (one device alone: ~%d x 200 ms)\n",
		       n, conc_rounds, ms, conc_rounds);
	ksft_test_result(n > 0 && !fails && done == n * conc_rounds,
			 "all %d edus at once: %d random round trips byte-exact (%d failed)\n",
			 n, done, fails);
}

/* ---- removal and unload -------------------------------------------- */

static int bg_ret, bg_errno;

static void *copy_bg(void *arg)
{
	struct edu *e = arg;
	struct edu_dma_copy c;

	bg_ret = copy_once(e, e->fd, EDU_DMA_BUF_SIZE, 0, 0, 0x5eed, &c, false);
	bg_errno = errno;
	return NULL;
}

/*
 * Unbind edu_dma from @e while its file is open and a COPY runs: the
 * copy finishes (or fails cleanly), the open file then gets ENODEV, the
 * node goes; a rebind brings it back working.
 */
static void test_remove(struct edu *e, int idx)
{
	char path[PATH_MAX];
	struct edu_dma_copy c;
	struct edu_dma_info info;
	struct stat st;
	pthread_t t;
	int ret, fails = 0;

	if (pthread_create(&t, NULL, copy_bg, e)) {
		ksft_test_result_fail(T_PREFIX "remove: pthread_create\n",
				      e->bdf);
		return;
	}
	usleep(20000);
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", DRIVER);
	ret = vmm_write_file(path, e->bdf);
	pthread_join(t, NULL);
	if (ret) {
		ksft_print_msg("%s: unbind: %s\n", e->bdf, strerror(-ret));
		fails++;
	}
	/* Done before the removal, or refused after it: never wrong */
	ksft_print_msg("%s: COPY during unbind: %s\n", e->bdf,
		       !bg_ret ? "done" : bg_ret > 0 ? "wrong bytes" :
		       strerror(bg_errno));
	if (bg_ret > 0 || (bg_ret < 0 && bg_errno != ENODEV))
		fails++;
	if (!ioctl(e->fd, EDU_DMA_INFO, &info) || errno != ENODEV) {
		ksft_print_msg("%s: INFO after unbind: not ENODEV\n", e->bdf);
		fails++;
	}
	if (!stat(e->node, &st)) {
		ksft_print_msg("%s: %s still there after unbind\n", e->bdf,
			       e->node);
		fails++;
	}
	close(e->fd);
	e->fd = -1;
	ret = bind_edu(e);
	if (!ret)
		ret = open_edu(e);
	if (ret) {
		ksft_print_msg("%s: rebind: %s\n", e->bdf, strerror(-ret));
		fails++;
		e->bound = false;
	} else if (copy_once(e, e->fd, 100, 7, 0,
			     pattern_seed(run_seed, idx, 0xbeef), &c, true)) {
		fails++;
	}
	ksft_test_result(!fails, T_PREFIX "driver unbound with its file open and a transfer running, then rebound and working\n",
			 e->bdf);
}

static void test_unload(void)
{
	int i, fails = 0, ret;
	char drv[64];

	for (i = 0; i < n_edu; i++)
		if (edus[i].fd >= 0) {
			close(edus[i].fd);
			edus[i].fd = -1;
		}
	if (syscall(SYS_delete_module, DRIVER, O_NONBLOCK)) {
		if (errno == ENOSYS) {
			ksft_test_result_skip("module unload and reload: this kernel has no CONFIG_MODULE_UNLOAD\n");
			return;
		}
		ksft_test_result_fail("module unload: %s\n", strerror(errno));
		return;
	}
	if (edudrv_loaded()) {
		ksft_print_msg("/sys/module/%s still there\n", DRIVER);
		fails++;
	}
	ret = edudrv_load(module_path, module_params);
	if (ret) {
		ksft_print_msg("reload: %s\n", strerror(-ret));
		fails++;
	}
	for (i = 0; !ret && i < n_edu; i++) {
		struct edu_dma_copy c;

		if (!edus[i].bound)
			continue;
		edudrv_driver_of(edus[i].bdf, drv, sizeof(drv));
		if (strcmp(drv, DRIVER) || open_edu(&edus[i]) ||
		    copy_once(&edus[i], edus[i].fd, 33, 3, EDU_DMA_POLL,
			      pattern_seed(run_seed, i, 0xfeed), &c, false)) {
			ksft_print_msg("%s: not working after the reload\n",
				       edus[i].bdf);
			fails++;
		}
	}
	ksft_test_result(!fails, "module unloaded and reloaded, every edu bound and working again\n");
}

/* ---- main ---------------------------------------------------------- */

#define TESTS_PER_EDU	9

int main(int argc, char **argv)
{
	int i, opt, ret, kfd;

	while ((opt = getopt(argc, argv, "m:p:n:c:l:s:")) != -1) {
		switch (opt) {
		case 'm':
			module_path = optarg;
			break;
		case 'p':
			module_params = optarg;
			break;
		case 'n':
			rounds = atoi(optarg);
			break;
		case 'c':
			conc_rounds = atoi(optarg);
			break;
		case 'l':
			loops = atoi(optarg);
			break;
		case 's':
			stale_len = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-m MODULE] [-p PARAMS] [-n ROUNDS] [-c ROUNDS] [-l LOOPS] [-s LEN] [BDF...]\n",
				argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || conc_rounds < 1 || loops < 1 || stale_len < 1 ||
	    stale_len > EDU_DMA_BUF_SIZE) {
		fprintf(stderr, "%s: counts must be positive, LEN 1..%d\n",
			argv[0], EDU_DMA_BUF_SIZE);
		return 2;
	}

	ksft_print_header();
	n_edu = edudrv_find(edus[0].bdf, sizeof(edus[0]), MAX_EDU, argc, argv,
			    optind);
	if (!n_edu)
		ksft_exit_fail_msg("no edu (1234:11e8) found\n");
	ksft_set_plan(1 + TESTS_PER_EDU * n_edu + 3);
	run_seed = pattern_run_seed();
	ksft_print_msg("%d edu(s), pattern seed %#x\n", n_edu, run_seed);

	ret = edudrv_load(module_path, module_params);
	ksft_test_result(!ret, "%s loaded (%s)\n", DRIVER,
			 ret ? strerror(-ret) : module_path);

	for (i = 0; i < n_edu; i++) {
		struct edu *e = &edus[i];
		struct edu_dma_stale s;
		bool stale_ran;

		e->fd = -1;
		ret = bind_edu(e);
		if (!ret)
			ret = open_edu(e);
		e->bound = !ret;
		ksft_test_result(e->bound, T_PREFIX "bound to %s, %s open\n",
				 e->bdf, DRIVER, e->node);
		if (!e->bound) {
			ksft_print_msg("%s: %s\n", e->bdf, strerror(-ret));
			ksft_test_result_skip(T_PREFIX "(not bound) DMA domain\n", e->bdf);
			ksft_test_result_skip(T_PREFIX "(not bound) MSI round trips\n", e->bdf);
			ksft_test_result_skip(T_PREFIX "(not bound) polled round trips\n", e->bdf);
			ksft_test_result_skip(T_PREFIX "(not bound) MSI count\n", e->bdf);
			ksft_test_result_skip(T_PREFIX "(not bound) stale bus address\n", e->bdf);
			ksft_test_result_skip(T_PREFIX "(not bound) fault event\n", e->bdf);
			ksft_test_result_skip(T_PREFIX "(not bound) map/unmap loop\n", e->bdf);
			ksft_test_result_skip(T_PREFIX "(not bound) bad arguments\n", e->bdf);
			continue;
		}
		test_iommu(e);
		e->irq_base = e->info.irq_count;
		test_copy(e, i, 0);
		test_copy(e, i, EDU_DMA_POLL);
		test_msi_count(e);
		kfd = kmsg_open();
		test_stale(e, &stale_ran, &s);
		test_fault_event(e, kfd, stale_ran, &s);
		if (kfd >= 0)
			close(kfd);
		test_maploop(e);
		test_einval(e);
	}

	test_concurrent();
	for (i = 0; i < n_edu && !edus[i].bound; i++)
		;
	if (i < n_edu)
		test_remove(&edus[i], i);
	else
		ksft_test_result_skip("driver removal: no edu bound\n");
	test_unload();
	ksft_finished();
}
