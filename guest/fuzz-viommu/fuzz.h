/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz-viommu: a seeded, bounded fuzzer of the vIOMMU uAPI.
 *
 *   fuzz-viommu mock|smmu|tegra [seed=N] [iters=N] [secs=N] [fault=PCT]
 *
 * It drives IOMMU_VIOMMU_ALLOC, IOMMU_VIOMMU_SET_DEV_ID/UNSET_DEV_ID,
 * IOMMU_HWPT_ALLOC of nested HWPTs on a vIOMMU, attach, IOMMU_DESTROY,
 * device unbind, IOMMU_HWPT_INVALIDATE through a vIOMMU,
 * IOMMU_HW_QUEUE_ALLOC, mmap() of a vIOMMU's page, IOMMU_IOAS_UNMAP of
 * pinned queue memory, IOMMU_VDEVICE_ALLOC and DESTROY of vDEVICEs (the
 * same virtual IDs as SET_DEV_ID), IOMMU_VEVENTQ_ALLOC, close, DESTROY and
 * read() of vEVENTQs and, on the mock, events of random devices
 * (IOMMU_TEST_OP_TRIGGER_VEVENT), with random and mutated structs, ids,
 * ranges and command words, in random sequences. Each
 * sequence opens an iommufd (a "VM"), runs operations on it and closes
 * everything again in a random order.
 *
 *   mock  the iommufd selftest driver: mock devices on the two mock IOMMU
 *         instances (IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, MOCK_FLAGS_DEVICE_IOMMU2),
 *         IOMMU_VIOMMU_TYPE_SELFTEST.
 *   smmu  the edu devices of the dual topology on vfio-pci, behind the two
 *         emulated SMMUv3s, IOMMU_VIOMMU_TYPE_ARM_SMMUV3.
 *   tegra the same edus and SMMUs, whose Tegra241 CMDQVs (QEMU's model)
 *         give each vIOMMU of IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV a VINTF of
 *         its own, mixed with ARM_SMMUV3 vIOMMUs: virtual IDs (SET_DEV_ID
 *         and vDEVICEs) become SID_MATCH/SID_REPLACE pairs (ENOSPC once a
 *         VINTF has none left: SMMU 0's CMDQV has one pair per VINTF, and
 *         a CMDQV has 3 VINTFs for guests), IOMMU_HW_QUEUE_ALLOC of VCMDQs
 *         (index, 2^n commands of at least 32 bytes up to IDR1.CMDQS,
 *         aligned, in order), mmap() of the VINTF page0, and through it a
 *         hostile guest: queues enabled and disabled at any moment, PROD
 *         past its commands, host-only, illegal and garbage commands,
 *         ATC_INVs of StreamIDs it has no pair for, errors left
 *         unacknowledged, CONS rewritten; then destroy, unbind and close
 *         in any order with queues enabled (gen-tegra.c). The fuzzer
 *         predicts every VCMDQ register it reads: it runs the CMDQV's
 *         rules over the queue memory it wrote (a guest queue takes
 *         TLBI_NH_ASID, TLBI_NH_VA, CMD_SYNC, and ATC_INV of a vSID the
 *         vIOMMU has; anything else stops it with CERROR_ILL), so a queue
 *         that reads other memory than the one named, a pair the kernel
 *         did not program or did not remove, or a queue of another VINTF
 *         seen through this page is a report. After each sequence the
 *         host's own queues must still complete a CMD_SYNC (an
 *         invalidation through a fresh ARM_SMMUV3 vIOMMU of each SMMU) and
 *         the kernel log must show no error of a host queue (a guest
 *         VINTF's errors are its own). Each VINTF's vIOMMU is named on the
 *         console ("# tegra viommu TAG iommu I psids ...") and marked in
 *         the QEMU trace by a TLBI_NH_VA of address 0x7e9a00000000 + TAG
 *         pages from its VCMDQ and one of 0x7e9b00000000 + TAG pages
 *         trapped through IOMMU_HWPT_INVALIDATE, from which
 *         scripts/check-tegra-fuzz-trace.sh checks on the host that every
 *         command of a guest VINTF reached the SMMU with that vIOMMU's VMID
 *         and the physical StreamIDs of its own devices only.
 *
 * The fuzzer keeps a model of what the kernel must hold (objects, the
 * virtual IDs of each vIOMMU, attachments) and predicts every answer from
 * shared/design/uapi.md: the errno of a call, the index at which an
 * invalidation stops; a new object's id must be non-zero and no live
 * object's, and every later answer about it (ENOENT, EBUSY, EEXIST)
 * must agree with the model; a vEVENTQ's records (sequence, flags, the
 * virtual ID, the LOST_EVENTS record of a full queue) must be the model's.
 * Any difference is a report. A mapped vIOMMU
 * page must hold what the mock was given, and a HW queue's pin must read
 * the memory the caller named (IOMMU_TEST_OP_HW_QUEUE_READ). In smmu mode
 * each guest command is judged by the fuzzer's own reading of the
 * allow-list (opcode, fields, the SMMU's features from IOMMU_GET_HW_INFO,
 * the vIOMMU's vSIDs): a command the kernel accepts that the allow-list
 * forbids is a report of its own ("accepted an illegal command"). After each
 * sequence the kernel log must hold no SMMU command queue error
 * (CERROR_ILL and friends: "CMDQ error", "global error").
 *
 * fault=PCT turns on failslab, fail_page_alloc and fail_usercopy with
 * probability PCT for this task only, and only around its own ioctls
 * (/proc/self/make-it-fail): a call may then also fail with ENOMEM or
 * EFAULT, and must then change nothing.
 *
 * Runs are reproducible: the seed names the whole sequence of operations.
 * The default is a fixed seed plus one taken from the clock, both printed;
 * seed=N runs that one only. iters bounds the operations per seed, secs the
 * time. Prints TAP: one test per seed, failing with its seed and the
 * operation that went wrong.
 *
 * The program is guest/fuzz-viommu/: fuzz.h (what the parts share),
 * model.c (the model, its predictions and the reports), gen-objects.c,
 * gen-queues.c and gen-tegra.c (the generators of the operations) and
 * runner.c (sequences, seeds, set-up and main).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdbool.h>
#include <linux/types.h>

#include "iommufd_test.h"
#include "seed.h"
#include "smmuv3.h"
#include "testdev.h"
#include "vmm.h"

#define MAX_DEV		4
#define MAX_VIOMMU	4
#define MAX_NESTED	8
#define MAX_IOMMU	2
#define MAX_BATCH	80	/* more than one SMMU batch (64 commands) */
#define MAX_QUEUE	8
#define MAX_VDEV	8
#define MAX_VEVQ	8
#define MAX_VEVENTS	24	/* records a model queue holds, LOST included */

/*
 * Queue memory in the IOAS of each sequence: two read-write pages at
 * QIOVA (one mapping, one area), a hole, and a write-only page at
 * QIOVA_WO. Inside the mock aperture and clear of the SMMU's MSI window.
 */
#define QIOVA		(1ull << 28)
#define QIOVA_HOLE	(QIOVA + 2 * pgsz)
#define QIOVA_WO	(QIOVA + 3 * pgsz)

/* ---- the model ------------------------------------------------------ */

enum att { ATT_NONE, ATT_IOAS, ATT_PARENT, ATT_NESTED };

struct fdev {
	bool present;		/* bound to the iommufd */
	int iommu;		/* index of its IOMMU instance */
	__u32 dev_id;
	__u32 stdev_id;		/* mock: the selftest object owning it */
	struct vmm_dev vd;	/* smmu: its VFIO cdev */
	struct vmm_pci pci;
	int viommu;		/* -1, or the vIOMMU it has an ID on */
	__u64 vid;
	int vdev;		/* -1, or the vDEVICE slot that owns the ID */
	__u32 psid;		/* smmu/tegra: its physical StreamID (RID) */
	enum att att;
	int att_idx;		/* parent iommu or nested index */
};

struct fviommu {
	bool live;
	__u32 id;
	int iommu;
	int nids;
	int nnested;
	int nqueues;		/* live HW queues */
	int nvevqs;		/* live vEVENTQs */
	__u32 in_data;		/* mock: what its MMIO page holds */
	__u64 mmap_off, mmap_len;	/* mock: its mmap pair, or 0 */
	void *map;		/* its page, mapped */
	/* tegra: a vIOMMU of IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, with a VINTF */
	bool is_tegra;
	bool marked;		/* its VCMDQ marker has been written */
	__u32 tag;		/* names it on the console and in the trace */
	__u32 devs_seen;	/* devices that had an ID on it (bit = index) */
};

struct fqueue {
	bool live;
	__u32 id;
	int viommu;
	__u32 index;
	/* tegra: the VCMDQ as the guest must see it in the VINTF page0 */
	__u64 iova;		/* its memory, in qmem */
	unsigned int log2;	/* 1 << log2 commands */
	bool gknown;		/* GERROR/GERRORN read since the reset */
	__u32 cons, prod, config, gerror, gerrorn;
};

struct fnested {
	bool live;
	__u32 id;
	int viommu;
	int users;		/* devices attached */
	bool translates;	/* stage 1: a device needs an ID to attach */
};

struct fvdev {
	bool live;
	__u32 id;
	int dev;		/* the device whose ID it owns */
};

/* A vEVENTQ, and the records a read must return, oldest first */
struct fvevq {
	bool live;
	__u32 id;
	int fd;			/* -1 once closed */
	int viommu;
	__u32 type, depth;
	__u32 nev;		/* events queued (LOST not counted) */
	__u32 next_seq;
	int nrec;
	struct {
		bool lost;
		__u32 seq, vid;
	} rec[MAX_VEVENTS];
};

struct fparent {
	bool live;
	__u32 id;
	int users;		/* vIOMMUs and devices attached */
	__u32 plain_id;		/* a paging HWPT that is no nesting parent */
};

struct fstate {
	int fd;
	__u32 ioas;
	int ndev;
	struct fdev dev[MAX_DEV];
	struct fviommu viommu[MAX_VIOMMU];
	struct fnested nested[MAX_NESTED];
	struct fparent parent[MAX_IOMMU];
	struct fqueue queue[MAX_QUEUE];
	struct fvdev vdev[MAX_VDEV];
	struct fvevq vevq[MAX_VEVQ];
	bool qmem_mapped;	/* the read-write pages at QIOVA */
};
extern struct fstate S;

enum { SMMU, MOCK };
extern int mode;
/* tegra mode: mode is SMMU, with Tegra241 CMDQV vIOMMUs and VCMDQs */
extern bool tegra;
extern const char *mode_name;

/* The queue memory: 4 pages, of which the IOAS maps 0-1 and 3 */
extern __u8 *qmem;
extern __u64 pgsz;
/* mmap offsets seen in this run, to try again once they are stale */
extern __u64 old_offs[8];

/* What the physical SMMU offers (smmu mode), from IOMMU_GET_HW_INFO. */
struct fhw {
	bool ril, ats;
	unsigned int asid_bits, ssid_bits;
	__u64 pgsizes;		/* bit 12/14/16: 4K/16K/64K granules */
	/* tegra: per IOMMU, from IOMMU_GET_HW_INFO of type TEGRA241_CMDQV */
	unsigned int nlvcmdq[MAX_IOMMU];	/* VCMDQs of one VINTF */
	unsigned int npairs[MAX_IOMMU];		/* SID pairs of one VINTF */
	unsigned int cmdq_max_shift;	/* log2 of a VCMDQ's most commands */
};
extern struct fhw hw;

/* ---- run state, figures and reports --------------------------------- */

extern __u64 rng;
extern __u64 cur_seed;
extern unsigned long cur_iter, cur_seq;
extern unsigned long reports, total_ops, total_seqs, total_cmds;
extern unsigned long accepted_cmds, enomem_seen, queues_made, pages_mapped;
extern unsigned long vdevs_made, vevqs_made, vevents_read, vevents_lost;
extern unsigned long vevents_made;
/* tegra mode */
extern unsigned long vintfs_made, vcmdq_written, vcmdq_consumed;
extern unsigned long vcmdq_refused, cmdqv_events, health_checks;
extern unsigned int fault_pct;
extern int fail_fd;		/* /proc/self/make-it-fail, or -1 */
extern const char *cur_op;

/* model.c: random numbers of the seed's stream (rng) */
__u64 rnd(void);
__u32 rn(__u32 n);		/* 0 .. n - 1 */
bool chance(unsigned int pct);	/* true with probability pct % */

/* model.c: answers, reports and the fault window */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fault_window(bool on);
int fioctl(int fd, unsigned long req, void *arg);
bool check(int got, int want);
__u32 bogus_id(void);
void check_new_id(const char *what, __u32 id);

/* model.c: the model's state changes and predictions */
void model_dev_gone(struct fdev *d);
void model_detach(struct fdev *d);
int model_vid_owner(int v, __u64 vid);
bool id_in_use_by_attach(const struct fdev *d);
int vevq_of(int v, __u32 type);
void model_vevent(struct fvevq *q, bool lost, __u32 vid);
void model_vevq_new(int k, int v, const struct iommu_veventq_alloc *cmd);
void model_vdev_new(int k, struct fdev *d, __u32 vdevice_id);
int queue_of(int v, __u32 index);
int vste_errno(__u64 ste0, __u64 ste1);
int cmd_errno(int v, const __u64 c[2]);

/* model.c: picking things */
struct fdev *pick_dev(void);
int pick_viommu(void);
__u32 viommu_id_of(int v);
__u64 pick_vid(void);
__u32 owned_vid(int v);

/* runner.c: devices and the queue memory of a sequence */
bool bind_may_fail(int ret);
int dev_bind(struct fdev *d);
void dev_unbind(struct fdev *d);
int qmem_map(__u64 iova, int npages, bool readable);
void viommu_unmap(struct fviommu *vi);

/* gen-objects.c and gen-queues.c: the operations */
void op_viommu_alloc(void);
void op_set_dev_id(bool set);
void op_vdevice(void);
void op_nested_alloc(void);
void op_attach(void);
void op_destroy(void);
void op_rebind(void);
void op_veventq(void);
void op_hw_queue_alloc(void);
void op_mmap(void);
void op_qmem(void);
void op_invalidate(void);

/* gen-tegra.c: tegra mode */
void tegra_step(void);
void tegra_setup(void);
void op_tegra_hw_queue_alloc(void);
void tegra_mapped(int v);
void tegra_viommu_gone(int v);
void tegra_seq_end(void);
void tegra_after_close(void);
void tegra_vevent_read(struct fvevq *q);
__u32 tegra_psid(const char *bdf);

#endif
