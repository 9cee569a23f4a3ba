// SPDX-License-Identifier: GPL-2.0
/*
 * dma-bench: what one DMA-API map + unmap of a 4 KiB page costs a guest,
 * on each edu (QEMU's PCI test device), through the edu_dma driver's
 * EDU_DMA_MAPLOOP (guest/edu-dma/edu_dma.h: N x dma_map_single +
 * dma_unmap_single, timed in the kernel). Behind a vSMMU with strict
 * invalidation every unmap is a TLBI + CMD_SYNC from the guest's own
 * arm-smmu-v3 driver; without an IOMMU it is dma-direct (the floor).
 * Runs in the inner guest of tests/bench-realvmm.plan (tests/inner-bench.plan),
 * three times: QEMU 11.1 with cmdqv=off (every command trapped), with
 * cmdqv=on (the guest's VCMDQs) and with no vSMMU (guest/bench-realvmm.c).
 *
 *   dma-bench [-m MODULE] [-p PARAMS] [-r REPS] [BDF...]
 *
 * -m the module file (default /usr/lib/modules/edu_dma.ko), loaded if it
 * is not yet; -p its parameters; -r repetitions (default 7); the BDFs
 * default to every edu. The path the run is meant to measure comes from
 * the kernel command line, viommu.bench=trapped|vcmdq|floor (as
 * guest/bench-realvmm.c sets it), and is checked: behind a vSMMU a
 * translated DMA domain, with vcmdq two tegra241-cmdqv drivers probed (and
 * none with trapped), with floor no IOMMU at all.
 *
 * Method: for each edu, REPS repetitions; a repetition times every N of
 * 1, 16, 256, 4096 map + unmap pairs per MAPLOOP call, CHUNKS(N) =
 * clamp(1024 / N, 1, 8) calls of each (interleaved, so that a slow moment
 * of the host hits every N alike), and keeps the fastest call of each N.
 * A figure is the median over the repetitions of that fastest time per
 * pair; min and max are printed too. The outer VM runs under TCG on shared
 * cores and this guest under its (emulated) KVM: the clock runs on while a
 * vCPU is descheduled, which the fastest-of-chunks removes from the
 * figures and the spread shows.
 *
 * TAP: the module loaded, each edu bound with the path expected, then one
 * test per edu and N, which fails only when MAPLOOP fails (no figure). The
 * figures are "# dma-bench: {JSON}" lines, one per edu and N, after a
 * "# dma-bench: {\"kind\": \"guest\", ...}" line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <kselftest.h>

#include "edu-dma/edu_dma.h"
#include "edudrv.h"
#include "vmm.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define MAX_EDU		8
#define MAX_REPS	31
#define DRIVER		EDUDRV_NAME

static const unsigned int sizes[] = { 1, 16, 256, 4096 };
#define NR_SIZES	(sizeof(sizes) / sizeof(sizes[0]))

static unsigned int chunks(unsigned int n)
{
	unsigned int c = 1024 / n;

	return c < 1 ? 1 : c > 8 ? 8 : c;
}

struct edu {
	char bdf[16];
	char iommu[64];		/* /sys/class/iommu/NAME, "" if none */
	char group_type[32];	/* iommu_group/type, "" if none */
	int fd;
	struct edu_dma_info info;
	bool ok;		/* bound, open, on the expected path */
	/* per size: fastest ns per pair of each repetition */
	double best[NR_SIZES][MAX_REPS];
	int err[NR_SIZES];	/* errno of a failed MAPLOOP */
};

static struct edu edus[MAX_EDU];
static int n_edu, reps = 7;
static const char *module_path = EDUDRV_MODULE;
static const char *module_params = "";

/* Bind @e to edu_dma, open its node, read its INFO: 0 or -errno. */
static int bind_edu(struct edu *e)
{
	char path[PATH_MAX];
	int ret = edudrv_bind(e->bdf, e->iommu, sizeof(e->iommu));

	if (ret)
		return ret;
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu_group/type", e->bdf);
	sysfs_read_line(path, e->group_type, sizeof(e->group_type));
	snprintf(path, sizeof(path), "/dev/edu-dma-%s", e->bdf);
	e->fd = open(path, O_RDWR | O_CLOEXEC);
	if (e->fd < 0)
		return -errno;
	if (ioctl(e->fd, EDU_DMA_INFO, &e->info)) {
		ret = -errno;
		close(e->fd);
		e->fd = -1;
		return ret;
	}
	return 0;
}

/* tegra241-cmdqv IRQs in /proc/interrupts: one per CMDQV probed */
static int cmdqv_irqs(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, "tegra241-cmdqv");
	fclose(f);
	return n;
}

/* ---- measurement --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One MAPLOOP of @n pairs: ns per pair, or -errno. */
static double maploop(struct edu *e, unsigned int n)
{
	struct edu_dma_maploop m = { .iters = n };

	if (ioctl(e->fd, EDU_DMA_MAPLOOP, &m))
		return -errno;
	if (!m.elapsed_ns)
		return -EPROTO;
	return (double)m.elapsed_ns / n;
}

static void measure(struct edu *e)
{
	unsigned int s, c;
	double t;
	int r;

	/* Warm up: the DMA domain's first IOVA and page-table pages */
	maploop(e, 16);
	for (r = 0; r < reps; r++)
		for (s = 0; s < NR_SIZES; s++) {
			e->best[s][r] = INFINITY;
			for (c = 0; c < chunks(sizes[s]) && !e->err[s]; c++) {
				t = maploop(e, sizes[s]);
				if (t < 0)
					e->err[s] = -t;
				else
					e->best[s][r] = fmin(e->best[s][r], t);
			}
		}
}

static void report(struct edu *e, const char *mode)
{
	double v[MAX_REPS], med;
	unsigned int s;

	for (s = 0; s < NR_SIZES; s++) {
		if (e->err[s]) {
			ksft_test_result_fail("%s: N = %u: MAPLOOP: %s\n", e->bdf,
					      sizes[s], strerror(e->err[s]));
			continue;
		}
		memcpy(v, e->best[s], reps * sizeof(v[0]));
		qsort(v, reps, sizeof(v[0]), cmp_double);
		med = reps % 2 ? v[reps / 2] : (v[reps / 2 - 1] + v[reps / 2]) / 2;
		printf("# dma-bench: {\"kind\": \"maploop\", \"path\": \"%s\", \"bdf\": \"%s\", \"iommu\": \"%s\", \"n\": %u, \"reps\": %d, \"chunks\": %u, \"ns\": %.1f, \"min_ns\": %.1f, \"max_ns\": %.1f}\n",
		       mode, e->bdf, e->iommu, sizes[s], reps, chunks(sizes[s]),
		       med, v[0], v[reps - 1]);
		ksft_test_result(isfinite(med) && med > 0,
				 "%s: N = %u: %.0f ns per dma_map_single + dma_unmap_single (median of %d, %.0f..%.0f)\n",
				 e->bdf, sizes[s], med, reps, v[0], v[reps - 1]);
	}
}

int main(int argc, char **argv)
{
	char mode[16];
	struct utsname u;
	int i, opt, ret, mod_ret, irqs;
	bool want_iommu;

	while ((opt = getopt(argc, argv, "m:p:r:")) != -1) {
		switch (opt) {
		case 'm':
			module_path = optarg;
			break;
		case 'p':
			module_params = optarg;
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-m MODULE] [-p PARAMS] [-r REPS] [BDF...]\n",
				argv[0]);
			return 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "%s: REPS 1..%d\n", argv[0], MAX_REPS);
		return 2;
	}

	ksft_print_header();
	n_edu = edudrv_find(edus[0].bdf, sizeof(edus[0]), MAX_EDU, argc, argv,
			    optind);
	if (!n_edu)
		ksft_exit_fail_msg("no edu (1234:11e8) found\n");
	cmdline_param("viommu.bench", mode, sizeof(mode));
	if (strcmp(mode, "trapped") && strcmp(mode, "vcmdq") &&
	    strcmp(mode, "floor"))
		ksft_exit_fail_msg("viommu.bench=%s on the kernel command line: want trapped, vcmdq or floor\n",
				   mode);
	want_iommu = strcmp(mode, "floor");
	ksft_set_plan(2 + n_edu * (1 + NR_SIZES));
	uname(&u);
	irqs = cmdqv_irqs();
	printf("# dma-bench: {\"kind\": \"guest\", \"path\": \"%s\", \"kernel\": \"%s %s\", \"edus\": %d, \"cmdqvs\": %d, \"reps\": %d}\n",
	       mode, u.release, u.machine, n_edu, irqs, reps);

	mod_ret = edudrv_load(module_path, module_params);
	ksft_test_result(!mod_ret, "%s loaded (%s)\n", DRIVER,
			 mod_ret ? strerror(-mod_ret) : module_path);
	ksft_test_result(irqs == (strcmp(mode, "vcmdq") ? 0 : 2),
			 "%s: %d tegra241-cmdqv probed (%s)\n", mode, irqs,
			 strcmp(mode, "vcmdq") ? "want none: the guest's own CMDQ, trapped or absent" :
						 "want one per vSMMU: the guest's VCMDQs");

	for (i = 0; i < n_edu; i++) {
		struct edu *e = &edus[i];
		bool translated;

		e->fd = -1;
		ret = mod_ret ? mod_ret : bind_edu(e);
		translated = !strcmp(e->group_type, "DMA") && e->iommu[0] &&
			     (e->info.flags & EDU_DMA_INFO_IOMMU);
		e->ok = !ret && (want_iommu ? translated :
				 !e->iommu[0] && !(e->info.flags & EDU_DMA_INFO_IOMMU));
		ksft_test_result(e->ok, "%s: bound to %s, %s (group type %s, IOMMU %s)\n",
				 e->bdf, DRIVER,
				 want_iommu ? "translated DMA domain behind a vSMMU, strict" :
					      "no IOMMU: dma-direct",
				 e->group_type[0] ? e->group_type : "none",
				 e->iommu[0] ? e->iommu : "none");
		if (ret)
			ksft_print_msg("%s: %s\n", e->bdf, strerror(-ret));
	}
	for (i = 0; i < n_edu; i++) {
		unsigned int s;

		if (!edus[i].ok) {
			for (s = 0; s < NR_SIZES; s++)
				ksft_test_result_skip("%s: N = %u: not on the expected path\n",
						      edus[i].bdf, sizes[s]);
			continue;
		}
		measure(&edus[i]);
		report(&edus[i], mode);
	}
	ksft_finished();
}
