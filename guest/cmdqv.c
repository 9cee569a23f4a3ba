// SPDX-License-Identifier: GPL-2.0
/*
 * Tegra241 CMDQV checks, from the guest (TAP):
 *
 *   cmdqv probe N   the DSDT describes N NVDA200C devices with a QWordMemory
 *                   window, ACPI enumerated N of them, and the host driver
 *                   probed N CMDQVs (each requests its "tegra241-cmdqv" IRQ
 *                   only once its probe went through, and the SMMU driver
 *                   falls back to its own CMDQ when it fails)
 *   cmdqv guest     in a guest of QEMU 11.1's arm-smmuv3,accel=on (the
 *                   inner guest of tests/realvmm.plan): with cmdqv=on on
 *                   the kernel command line (viommu.cmdqv=on), one CMDQV
 *                   per vSMMU in the DSDT, enumerated, Linux's VINTF0 on
 *                   each enabled in guest mode (HYP_OWN reads back 0) with
 *                   its VCMDQs enabled and consumed (CONS moved: the
 *                   guest's invalidations went through them); with
 *                   cmdqv=off, no CMDQV at all
 *   cmdqv vintf     on each CMDQV, drive VINTF1 (which Linux 6.12 leaves
 *                   disabled: it only uses VINTF0) the way a VMM's kernel
 *                   driver does for a VM: HYP_OWN=0, a VMID, a SID_MATCH/
 *                   SID_REPLACE pair, a command queue through the VINTF's
 *                   logical pages; then check what the model lets through,
 *                   what it refuses, and how it reports and recovers from
 *                   an error. What the commands became at the SMMU (VMID and
 *                   StreamID substituted) is checked in the QEMU trace by
 *                   scripts/check-cmdqv.sh.
 *
 * The registers are reached through /dev/mem (CONFIG_DEVMEM, unfiltered);
 * the command queue is a pinned page of this process, whose physical
 * address comes from /proc/self/pagemap.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kselftest.h>

#include "edudrv.h"

#define MAX_CMDQV 8

/* Config page */
#define CMDQV_CONFIG		0x0
#define CMDQV_PARAM		0x4
#define CMDQV_STATUS		0x8
#define CMDQV_VINTF_ERR_MAP	0x14
#define CMDQV_CMDQ_ERR_MAP(m)	(0x24 + 4 * (m))
#define CMDQV_CMDQ_ALLOC(q)	(0x200 + 4 * (q))
#define VINTF(v)		(0x1000 + 0x100 * (v))
#define VINTF_CONFIG		0x0
#define  VINTF_EN		(1u << 0)
#define  VINTF_HYP_OWN		(1u << 17)
#define VINTF_STATUS		0x4
#define VINTF_SID_MATCH(s)	(0x40 + 4 * (s))
#define VINTF_SID_REPLACE(s)	(0x80 + 4 * (s))
#define VINTF_LVCMDQ_ERR_MAP(m)	(0xc0 + 8 * (m))
/* VCMDQ pages: global, and the logical ones of VINTF v */
#define VCMDQ_PAGE0(q)		(0x10000 + 0x80 * (q))
#define VCMDQ_PAGE1(q)		(0x20000 + 0x80 * (q))
#define LVCMDQ_PAGE0(v, lq)	(0x30000 + 0x20000 * (v) + 0x80 * (lq))
#define LVCMDQ_PAGE1(v, lq)	(LVCMDQ_PAGE0(v, lq) + 0x10000)
#define VCMDQ_CONS		0x0
#define VCMDQ_PROD		0x4
#define VCMDQ_CONFIG		0x8
#define VCMDQ_STATUS		0xc
#define VCMDQ_GERROR		0x10
#define VCMDQ_GERRORN		0x14
#define VCMDQ_BASE		0x0
#define CONS_ERR(c)		(((c) >> 24) & 0x7f)

/* What the VINTF1 test programs, and scripts/check-cmdqv.sh looks for */
#define TEST_VMID		0x77
#define TEST_VSID		0x42
#define TEST_PSID_BASE		0x700	/* + the CMDQV's index */
#define GUEST_VMID		0x5a5a	/* what the "VM" writes: replaced */
#define LOG2SIZE		4	/* 16 entries */

/* Command opcodes */
#define CMD_CFGI_ALL		0x04
#define CMD_TLBI_NH_ASID	0x11
#define CMD_TLBI_NH_VA		0x12
#define CMD_ATC_INV		0x40
#define CMD_SYNC		0x46

struct cmdqv {
	uint64_t base, size;
	volatile uint8_t *regs;
};

static struct cmdqv cmdqvs[MAX_CMDQV];
static int ncmdqv;

static uint32_t rd32(struct cmdqv *c, uint64_t off)
{
	return *(volatile uint32_t *)(c->regs + off);
}

static uint64_t rd64(struct cmdqv *c, uint64_t off)
{
	return *(volatile uint64_t *)(c->regs + off);
}

static void wr32(struct cmdqv *c, uint64_t off, uint32_t val)
{
	__sync_synchronize();
	*(volatile uint32_t *)(c->regs + off) = val;
}

static void wr64(struct cmdqv *c, uint64_t off, uint64_t val)
{
	__sync_synchronize();
	*(volatile uint64_t *)(c->regs + off) = val;
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * Find the NVDA200C devices of the DSDT and the QWordMemory descriptor
 * (tag 0x8a, length 0x2b, memory) that follows each _HID.
 */
static int parse_dsdt(void)
{
	static uint8_t aml[1 << 20];
	size_t len = 0, i, j;
	ssize_t n;
	int fd;

	fd = open("/sys/firmware/acpi/tables/DSDT", O_RDONLY);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, aml + len, sizeof(aml) - len)) > 0)
		len += n;
	close(fd);

	for (i = 0; i + 8 <= len; i++) {
		if (memcmp(aml + i, "NVDA200C", 8))
			continue;
		for (j = i + 8; j + 46 <= len && j < i + 256; j++) {
			if (aml[j] == 0x8a && aml[j + 1] == 0x2b &&
			    aml[j + 2] == 0 && aml[j + 3] == 0)
				break;
		}
		if (j + 46 > len || j >= i + 256 || ncmdqv == MAX_CMDQV)
			return -EINVAL;
		cmdqvs[ncmdqv].base = le64_at(aml + j + 14);
		cmdqvs[ncmdqv].size = le64_at(aml + j + 38);
		ncmdqv++;
	}
	return 0;
}

static int count_glob(const char *pattern)
{
	glob_t g;
	int n;

	if (glob(pattern, 0, NULL, &g))
		return 0;
	n = g.gl_pathc;
	globfree(&g);
	return n;
}

/* /proc/interrupts lines of the CMDQV IRQ, and their total count */
static int cmdqv_irqs(unsigned long *total)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[512];
	int n = 0;

	*total = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');
		int cpu;

		if (!strstr(line, "tegra241-cmdqv") || !p)
			continue;
		n++;
		p++;
		for (cpu = 0; cpu < 2; cpu++)
			*total += strtoul(p, &p, 10);
	}
	fclose(f);
	return n;
}

static int probe(int want)
{
	unsigned long total;
	int i;

	ksft_print_header();
	ksft_set_plan(4);
	ksft_test_result(parse_dsdt() == 0 && ncmdqv == want,
			 "DSDT: %d NVDA200C devices with a QWordMemory window (want %d)\n",
			 ncmdqv, want);
	for (i = 0; i < ncmdqv; i++)
		ksft_print_msg("CMDQV %d: 0x%llx, size 0x%llx\n", i,
			       (unsigned long long)cmdqvs[i].base,
			       (unsigned long long)cmdqvs[i].size);
	ksft_test_result(ncmdqv > 0 && cmdqvs[0].size == 0x30000 + 0x20000 * 4,
			 "window size 0x30000 + 0x20000 * 4 VINTFs\n");
	ksft_test_result(count_glob("/sys/bus/acpi/devices/NVDA200C:*") == want,
			 "ACPI enumerated %d NVDA200C devices\n", want);
	ksft_test_result(cmdqv_irqs(&total) == want,
			 "%d tegra241-cmdqv IRQs requested: each CMDQV probed\n",
			 want);
	ksft_finished();
	return 0;
}

/* A pinned page of ours and its physical address */
static void *dma_page(uint64_t *phys)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t ent;
	void *p;
	int fd;

	p = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, psz);
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return NULL;
	if (pread(fd, &ent, 8, (uintptr_t)p / psz * 8) != 8) {
		close(fd);
		return NULL;
	}
	close(fd);
	if (!(ent >> 63) || !(ent & ((1ULL << 55) - 1)))
		return NULL;
	*phys = (ent & ((1ULL << 55) - 1)) * psz;
	return p;
}

static void put_cmd(uint64_t *q, unsigned int idx, uint64_t w0, uint64_t w1)
{
	q[2 * (idx % (1u << LOG2SIZE))] = w0;
	q[2 * (idx % (1u << LOG2SIZE)) + 1] = w1;
}

/* PROD of VINTF1's logical queue 0: index and wrap bits */
static uint32_t qidx(unsigned int n)
{
	return n & ((2u << LOG2SIZE) - 1);
}

static void vintf_test(struct cmdqv *c, int ci, uint64_t *q, uint64_t phys)
{
	uint32_t param, alloc2, cons, gerror, lq0 = LVCMDQ_PAGE0(1, 0);
	uint32_t psid = TEST_PSID_BASE + ci, vmid_cfg;
	unsigned long irqs_before, irqs_after;
	unsigned int n;
	int ok;

	ksft_print_msg("CMDQV %d at 0x%llx\n", ci, (unsigned long long)c->base);
	param = rd32(c, CMDQV_PARAM);
	/* topologies/dual gives SMMU 0's CMDQV one SID pair per VINTF */
	ksft_test_result(param == (1 | 3 << 4 | 2 << 8 | (ci ? 4 : 0) << 12),
			 "cmdqv%d: PARAM 0x%x: version 1, 8 VCMDQs, 4 VINTFs, %d SIDs\n",
			 ci, param, ci ? 16 : 1);
	ksft_test_result(rd32(c, CMDQV_CONFIG) == 1 && rd32(c, CMDQV_STATUS) == 1,
			 "cmdqv%d: enabled by the host driver\n", ci);
	ksft_test_result((rd32(c, VINTF(0) + VINTF_CONFIG) &
			  (VINTF_EN | VINTF_HYP_OWN)) == (VINTF_EN | VINTF_HYP_OWN) &&
			 (rd32(c, VINTF(0) + VINTF_STATUS) & 0xff000f) == (2 << 16 | 1),
			 "cmdqv%d: VINTF0 enabled, HYP_OWN, 2 logical queues\n", ci);
	/* Linux 6.12 maps global queues 2 and 3 to VINTF1's LVCMDQ 0 and 1 */
	alloc2 = rd32(c, CMDQV_CMDQ_ALLOC(2));
	ksft_test_result(alloc2 == (1u << 15 | 0 << 1 | 1) &&
			 rd32(c, CMDQV_CMDQ_ALLOC(3)) == (1u << 15 | 1 << 1 | 1) &&
			 (rd32(c, VINTF(1) + VINTF_STATUS) & 0xff000f) == 2 << 16,
			 "cmdqv%d: VINTF1 disabled, queues 2 and 3 allocated to it\n",
			 ci);

	/* A guest-owned VINTF with one vSID -> pSID pair */
	wr32(c, VINTF(1) + VINTF_SID_MATCH(0), TEST_VSID << 1 | 1);
	wr32(c, VINTF(1) + VINTF_SID_REPLACE(0), psid);
	vmid_cfg = TEST_VMID << 1;
	wr32(c, VINTF(1) + VINTF_CONFIG, vmid_cfg);
	wr32(c, VINTF(1) + VINTF_CONFIG, vmid_cfg | VINTF_EN);
	ksft_test_result(rd32(c, VINTF(1) + VINTF_SID_MATCH(0)) == (TEST_VSID << 1 | 1) &&
			 rd32(c, VINTF(1) + VINTF_SID_REPLACE(0)) == psid &&
			 rd32(c, VINTF(1) + VINTF_CONFIG) == (vmid_cfg | VINTF_EN) &&
			 (rd32(c, VINTF(1) + VINTF_STATUS) & 0xf) == 1,
			 "cmdqv%d: VINTF1 enabled, VMID 0x%x, vSID 0x%x -> pSID 0x%x\n",
			 ci, TEST_VMID, TEST_VSID, psid);

	/* Its LVCMDQ0 through the logical pages: the global queue 2 */
	wr32(c, lq0 + VCMDQ_PROD, 0);
	wr32(c, lq0 + VCMDQ_CONS, 0);
	wr64(c, LVCMDQ_PAGE1(1, 0) + VCMDQ_BASE, phys | LOG2SIZE);
	wr32(c, lq0 + VCMDQ_CONFIG, 1);
	ksft_test_result(rd64(c, VCMDQ_PAGE1(2) + VCMDQ_BASE) == (phys | LOG2SIZE) &&
			 rd32(c, VCMDQ_PAGE1(2) + VCMDQ_BASE + 4) == phys >> 32 &&
			 rd32(c, VCMDQ_PAGE0(2) + VCMDQ_STATUS) == 1 &&
			 rd32(c, lq0 + VCMDQ_STATUS) == 1,
			 "cmdqv%d: VINTF1 LVCMDQ0 aliases global VCMDQ2 (BASE, EN)\n",
			 ci);
	ksft_test_result(rd32(c, LVCMDQ_PAGE0(1, 2) + VCMDQ_CONFIG) == 0 &&
			 (wr32(c, LVCMDQ_PAGE0(1, 2) + VCMDQ_CONFIG, 1),
			  rd32(c, LVCMDQ_PAGE0(1, 2) + VCMDQ_CONFIG) == 0) &&
			 rd64(c, LVCMDQ_PAGE1(1, 2) + VCMDQ_BASE) == 0,
			 "cmdqv%d: an unmapped logical queue reads zero, ignores writes\n",
			 ci);

	/* The four commands a guest may issue; the VM's own VMID is replaced */
	n = 0;
	put_cmd(q, n++, CMD_TLBI_NH_ASID | (uint64_t)(1u << 16 | GUEST_VMID) << 32, 0);
	put_cmd(q, n++, CMD_TLBI_NH_VA | (uint64_t)(1u << 16 | GUEST_VMID) << 32,
		0x7e57000ULL);
	put_cmd(q, n++, CMD_ATC_INV | (uint64_t)TEST_VSID << 32, 0);
	put_cmd(q, n++, CMD_SYNC | 1 << 12 /* SIG_IRQ */, 0);
	wr32(c, lq0 + VCMDQ_PROD, qidx(n));
	cons = rd32(c, lq0 + VCMDQ_CONS);
	ksft_test_result(cons == qidx(n) &&
			 rd32(c, lq0 + VCMDQ_GERROR) == rd32(c, lq0 + VCMDQ_GERRORN),
			 "cmdqv%d: TLBI_NH_ASID, TLBI_NH_VA, ATC_INV, CMD_SYNC consumed (CONS 0x%x)\n",
			 ci, cons);

	/* A command a guest may not issue: CERROR_ILL, and the queue stops */
	cmdqv_irqs(&irqs_before);
	put_cmd(q, n++, CMD_CFGI_ALL | 0, 31);
	put_cmd(q, n, CMD_SYNC, 0);
	wr32(c, lq0 + VCMDQ_PROD, qidx(n + 1));
	cons = rd32(c, lq0 + VCMDQ_CONS);
	gerror = rd32(c, lq0 + VCMDQ_GERROR);
	ksft_test_result((cons & 0xffffff) == qidx(n - 1) && CONS_ERR(cons) == 1 &&
			 (gerror ^ rd32(c, lq0 + VCMDQ_GERRORN)) == 1,
			 "cmdqv%d: CFGI_ALL refused: CONS 0x%x stops at it, ERR 1, GERROR 0x%x\n",
			 ci, cons, gerror);
	ksft_test_result(rd32(c, CMDQV_CMDQ_ERR_MAP(0)) == 1u << 2 &&
			 rd64(c, VINTF(1) + VINTF_LVCMDQ_ERR_MAP(0)) == 1 &&
			 rd32(c, VINTF(1) + VINTF_LVCMDQ_ERR_MAP(0)) == 1 &&
			 rd32(c, VINTF(1) + VINTF_LVCMDQ_ERR_MAP(0) + 4) == 0 &&
			 rd32(c, CMDQV_VINTF_ERR_MAP) == 1u << 1 &&
			 rd32(c, VINTF(0) + VINTF_LVCMDQ_ERR_MAP(0)) == 0,
			 "cmdqv%d: error maps: CMDQ_ERR_MAP bit 2, VINTF1 LVCMDQ bit 0, VINTF bit 1\n",
			 ci);
	usleep(100000);
	cmdqv_irqs(&irqs_after);
	ksft_test_result(irqs_after > irqs_before,
			 "cmdqv%d: the error raised the CMDQV interrupt (%lu -> %lu)\n",
			 ci, irqs_before, irqs_after);

	/* Recover as Linux does: the bad entry becomes a CMD_SYNC, then ack */
	put_cmd(q, n - 1, CMD_SYNC, 0);
	wr32(c, lq0 + VCMDQ_GERRORN, gerror);
	n++;
	cons = rd32(c, lq0 + VCMDQ_CONS);
	ksft_test_result((cons & 0xffffff) == qidx(n) &&
			 rd32(c, CMDQV_CMDQ_ERR_MAP(0)) == 0 &&
			 rd64(c, VINTF(1) + VINTF_LVCMDQ_ERR_MAP(0)) == 0 &&
			 rd32(c, CMDQV_VINTF_ERR_MAP) == 0,
			 "cmdqv%d: GERRORN ack resumes at the rewritten entry (CONS 0x%x), maps clear\n",
			 ci, cons);

	/* An ATC_INV for a vSID the VINTF does not match */
	put_cmd(q, n, CMD_ATC_INV | (uint64_t)(TEST_VSID + 1) << 32, 0);
	wr32(c, lq0 + VCMDQ_PROD, qidx(n + 1));
	cons = rd32(c, lq0 + VCMDQ_CONS);
	gerror = rd32(c, lq0 + VCMDQ_GERROR);
	ok = (cons & 0xffffff) == qidx(n) && CONS_ERR(cons) == 1 &&
	     (gerror ^ rd32(c, lq0 + VCMDQ_GERRORN)) == 1;
	put_cmd(q, n, CMD_SYNC, 0);
	wr32(c, lq0 + VCMDQ_GERRORN, gerror);
	n++;
	ok = ok && (rd32(c, lq0 + VCMDQ_CONS) & 0xffffff) == qidx(n);
	/* ...and a disabled SID_MATCH does not match either */
	wr32(c, VINTF(1) + VINTF_SID_MATCH(0), TEST_VSID << 1);
	put_cmd(q, n, CMD_ATC_INV | (uint64_t)TEST_VSID << 32, 0);
	wr32(c, lq0 + VCMDQ_PROD, qidx(n + 1));
	cons = rd32(c, lq0 + VCMDQ_CONS);
	gerror = rd32(c, lq0 + VCMDQ_GERROR);
	ok = ok && (cons & 0xffffff) == qidx(n) && CONS_ERR(cons) == 1;
	put_cmd(q, n, CMD_SYNC, 0);
	wr32(c, lq0 + VCMDQ_GERRORN, gerror);
	n++;
	wr32(c, VINTF(1) + VINTF_SID_MATCH(0), TEST_VSID << 1 | 1);
	ksft_test_result(ok && (rd32(c, lq0 + VCMDQ_CONS) & 0xffffff) == qidx(n),
			 "cmdqv%d: ATC_INV of an unmatched or disabled vSID: CERROR_ILL\n",
			 ci);

	/* A disabled VINTF does not consume; enabling it does */
	wr32(c, VINTF(1) + VINTF_CONFIG, vmid_cfg);
	put_cmd(q, n, CMD_SYNC, 0);
	wr32(c, lq0 + VCMDQ_PROD, qidx(n + 1));
	ok = (rd32(c, lq0 + VCMDQ_CONS) & 0xffffff) == qidx(n);
	wr32(c, VINTF(1) + VINTF_CONFIG, vmid_cfg | VINTF_EN);
	n++;
	ksft_test_result(ok && (rd32(c, lq0 + VCMDQ_CONS) & 0xffffff) == qidx(n),
			 "cmdqv%d: VINTF disabled: nothing consumed; enabled: consumed\n",
			 ci);

	/* Past the end of the queue: the wrap bit */
	while (n < (1u << LOG2SIZE) + 3)
		put_cmd(q, n++, CMD_SYNC, 0);
	wr32(c, lq0 + VCMDQ_PROD, qidx(n));
	cons = rd32(c, lq0 + VCMDQ_CONS);
	ksft_test_result((cons & 0xffffff) == qidx(n) && qidx(n) == (1u << LOG2SIZE | 3),
			 "cmdqv%d: the queue wraps (CONS 0x%x)\n", ci, cons);

	/* Leave VINTF1 as Linux left it */
	wr32(c, lq0 + VCMDQ_CONFIG, 0);
	wr32(c, lq0 + VCMDQ_PROD, 0);
	wr32(c, lq0 + VCMDQ_CONS, 0);
	wr64(c, LVCMDQ_PAGE1(1, 0) + VCMDQ_BASE, 0);
	wr32(c, VINTF(1) + VINTF_CONFIG, 0);
	wr32(c, VINTF(1) + VINTF_SID_MATCH(0), 0);
	wr32(c, VINTF(1) + VINTF_SID_REPLACE(0), 0);
	ksft_test_result(rd32(c, VINTF(1) + VINTF_STATUS) == 2 << 16 &&
			 rd32(c, VCMDQ_PAGE0(2) + VCMDQ_STATUS) == 0,
			 "cmdqv%d: VINTF1 and its queue disabled again\n", ci);
}

static int guest(void)
{
	unsigned long irqs;
	char mode[16];
	int smmus, want, fd, i, n;

	ksft_print_header();
	cmdline_param("viommu.cmdqv", mode, sizeof(mode));
	smmus = count_glob("/sys/bus/platform/drivers/arm-smmu-v3/arm-smmu-v3.*");
	want = strcmp(mode, "on") ? 0 : 2;
	ksft_print_msg("cmdqv=%s on the command line, %d vSMMUs bound\n",
		       mode[0] ? mode : "?", smmus);
	ksft_set_plan(3 + 3 * want);
	ksft_test_result(smmus == 2,
			 "the guest's arm-smmu-v3 driver bound 2 vSMMUs (one per physical SMMU)\n");
	ksft_test_result(parse_dsdt() == 0 && ncmdqv == want,
			 "DSDT: %d NVDA200C devices (want %d: cmdqv=%s)\n",
			 ncmdqv, want, mode);
	n = count_glob("/sys/bus/acpi/devices/NVDA200C:*");
	ksft_test_result(n == want, "ACPI enumerated %d NVDA200C devices (want %d)\n",
			 n, want);
	ksft_print_msg("%d tegra241-cmdqv IRQs requested\n", cmdqv_irqs(&irqs));
	if (!want)
		goto out;
	if (ncmdqv != want) {
		for (i = 0; i < 3 * want; i++)
			ksft_test_result_fail("CMDQV %d: not in the DSDT\n", i / 3);
		goto out;
	}
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0)
		ksft_exit_fail_msg("/dev/mem: %s\n", strerror(errno));
	for (i = 0; i < ncmdqv; i++) {
		struct cmdqv *c = &cmdqvs[i];
		unsigned int lq, nlq, en = 0;
		uint32_t cfg, param, cons = 0;
		int lg;

		ksft_print_msg("CMDQV %d: 0x%llx, size 0x%llx\n", i,
			       (unsigned long long)c->base,
			       (unsigned long long)c->size);
		c->regs = mmap(NULL, LVCMDQ_PAGE1(0, 0), PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, c->base);
		if (c->regs == MAP_FAILED)
			ksft_exit_fail_msg("mmap CMDQV %d: %s\n", i, strerror(errno));
		/*
		 * LVCMDQs per VINTF from PARAM: NUM_VCMDQ_LOG2 [7:4] less
		 * NUM_VINTF_LOG2 [11:8] (QEMU 11.1 leaves VINTF STATUS's
		 * VI_NUM_LVCMDQ at 0)
		 */
		param = rd32(c, CMDQV_PARAM);
		lg = ((param >> 4) & 0xf) - ((param >> 8) & 0xf);
		nlq = lg >= 0 && lg < 7 ? 1u << lg : 0;
		cfg = rd32(c, VINTF(0) + VINTF_CONFIG);
		ksft_print_msg("CMDQV %d: PARAM 0x%x: %u LVCMDQs per VINTF\n",
			       i, param, nlq);
		ksft_test_result((cfg & VINTF_EN) && !(cfg & VINTF_HYP_OWN),
				 "CMDQV %d: VINTF0 enabled in guest mode (CONFIG 0x%x: HYP_OWN 0)\n",
				 i, cfg);
		for (lq = 0; lq < nlq && lq < 64; lq++) {
			uint32_t qst = rd32(c, LVCMDQ_PAGE0(0, lq) + VCMDQ_STATUS);
			uint32_t qcons = rd32(c, LVCMDQ_PAGE0(0, lq) + VCMDQ_CONS);

			ksft_print_msg("CMDQV %d: VINTF0 LVCMDQ%u STATUS 0x%x CONS 0x%x PROD 0x%x\n",
				       i, lq, qst, qcons,
				       rd32(c, LVCMDQ_PAGE0(0, lq) + VCMDQ_PROD));
			en += qst & 1;
			cons |= qcons & 0xfffff;
		}
		ksft_test_result(nlq > 0 && en == nlq,
				 "CMDQV %d: its %u VCMDQs enabled\n", i, nlq);
		ksft_test_result(cons != 0,
				 "CMDQV %d: its VCMDQs consumed the guest's commands (CONS moved)\n",
				 i);
		munmap((void *)c->regs, LVCMDQ_PAGE1(0, 0));
	}
	close(fd);
out:
	ksft_finished();
	return 0;
}

static int vintf(void)
{
	uint64_t phys;
	uint64_t *q;
	int fd, i;

	ksft_print_header();
	if (parse_dsdt() || !ncmdqv)
		ksft_exit_fail_msg("no NVDA200C device in the DSDT\n");
	ksft_set_plan(16 * ncmdqv);
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0)
		ksft_exit_fail_msg("/dev/mem: %s\n", strerror(errno));
	q = dma_page(&phys);
	if (!q)
		ksft_exit_fail_msg("no pinned page with a physical address\n");
	ksft_print_msg("command queue at PA 0x%llx\n", (unsigned long long)phys);
	for (i = 0; i < ncmdqv; i++) {
		struct cmdqv *c = &cmdqvs[i];

		c->regs = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, c->base);
		if (c->regs == MAP_FAILED)
			ksft_exit_fail_msg("mmap CMDQV %d: %s\n", i, strerror(errno));
		memset(q, 0, 16 << LOG2SIZE);
		vintf_test(c, i, q, phys);
	}
	ksft_finished();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "probe"))
		return probe(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "vintf"))
		return vintf();
	if (argc == 2 && !strcmp(argv[1], "guest"))
		return guest();
	fprintf(stderr, "usage: cmdqv probe N | cmdqv vintf | cmdqv guest\n");
	return 2;
}
