// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-viommu, the model: what the kernel must hold after each call
 * (objects, the virtual IDs of each vIOMMU, attachments, vEVENTQ records),
 * the answers it predicts from shared/design/uapi.md (the vSTE and command
 * allow-lists read independently of the kernel), the comparison of each
 * answer with the prediction and the reports, and the random picks the
 * generators make from it. See fuzz.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fuzz.h"

#if defined(VMM_HAVE_VIOMMU) && defined(VMM_HAVE_HW_QUEUE)

/* ---- random numbers: xorshift64*, one stream per seed ---------------- */

__u64 rng;

__u64 rnd(void)
{
	return xorshift64s(&rng);
}

/* 0 .. n - 1 */
__u32 rn(__u32 n)
{
	return n ? rnd() % n : 0;
}

/* true with probability pct % */
bool chance(unsigned int pct)
{
	return rn(100) < pct;
}

/* ---- the model ------------------------------------------------------ */

int mode;
bool tegra;
const char *mode_name = "smmu";
struct fstate S;
/* The queue memory: 4 pages, of which the IOAS maps 0-1 and 3 */
__u8 *qmem;
__u64 pgsz;
/* mmap offsets seen in this run, to try again once they are stale */
__u64 old_offs[8];
/* What the physical SMMU offers (smmu mode), from IOMMU_GET_HW_INFO. */
struct fhw hw;

/* ---- run state, figures and reports --------------------------------- */

__u64 cur_seed;
unsigned long cur_iter, cur_seq;
unsigned long reports, total_ops, total_seqs, total_cmds;
unsigned long accepted_cmds, enomem_seen, queues_made, pages_mapped;
unsigned long vdevs_made, vevqs_made, vevents_read, vevents_lost;
unsigned long vevents_made;
unsigned long vintfs_made, vcmdq_written, vcmdq_consumed;
unsigned long vcmdq_refused, cmdqv_events, health_checks;
unsigned int fault_pct;
int fail_fd = -1;
const char *cur_op = "";

void report(const char *fmt, ...)
{
	va_list ap;

	reports++;
	if (reports > 20)
		return;
	printf("# REPORT seed=0x%" PRIx64 " seq=%lu iter=%lu op=%s: ",
	       (uint64_t)cur_seed, cur_seq, cur_iter, cur_op);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* The fault window: this task's allocations and copies may fail in it. */
void fault_window(bool on)
{
	int tries = 0;

	if (fail_fd < 0)
		return;
	/* Closing the window is itself a copy from user that may fail */
	while (pwrite(fail_fd, on ? "1" : "0", 1, 0) != 1) {
		if ((errno != EFAULT && errno != ENOMEM) || ++tries == 1000) {
			report("make-it-fail: %s", strerror(errno));
			return;
		}
	}
}

/* ioctl inside the fault window: 0 or -errno. */
int fioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	fault_window(true);
	ret = ioctl(fd, req, arg);
	ret = ret ? -errno : 0;
	fault_window(false);
	if (ret == -ENOMEM)
		enomem_seen++;
	return ret;
}

/*
 * Compare the kernel's answer with the prediction. With fault injection a
 * call may also fail with ENOMEM (or EFAULT from fail_usercopy) instead.
 * Returns true when the call succeeded, so the model must follow.
 */
bool check(int got, int want)
{
	if (got == want)
		return !got;
	if (fault_pct && (got == -ENOMEM || got == -EFAULT))
		return false;
	if (!want && got)
		report("expected success, got %s", strerror(-got));
	else if (want && !got)
		report("expected %s, the call succeeded", strerror(-want));
	else
		report("expected %s, got %s", strerror(-want), strerror(-got));
	return false;
}

/* ---- object ids ---------------------------------------------------- */

/* An id that names nothing in this context (ids are small and dense). */
__u32 bogus_id(void)
{
	return 1000 + rn(1000);
}

/* Is @id the id of an object the model knows alive? */
static bool id_in_use(__u32 id)
{
	int i;

	if (id == S.ioas)
		return true;
	for (i = 0; i < S.ndev; i++)
		if (S.dev[i].present && (S.dev[i].dev_id == id ||
					 (mode == MOCK && S.dev[i].stdev_id == id)))
			return true;
	for (i = 0; i < MAX_IOMMU; i++)
		if ((S.parent[i].live && S.parent[i].id == id) ||
		    (S.parent[i].plain_id && S.parent[i].plain_id == id))
			return true;
	for (i = 0; i < MAX_VIOMMU; i++)
		if (S.viommu[i].live && S.viommu[i].id == id)
			return true;
	for (i = 0; i < MAX_NESTED; i++)
		if (S.nested[i].live && S.nested[i].id == id)
			return true;
	for (i = 0; i < MAX_QUEUE; i++)
		if (S.queue[i].live && S.queue[i].id == id)
			return true;
	for (i = 0; i < MAX_VDEV; i++)
		if (S.vdev[i].live && S.vdev[i].id == id)
			return true;
	for (i = 0; i < MAX_VEVQ; i++)
		if (S.vevq[i].live && S.vevq[i].id == id)
			return true;
	return false;
}

/* A new object's id: non-zero, and no live object's. */
void check_new_id(const char *what, __u32 id)
{
	if (!id || id_in_use(id))
		report("%s got id %u, which is %s", what, id,
		       id ? "a live object's" : "invalid");
}

/* Unbind: the kernel must drop the device's virtual ID and attachment. */
void model_dev_gone(struct fdev *d)
{
	if (d->viommu >= 0)
		S.viommu[d->viommu].nids--;
	/* Unbind destroys the vDEVICE: its id is forgotten, never reused */
	if (d->vdev >= 0)
		S.vdev[d->vdev].live = false;
	d->vdev = -1;
	if (d->att == ATT_NESTED)
		S.nested[d->att_idx].users--;
	if (d->att == ATT_PARENT)
		S.parent[d->att_idx].users--;
	d->present = false;
	d->viommu = -1;
	d->att = ATT_NONE;
}

/* ---- picking things --------------------------------------------------- */

struct fdev *pick_dev(void)
{
	struct fdev *d = &S.dev[rn(S.ndev)];

	return d->present ? d : NULL;
}

/* A vIOMMU index, live or not. */
int pick_viommu(void)
{
	return rn(MAX_VIOMMU);
}

__u32 viommu_id_of(int v)
{
	return S.viommu[v].live ? S.viommu[v].id : bogus_id();
}

/* Virtual IDs come from a small pool so that they collide. */
__u64 pick_vid(void)
{
	/* tegra: around the 20 bits a SID_MATCH holds (max_vdev_id) */
	if (tegra && chance(15))
		return chance(50) ? 0xfffff : 0x100000 + rn(16);
	switch (rn(8)) {
	case 0:
		return 0xffffffffull;
	case 1:
		return 0x100000000ull << rn(32);	/* too big */
	default:
		return 0x40 + rn(6);
	}
}

/* ---- virtual IDs, vDEVICEs, vEVENTQs, attachments, HW queues ---------- */

int model_vid_owner(int v, __u64 vid)
{
	int i;

	for (i = 0; i < S.ndev; i++)
		if (S.dev[i].present && S.dev[i].viommu == v &&
		    S.dev[i].vid == vid)
			return i;
	return -1;
}

/* Does the attachment of @d use its virtual ID (a stage-1 nested HWPT)? */
bool id_in_use_by_attach(const struct fdev *d)
{
	return d->att == ATT_NESTED &&
	       S.nested[d->att_idx].viommu == d->viommu &&
	       S.nested[d->att_idx].translates;
}

int vevq_of(int v, __u32 type)
{
	int i;

	for (i = 0; i < MAX_VEVQ; i++)
		if (S.vevq[i].live && S.vevq[i].viommu == v &&
		    S.vevq[i].type == type)
			return i;
	return -1;
}

/* The model of iommufd_viommu_report_event(): queued, or lost */
/* A vEVENTQ IOMMU_VEVENTQ_ALLOC made in slot @k for vIOMMU @v */
void model_vevq_new(int k, int v, const struct iommu_veventq_alloc *cmd)
{
	check_new_id("vEVENTQ", cmd->out_veventq_id);
	vevqs_made++;
	memset(&S.vevq[k], 0, sizeof(S.vevq[k]));
	S.vevq[k].live = true;
	S.vevq[k].id = cmd->out_veventq_id;
	S.vevq[k].fd = cmd->out_veventq_fd;
	S.vevq[k].viommu = v;
	S.vevq[k].type = cmd->type;
	S.vevq[k].depth = cmd->veventq_depth;
	S.viommu[v].nvevqs++;
}

/* A vDEVICE IOMMU_VDEVICE_ALLOC made in slot @k for device @d */
void model_vdev_new(int k, struct fdev *d, __u32 vdevice_id)
{
	check_new_id("vDEVICE", vdevice_id);
	vdevs_made++;
	S.vdev[k].live = true;
	S.vdev[k].id = vdevice_id;
	S.vdev[k].dev = d - S.dev;
	d->vdev = k;
}

void model_vevent(struct fvevq *q, bool lost, __u32 vid)
{
	vevents_made++;
	/* The LOST_EVENTS record only ever stands at the tail */
	if (q->nrec && q->rec[q->nrec - 1].lost)
		q->nrec--;
	if (q->nrec == MAX_VEVENTS) {
		report("model: vEVENTQ of more than %d records", MAX_VEVENTS);
		return;
	}
	q->rec[q->nrec].lost = lost;
	q->rec[q->nrec].vid = vid;
	q->rec[q->nrec].seq = q->next_seq;
	q->next_seq = (q->next_seq + 1) & 0x7fffffff;
	q->nrec++;
	if (!lost)
		q->nev++;
}

void model_detach(struct fdev *d)
{
	if (d->att == ATT_NESTED)
		S.nested[d->att_idx].users--;
	if (d->att == ATT_PARENT)
		S.parent[d->att_idx].users--;
	d->att = ATT_NONE;
}

/* The queue slot of HW queue @index of vIOMMU @v, or -1. */
int queue_of(int v, __u32 index)
{
	int i;

	for (i = 0; i < MAX_QUEUE; i++)
		if (S.queue[i].live && S.queue[i].viommu == v &&
		    S.queue[i].index == index)
			return i;
	return -1;
}

/* ---- the allow-lists of uapi.md ------------------------------------- */

/* The vSTE allow-list of uapi.md, read independently of the kernel. */
int vste_errno(__u64 ste0, __u64 ste1)
{
	const __u64 ok0 = SMMU_STE_0_V | SMMU_STE_0_CFG | SMMU_STE_0_S1FMT |
			  SMMU_STE_0_S1CTXPTR | SMMU_STE_0_S1CDMAX;
	const __u64 ok1 = SMMU_STE_1_S1DSS | SMMU_STE_1_S1CIR |
			  SMMU_STE_1_S1COR | SMMU_STE_1_S1CSH |
			  SMMU_STE_1_S1STALLD | SMMU_STE_1_EATS;
	unsigned int cfg = SMMU_GET(SMMU_STE_0_CFG, ste0);
	unsigned int eats = SMMU_GET(SMMU_STE_1_EATS, ste1);

	if (!(ste0 & SMMU_STE_0_V))
		return 0;
	if ((ste0 & ~ok0) || (ste1 & ~ok1))
		return -EIO;
	if (cfg != SMMU_STE_0_CFG_ABORT && cfg != SMMU_STE_0_CFG_BYPASS &&
	    cfg != SMMU_STE_0_CFG_S1)
		return -EIO;
	if (cfg == SMMU_STE_0_CFG_S1) {
		unsigned int cdmax = SMMU_GET(SMMU_STE_0_S1CDMAX, ste0);
		unsigned int fmt = SMMU_GET(SMMU_STE_0_S1FMT, ste0);

		if (cdmax > hw.ssid_bits)
			return -EIO;
		/* 2-level CD tables: QEMU has none, and no SSIDs anyway */
		if (cdmax && fmt)
			return -EIO;
	}
	/* EATS: 0 (abort) or 1 (translate) */
	return eats > 1 ? -EIO : 0;
}

/*
 * The command allow-list of uapi.md, read independently of the kernel:
 * 0 if the SMMU may be given @c for the guest of vIOMMU @v, else -EIO.
 */
int cmd_errno(int v, const __u64 c[2])
{
	const __u64 vmid = SMMU_CMD_0_VMID, asid = SMMU_CMD_0_ASID;
	const __u64 range0 = SMMU_CMD_0_TLBI_NUM | SMMU_CMD_0_TLBI_SCALE;
	const __u64 range1 = SMMU_CMD_1_TLBI_TTL | SMMU_CMD_1_TLBI_TG;
	__u64 ok0 = SMMU_CMD_0_OP, ok1 = 0;
	unsigned int op = c[0] & 0xff, tg;

	switch (op) {
	case SMMU_CMD_TLBI_NH_ALL:
		ok0 |= vmid;
		break;
	case SMMU_CMD_TLBI_NH_ASID:
		ok0 |= vmid | asid;
		break;
	case SMMU_CMD_TLBI_NH_VA:
		ok0 |= asid;
		/* fallthrough */
	case SMMU_CMD_TLBI_NH_VAA:
		ok0 |= vmid | range0;
		ok1 |= SMMU_CMD_1_TLBI_LEAF | SMMU_CMD_1_TLBI_ADDR | range1;
		break;
	case SMMU_CMD_TLBI_NSNH_ALL:
		break;
	case SMMU_CMD_CFGI_CD:
		ok0 |= SMMU_CMD_0_CFGI_SSID;
		ok1 |= SMMU_CMD_1_CFGI_LEAF;
		/* fallthrough */
	case SMMU_CMD_CFGI_CD_ALL:
		ok0 |= SMMU_CMD_0_SID;
		break;
	case SMMU_CMD_ATC_INV:
		/* No ATS on these SMMUs, and no edu has ATS on */
		return -EIO;
	default:
		return -EIO;
	}
	if ((c[0] & ~ok0) || (c[1] & ~ok1))
		return -EIO;
	if (op == SMMU_CMD_TLBI_NH_VA || op == SMMU_CMD_TLBI_NH_VAA) {
		tg = SMMU_GET(SMMU_CMD_1_TLBI_TG, c[1]);
		if ((c[0] & range0) || (c[1] & range1)) {
			if (!hw.ril || !tg || !(hw.pgsizes & (1ull << (10 + 2 * tg))))
				return -EIO;
		}
	}
	if ((op == SMMU_CMD_TLBI_NH_VA || op == SMMU_CMD_TLBI_NH_ASID) &&
	    (SMMU_GET(asid, c[0]) >> hw.asid_bits))
		return -EIO;
	if (op == SMMU_CMD_CFGI_CD &&
	    (SMMU_GET(SMMU_CMD_0_CFGI_SSID, c[0]) >> hw.ssid_bits))
		return -EIO;
	if (op == SMMU_CMD_CFGI_CD || op == SMMU_CMD_CFGI_CD_ALL) {
		if (model_vid_owner(v, SMMU_GET(SMMU_CMD_0_SID, c[0])) < 0)
			return -EIO;
	}
	return 0;
}

/* A virtual ID that a device has on vIOMMU @v, if there is one. */
__u32 owned_vid(int v)
{
	int i, start = rn(S.ndev);

	for (i = 0; i < S.ndev; i++) {
		struct fdev *d = &S.dev[(start + i) % S.ndev];

		if (d->present && d->viommu == v)
			return d->vid;
	}
	return 0x40 + rn(6);
}
#endif
