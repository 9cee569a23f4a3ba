// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-viommu, the runner: the arguments, the set-up of a run (the edus
 * and their SMMU's features, fault injection), the sequences of one seed
 * (each opens an iommufd, binds the devices, runs random operations and
 * closes everything again in a random order), the kernel log check after
 * each, and the TAP. See fuzz.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#if !defined(VMM_HAVE_VIOMMU) || !defined(VMM_HAVE_HW_QUEUE)
int main(void)
{
	printf("TAP version 13\n1..0 # SKIP no vIOMMU uAPI in the headers\n");
	return 4;
}
#else

static int nr_pci;
static struct vmm_pci pcis[MAX_DEV];
static int pci_iommu[MAX_DEV];

/* ---- set-up of a sequence ------------------------------------------ */

static int mock_dev_create(struct fdev *d)
{
	__u32 dev_id, stdev_id;
	int ret = mock_dev_add(S.fd, S.ioas, d->iommu, &dev_id, &stdev_id,
			       fioctl);

	if (ret)
		return ret;
	check_new_id("mock device", dev_id);
	check_new_id("selftest object", stdev_id);
	d->present = true;
	d->stdev_id = stdev_id;
	d->dev_id = dev_id;
	d->att = ATT_IOAS;
	d->viommu = -1;
	return 0;
}

/*
 * Outside the fault window: when a VFIO bind fails half way, 6.12's own
 * unwind gives the device back its default domain with
 * __iommu_group_set_domain_nofail(), and arm-smmu-v3's attach allocates:
 * an injected failure there is a WARN in code older than the vIOMMU.
 */
static int smmu_dev_bind(struct fdev *d)
{
	int ret = edu_dev_bind(&d->vd, &d->pci, S.fd);

	if (ret)
		return ret;
	check_new_id("device", d->vd.dev_id);
	d->present = true;
	d->dev_id = d->vd.dev_id;
	d->att = ATT_NONE;
	d->viommu = -1;
	return 0;
}

/*
 * In the fault window a mock device may fail to be created, and also with
 * EINVAL: a failed allocation while it is probed leaves it without an
 * IOMMU, which the bind then refuses.
 */
bool bind_may_fail(int ret)
{
	return fault_pct && (ret == -ENOMEM || ret == -EFAULT ||
			     (mode == MOCK && ret == -EINVAL));
}

int dev_bind(struct fdev *d)
{
	return mode == MOCK ? mock_dev_create(d) : smmu_dev_bind(d);
}

void dev_unbind(struct fdev *d)
{
	int ret;

	if (mode == MOCK) {
		/* Destroying the selftest object unbinds the mock device */
		ret = vmm_destroy(S.fd, d->stdev_id);
		if (ret)
			report("destroy mock device %u: %s", d->stdev_id,
			       strerror(-ret));
	} else {
		vmm_dev_close(&d->vd);
	}
	model_dev_gone(d);
}

static int hwpt_paging(__u32 dev_id, __u32 flags, __u32 *id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = S.ioas,
	};
	int ret = fioctl(S.fd, IOMMU_HWPT_ALLOC, &cmd);

	*id = ret ? 0 : cmd.out_hwpt_id;
	return ret;
}

/* The first present device of IOMMU @iommu, or NULL. */
static struct fdev *dev_of(int iommu)
{
	int i;

	for (i = 0; i < S.ndev; i++)
		if (S.dev[i].present && S.dev[i].iommu == iommu)
			return &S.dev[i];
	return NULL;
}

/* IOMMU_IOAS_MAP of @npages queue pages at @iova, outside the fault window */
int qmem_map(__u64 iova, int npages, bool readable)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
			 (readable ? IOMMU_IOAS_MAP_READABLE : 0),
		.ioas_id = S.ioas,
		.user_va = (uintptr_t)qmem + (iova - QIOVA),
		.length = npages * pgsz,
		.iova = iova,
	};

	if (ioctl(S.fd, IOMMU_IOAS_MAP, &cmd)) {
		report("IOAS_MAP of queue memory at 0x%llx: %s",
		       (unsigned long long)iova, strerror(errno));
		return -errno;
	}
	return 0;
}

void viommu_unmap(struct fviommu *vi)
{
	if (vi->map && munmap(vi->map, vi->mmap_len))
		report("munmap of a vIOMMU page: %s", strerror(errno));
	vi->map = NULL;
}

static bool seq_open(void)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	int i, ret;

	memset(&S, 0, sizeof(S));
	S.fd = vmm_iommufd_open();
	if (S.fd < 0) {
		report("open /dev/iommu: %s", strerror(-S.fd));
		return false;
	}
	if (ioctl(S.fd, IOMMU_IOAS_ALLOC, &ioas)) {
		report("IOAS_ALLOC: %s", strerror(errno));
		return false;
	}
	S.ioas = ioas.out_ioas_id;
	if (qmem_map(QIOVA, 2, true) || qmem_map(QIOVA_WO, 1, false))
		return false;
	S.qmem_mapped = true;

	/* mock: two devices on instance 0, one on instance 1, like dual */
	S.ndev = mode == MOCK ? 3 : nr_pci;
	for (i = 0; i < S.ndev; i++) {
		struct fdev *d = &S.dev[i];

		d->viommu = -1;
		d->vdev = -1;
		d->vd.fd = -1;
		if (mode == MOCK) {
			d->iommu = i == 2;
		} else {
			d->pci = pcis[i];
			d->iommu = pci_iommu[i];
			d->psid = tegra_psid(pcis[i].bdf);
		}
		ret = dev_bind(d);
		if (ret && !bind_may_fail(ret))
			report("bind device %d: %s", i, strerror(-ret));
	}
	for (i = 0; i < MAX_IOMMU; i++) {
		struct fdev *d = dev_of(i);

		if (!d)
			continue;
		ret = hwpt_paging(d->dev_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
				  &S.parent[i].id);
		if (!ret)
			S.parent[i].live = true;
		else if (!fault_pct)
			report("nest parent on IOMMU %d: %s", i, strerror(-ret));
		ret = hwpt_paging(d->dev_id, 0, &S.parent[i].plain_id);
		if (ret && !fault_pct)
			report("paging HWPT on IOMMU %d: %s", i, strerror(-ret));
	}
	return true;
}

/*
 * Close everything in a random order: teardown cannot fail. A vIOMMU page
 * still mapped holds the file, so the context ends at its munmap() then.
 */
static void seq_close(void)
{
	bool unmap_first, files_first;
	int i;

	/* The host's queues still work; name the VINTFs still live */
	if (tegra)
		tegra_seq_end();
	unmap_first = chance(50);
	files_first = chance(50);

	/* An open vEVENTQ file keeps the context alive until it is closed */
	for (i = 0; i < MAX_VEVQ && files_first; i++)
		if (S.vevq[i].fd >= 0 && S.vevq[i].live)
			close(S.vevq[i].fd);
	if (chance(50))
		for (i = 0; i < S.ndev; i++)
			if (S.dev[i].present && chance(50))
				dev_unbind(&S.dev[i]);
	for (i = 0; i < MAX_VIOMMU && unmap_first; i++)
		viommu_unmap(&S.viommu[i]);
	close(S.fd);
	/* A mapped VINTF page holds the context: the guest goes on */
	if (tegra)
		tegra_after_close();
	for (i = 0; i < MAX_VIOMMU; i++)
		viommu_unmap(&S.viommu[i]);
	for (i = 0; i < MAX_VEVQ && !files_first; i++)
		if (S.vevq[i].fd >= 0 && S.vevq[i].live)
			close(S.vevq[i].fd);
	/* VFIO cdevs outlive the iommufd: their close ends the context */
	for (i = 0; i < S.ndev; i++)
		if (mode == SMMU)
			vmm_dev_close(&S.dev[i].vd);
	S.fd = -1;
}

/* ---- the kernel log: no command queue error -------------------------- */

static size_t klog_seen;

/*
 * A line of the kernel log that tells of an error on a queue the host owns:
 * an SMMU's own CMDQ, or (tegra) a CMDQV, its VINTF0 and their VCMDQs. A
 * guest VINTF's queue errors are the guest's: the driver warns only when
 * it resets such a queue with its error still pending.
 */
static bool host_queue_error(const char *line)
{
	if (strstr(line, "CMDQ error") || strstr(line, "global error"))
		return true;
	if (!tegra || !strstr(line, "tegra241_cmdqv"))
		return false;
	if (strstr(line, "unexpected error reported") ||
	    strstr(line, "failed to") || strstr(line, "CMDQV: ") ||
	    strstr(line, "VINTF0: "))
		return true;
	return strstr(line, "VINTF") &&
	       !strstr(line, "uncleared error detected, resetting");
}

/* Report SMMU command queue / global errors logged since the last call. */
static void check_klog(void)
{
	static char buf[1 << 17];
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *p, *line;

	if (len <= 0 || len > (int)sizeof(buf))
		len = sizeof(buf);
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len < 0)
		return;
	buf[len < (int)sizeof(buf) ? len : (int)sizeof(buf) - 1] = 0;
	/* The buffer may have wrapped: look at what is new by content */
	for (line = strtok_r(buf, "\n", &p); line; line = strtok_r(NULL, "\n", &p)) {
		if (!host_queue_error(line))
			continue;
		if (klog_seen++ < 5) {
			cur_op = "kernel log";
			report("%s", line);
		}
	}
}

/* ---- one seed ------------------------------------------------------------ */

static int run_seed(__u64 seed, unsigned long iters, unsigned int secs,
		    int test)
{
	time_t end = time(NULL) + secs;
	unsigned long before = reports, ops = 0, seqs = 0;
	unsigned long nomem = enomem_seen;

	cur_seed = seed;
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	printf("# seed 0x%" PRIx64 ": %s, up to %lu operations, %u s%s\n",
	       (uint64_t)seed, mode_name, iters, secs,
	       fault_pct ? " (fault injection)" : "");
	fflush(stdout);
	while (ops < iters && time(NULL) < end) {
		unsigned long len = 20 + rn(200), j;

		cur_seq = seqs;
		if (!seq_open())
			break;
		for (j = 0; j < len && ops < iters; j++, ops++) {
			cur_iter = ops;
			if (tegra) {
				tegra_step();
				continue;
			}
			switch (rn(30)) {
			case 0: case 1:
				op_viommu_alloc();
				break;
			case 2: case 3: case 4:
				op_set_dev_id(true);
				break;
			case 5: case 6:
				op_set_dev_id(false);
				break;
			case 7: case 8:
				op_nested_alloc();
				break;
			case 9: case 10: case 11:
				op_attach();
				break;
			case 12: case 13:
				op_destroy();
				break;
			case 14:
				op_rebind();
				break;
			case 20: case 21:
				op_hw_queue_alloc();
				break;
			case 22:
				op_mmap();
				break;
			case 23:
				op_qmem();
				break;
			case 24: case 25:
				op_vdevice();
				break;
			case 26: case 27: case 28: case 29:
				op_veventq();
				break;
			default:
				op_invalidate();
				break;
			}
		}
		seq_close();
		seqs++;
		if (mode == SMMU)
			check_klog();
	}
	/* tegra: the last teardown left the host's queues working, too */
	if (tegra) {
		cur_seq = seqs;
		if (seq_open())
			seq_close();
		check_klog();
	}
	total_ops += ops;
	total_seqs += seqs;
	printf("%sok %d fuzz %s seed=0x%" PRIx64 ": %lu operations in %lu sequences, %lu reports",
	       reports == before ? "" : "not ", test,
	       mode_name, (uint64_t)seed, ops, seqs,
	       reports - before);
	if (fault_pct)
		printf(", %lu ENOMEM", enomem_seen - nomem);
	printf("\n");
	fflush(stdout);
	return reports == before;
}

/* ---- set-up ------------------------------------------------------------ */

static bool write_str(const char *path, const char *val)
{
	int ret = vmm_write_file(path, val);

	if (ret)
		printf("# %s: %s\n", path, strerror(-ret));
	return !ret;
}

static const char *const fault_attrs[] = {
	"failslab", "fail_page_alloc", "fail_usercopy",
};

static bool fault_attr_write(const char *attr, const char *file,
			     const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", attr, file);
	return write_str(path, val);
}

/*
 * failslab, fail_page_alloc, fail_usercopy: @pct %, this task only. The
 * probability goes last: until task-filter is set, a non-zero probability
 * makes every task of the guest fail, this one's writes here included.
 * Returns false when an attribute could not be set up.
 */
static bool fault_setup(unsigned int pct)
{
	char path[128], val[16];
	bool ok = true;
	unsigned int i;

	snprintf(val, sizeof(val), "%u", pct);
	for (i = 0; i < 3; i++) {
		const char *a = fault_attrs[i];

		snprintf(path, sizeof(path), "/sys/kernel/debug/%s", a);
		if (access(path, F_OK)) {
			printf("# %s: not in this kernel\n", a);
			continue;
		}
		/* One line per injected failure, no stack: the log stays short */
		if (!fault_attr_write(a, "task-filter", "Y") ||
		    !fault_attr_write(a, "interval", "1") ||
		    !fault_attr_write(a, "times", "-1") ||
		    !fault_attr_write(a, "verbose", "1") ||
		    (i < 2 && !fault_attr_write(a, "ignore-gfp-wait", "N")) ||
		    !fault_attr_write(a, "probability", val))
			ok = false;
	}
	fail_fd = open("/proc/self/make-it-fail", O_WRONLY);
	if (fail_fd < 0) {
		printf("# /proc/self/make-it-fail: %s\n", strerror(errno));
		ok = false;
	}
	return ok;
}

/* Leave no fault injection armed for the programs that run next. */
static void fault_teardown(void)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s",
			 fault_attrs[i]);
		if (!access(path, F_OK))
			fault_attr_write(fault_attrs[i], "probability", "0");
	}
}

/*
 * tegra: what a VINTF of each SMMU's CMDQV offers (IOMMU_GET_HW_INFO of
 * type TEGRA241_CMDQV), and the largest VCMDQ: 2^n commands up to the
 * SMMU's IDR1.CMDQS and the driver's own limit for its queues (a
 * naturally aligned allocation of at most MAX_PAGE_ORDER pages, 16 bytes
 * a command; no CMA in the test kernels).
 */
static bool tegra_hw_setup(__u32 idr1)
{
	unsigned int page_shift = __builtin_ctzll(pgsz), i, j;
	unsigned int max_order = page_shift == 16 ? 13 : page_shift == 14 ? 11 : 10;
	unsigned int cmdqs = (idr1 >> 21) & 0x1f;

	hw.cmdq_max_shift = page_shift + max_order - 4;
	if (cmdqs < hw.cmdq_max_shift)
		hw.cmdq_max_shift = cmdqs;
	for (i = 0; i < MAX_IOMMU; i++) {
		struct iommu_hw_info_tegra241_cmdqv info = {};
		__u32 len = sizeof(info), type;
		struct vmm_dev vd;
		int fd, ret = -ENODEV;

		for (j = 0; j < (unsigned int)nr_pci && pci_iommu[j] != (int)i; j++)
			;
		if (j == (unsigned int)nr_pci)
			continue;
		fd = vmm_iommufd_open();
		if (fd >= 0 && !edu_dev_bind(&vd, &pcis[j], fd)) {
			ret = vmm_hw_info_type(fd, vd.dev_id,
					       IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV,
					       &info, &len, &type, NULL);
			vmm_dev_close(&vd);
		}
		if (fd >= 0)
			close(fd);
		if (ret) {
			printf("# IOMMU %u: no Tegra241 CMDQV (%s)\n", i,
			       strerror(-ret));
			return false;
		}
		hw.nlvcmdq[i] = 1u << info.log2vcmdqs;
		hw.npairs[i] = 1u << info.log2vsids;
		printf("# tegra iommu %u: CMDQV version %u, %u VCMDQs and %u SID pairs per VINTF, VCMDQs of up to 2^%u commands; psids",
		       i, info.version, hw.nlvcmdq[i], hw.npairs[i],
		       hw.cmdq_max_shift);
		for (j = 0; j < (unsigned int)nr_pci; j++)
			if (pci_iommu[j] == (int)i)
				printf(" 0x%x", tegra_psid(pcis[j].bdf));
		printf("\n");
	}
	tegra_setup();
	return true;
}

static bool hw_setup(void)
{
	struct {
		__u32 flags, rsvd, idr[6], iidr, aidr;
	} info;
	__u32 len = sizeof(info), type;
	struct vmm_dev vd;
	int fd, n, i, ret;

	n = edu_find_all(pcis, pci_iommu, MAX_DEV);
	if (n < 2 || n > MAX_DEV) {
		printf("# expected 2 to %d edus, found %d\n", MAX_DEV, n);
		return false;
	}
	nr_pci = n;
	for (i = 0; i < n; i++) {
		printf("# edu %s behind %s (IOMMU %d)\n", pcis[i].bdf,
		       pcis[i].iommu, pci_iommu[i]);
		if (pci_iommu[i] >= MAX_IOMMU)
			return false;
	}
	fd = vmm_iommufd_open();
	if (fd < 0 || edu_dev_bind(&vd, &pcis[0], fd))
		return false;
	ret = vmm_hw_info(fd, vd.dev_id, &info, &len, &type, NULL);
	vmm_dev_close(&vd);
	close(fd);
	if (ret)
		return false;
	hw.ril = info.idr[3] & SMMU_IDR3_RIL;
	hw.ats = info.idr[0] & SMMU_IDR0_ATS;
	hw.asid_bits = info.idr[0] & SMMU_IDR0_ASID16 ? 16 : 8;
	hw.ssid_bits = SMMU_GET(SMMU_IDR1_SSIDSIZE, info.idr[1]);
	hw.pgsizes = (info.idr[5] & SMMU_IDR5_GRAN4K ? 1ull << 12 : 0) |
		     (info.idr[5] & SMMU_IDR5_GRAN16K ? 1ull << 14 : 0) |
		     (info.idr[5] & SMMU_IDR5_GRAN64K ? 1ull << 16 : 0);
	printf("# SMMU: RIL %d ATS %d ASID bits %u SSID bits %u granules 0x%llx\n",
	       hw.ril, hw.ats, hw.asid_bits, hw.ssid_bits,
	       (unsigned long long)hw.pgsizes);
	return !tegra || tegra_hw_setup(info.idr[1]);
}

int main(int argc, char **argv)
{
	unsigned long iters = 2000;
	unsigned int secs = 60;
	__u64 seeds[2] = { 1 };
	int nseeds = 2, i, ok = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || (strcmp(argv[1], "mock") && strcmp(argv[1], "smmu") &&
			 strcmp(argv[1], "tegra"))) {
		fprintf(stderr, "usage: fuzz-viommu mock|smmu|tegra [seed=N] [iters=N] [secs=N] [fault=PCT]\n");
		return 2;
	}
	mode = strcmp(argv[1], "mock") ? SMMU : MOCK;
	tegra = !strcmp(argv[1], "tegra");
	mode_name = argv[1];
	seeds[1] = clock_seed();
	for (i = 2; i < argc; i++) {
		if (!strncmp(argv[i], "seed=", 5)) {
			seeds[0] = strtoull(argv[i] + 5, NULL, 0);
			nseeds = 1;
		} else if (!strncmp(argv[i], "iters=", 6)) {
			iters = strtoul(argv[i] + 6, NULL, 0);
		} else if (!strncmp(argv[i], "secs=", 5)) {
			secs = strtoul(argv[i] + 5, NULL, 0);
		} else if (!strncmp(argv[i], "fault=", 6)) {
			fault_pct = strtoul(argv[i] + 6, NULL, 0);
		} else {
			fprintf(stderr, "fuzz-viommu: unknown argument %s\n",
				argv[i]);
			return 2;
		}
	}
	printf("TAP version 13\n");
	printf("# fuzz-viommu %s: seeds", argv[1]);
	for (i = 0; i < nseeds; i++)
		printf(" 0x%" PRIx64, (uint64_t)seeds[i]);
	printf(" (reproduce one: fuzz-viommu %s seed=N iters=%lu)\n", argv[1],
	       iters);
	printf("1..%d\n", nseeds);
	pgsz = getpagesize();
	qmem = mmap(NULL, 4 * pgsz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (qmem == MAP_FAILED) {
		printf("Bail out! queue memory: %s\n", strerror(errno));
		return 1;
	}
	if (mode == SMMU && !hw_setup()) {
		for (i = 0; i < nseeds; i++)
			printf("not ok %d fuzz %s: no edu devices to fuzz with\n",
			       i + 1, mode_name);
		return 1;
	}
	if (fault_pct && !fault_setup(fault_pct)) {
		fault_teardown();
		printf("Bail out! fault injection could not be set up\n");
		return 1;
	}
	/* The time bound is for the whole run, shared by the seeds */
	for (i = 0; i < nseeds; i++)
		ok += run_seed(seeds[i], iters, (secs + nseeds - 1) / nseeds,
			       i + 1);
	if (fault_pct)
		fault_teardown();
	if (tegra)
		printf("# fuzz-viommu tegra: %lu operations, %lu sequences, %lu guest commands (%lu trapped, %lu accepted; %lu written to VCMDQs, %lu consumed, %lu refused), %lu HW queues, %lu pages mapped, %lu VINTFs, %lu vDEVICEs, %lu vEVENTQs, %lu CMDQV vEVENTs read, %lu host queue checks, %lu reports\n",
		       total_ops, total_seqs, total_cmds + vcmdq_written,
		       total_cmds, accepted_cmds, vcmdq_written,
		       vcmdq_consumed, vcmdq_refused, queues_made,
		       pages_mapped, vintfs_made, vdevs_made, vevqs_made,
		       cmdqv_events, health_checks, reports);
	else
		printf("# fuzz-viommu %s: %lu operations, %lu sequences, %lu guest commands (%lu accepted), %lu HW queues, %lu pages mapped, %lu vDEVICEs, %lu vEVENTQs, %lu vEVENTs reported, %lu records read (%lu LOST_EVENTS), %lu reports\n",
		       argv[1], total_ops, total_seqs, total_cmds, accepted_cmds,
		       queues_made, pages_mapped, vdevs_made, vevqs_made,
		       vevents_made, vevents_read, vevents_lost, reports);
	return ok == nseeds ? 0 : 1;
}
#endif
