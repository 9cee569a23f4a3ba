/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench: what its parts share (main.c says what it measures and how).
 *
 *  timing.c   the timing method: chunks of calls against the floor
 *  backends.c the two vIOMMUs invalidated: the mock's and the SMMUv3's
 *  trap.c     the trap path on each, batches of 1 to 4096; the mock's in parts
 *  slab.c     slab and page counters: snapshots, totals, top caches
 *  allocs.c   heap allocations per invalidation
 *  scale.c    memory per vIOMMU and per ID, scale and set-up at 65536 IDs
 *  vcmdq.c    the Tegra241 VCMDQ path against the ioctl
 *  onevsmmu.c one guest vSMMU over both SMMUs (lib/vsmmu1.[ch]) against
 *             one vSMMU per SMMU: a guest TLBI_NH_VA + CMD_SYNC
 *  json.c     the JSON figures and the targets
 *  main.c     the run, and all its TAP (the ksft_* counters are static
 *             in each file that includes kselftest.h: only main.c counts)
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/iommufd.h>

#include "iommufd_test.h"
#include "testdev.h"
#include "vmm.h"

#define REPS		11		/* repetitions of every timing */
#define CHUNKS		20		/* floor/path alternations in one */
#define CHUNK_NS	1000000.0	/* aim: 1 ms per chunk */
#define MAX_BATCH	4096
#define NR_IDS		65536
#define ALLOC_CALLS	4000		/* calls per allocation count */
#define NR_VIOMMUS	1024		/* vIOMMUs for the memory figure */
#define VSID		0x42		/* the SMMUv3 edu's virtual StreamID */
#define VID_BASE	0x8		/* mock virtual IDs: VID_BASE + i */
#define SMMU_INV_DATA	1u	/* IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 */

extern const __u32 batches[];
#define NR_BATCHES	5		/* 1, 8, 64, 512, 4096 */
#define NR_PARTS	6		/* trap_parts() */
/*
 * Scale: @ids virtual IDs set on one vIOMMU, the commands of a batch name
 * @named of them (spread over the ID space). named = 1 is the lookup
 * alone; named = 1024 keeps the working set while the set grows; named =
 * ids grows both. In order of @ids: the IDs are set cumulatively.
 */
struct scale_cfg {
	__u32 ids, named;
};
extern const struct scale_cfg scale_cfg[];
#define NR_SCALE	6
/* Indexes in scale_cfg of the figures compared */
#define SC_1_1		0
#define SC_1K_1		1
#define SC_1K_1K	2
#define SC_64K_1	3
#define SC_64K_1K	4
#define SC_64K_64K	5
#define SCALE_BATCH	512
#define SETUP_CHUNK	256		/* IDs per timed SET/UNSET chunk */

extern int fd;			/* /dev/iommu */

/* ---- timing.c ---------------------------------------------------------- */

/* One operation to time; returns 0 or -1 with errno set. */
struct op {
	int (*fn)(struct op *op);
	const char *what;
	/* an invalidation: */
	__u32 id, data_type, entry_len, num;
	const void *entries;
	int err;		/* invalidate_fails(): the errno it wants */
};

struct timing {
	double ns;		/* median ns per call */
	double floor_ns;	/* median ns of the floor next to it */
	double ratio;		/* median of the per-repetition ratios */
	double spread;		/* (max - min) / median of the ratios */
};

extern struct op floor_op;	/* the null ioctl */
double now_ns(void);
double run_ns(struct op *op, long n);
long calibrate(struct op *op);
int measure(struct op *op, struct timing *t);
int invalidate(struct op *op);
int invalidate_fails(struct op *op);

/* ---- backends.c -------------------------------------------------------- */

typedef struct {
	__le64 cmd[2];
} vcmd_t;

struct smmu_vm {
	struct vmm_dev dev;
	__u32 ioas_id, parent_id, viommu_id;
};

extern struct iommu_viommu_invalidate_selftest mock_cmds[MAX_BATCH];
extern vcmd_t smmu_cmds[MAX_BATCH];

long mock_cache(__u32 idev_id, __u32 cache_id);
int mock_viommu(__u32 dev_id, __u32 parent_id, bool no_slots,
		__u32 *viommu_id);
void mock_cmds_fill(__u32 ids, __u32 named);
struct op mock_op(__u32 viommu_id, __u32 num);
int smmu_setup(struct smmu_vm *vm);
struct op smmu_op(__u32 viommu_id, __u32 num);

/* ---- what the run keeps: set by the parts, reported by main.c ---------- */

struct bench {
	/* The mock: devs[0] on its IOAS, nesting parent and vIOMMU */
	__u32 ioas_id, parent_id, viommu_id;
	__u32 big_viommu;	/* without the mock's ID slot limit */
	__u32 devs[NR_IDS];	/* mock devices (mock_dev_add()) */
	int nr_devs, dev_err;	/* devices made; errno of the next */
	bool have_flag;		/* MOCK_VIOMMU_FLAG_NO_ID_SLOTS */
	int flag_err;		/* errno without it */
	bool have_devs;		/* all NR_IDS devices */
	/* The SMMUv3 */
	struct smmu_vm vm;
	int smmu_err;		/* smmu_setup()'s */
	bool have_smmu;

	struct timing floor_t, mock_t[NR_BATCHES], smmu_t[NR_BATCHES];
	struct timing part_t[NR_PARTS];	/* the mock's batch-1 call, in parts */
	struct timing scale_t[NR_SCALE], high_t;
	bool allocs_ok;
	double alloc_worst, alloc_control;
	double viommu_bytes, dev_bytes, dev_ns;
	double set_ns, unset_ns;
	double vcmdq_ns, vcmdq_ioctl_ns, vcmdq_ratio;
	/* onevsmmu.c: one vSMMU over both SMMUs against one per SMMU */
	int one_err;
	double one_ns, per_smmu_ns, layer1_ns, one_per_smmu;
};

/* trap.c, allocs.c, scale.c, vcmdq.c: each returns whether it passed */
int mock_setup(struct bench *b);
bool trap_mock(struct bench *b);
bool trap_parts(struct bench *b);
bool trap_smmu(struct bench *b);
bool allocs(struct bench *b);
bool memory(struct bench *b);
bool scale(struct bench *b);
bool setup(struct bench *b, bool ok);
#define VCMDQ_NO_UAPI	(-1)	/* vcmdq(): no IOMMU_HW_QUEUE_ALLOC */
int vcmdq(struct bench *b);
bool onevsmmu(struct bench *b);

/* ---- slab.c ------------------------------------------------------------ */

#define MAX_CACHES	512

/* Per-cache figures: bytes in use (slabinfo), allocations (SLUB_STATS). */
struct slab_snap {
	int n;
	char name[MAX_CACHES][48];
	long long bytes[MAX_CACHES];
	long long allocs[MAX_CACHES];
	long long pgalloc;
};

long long meminfo(const char *key);
int slab_snapshot(struct slab_snap *s);
long long slab_total(const struct slab_snap *s, bool bytes);
void json_top_caches(const char *key, const struct slab_snap *a,
		     const struct slab_snap *b, bool bytes, double per);

/* ---- json.c ------------------------------------------------------------ */

extern FILE *js;		/* the JSON, built in memory */
int json_open(void);
void json_num(const char *key, double v, bool comma);
void json_timing(const struct timing *t);
void json_per_cmd(const struct timing *t, __u32 batch);
void json_trap(const char *backend, __u32 batch, const struct timing *t,
	       bool first);
void targets(const struct bench *b);
void json_print(void);

#endif
