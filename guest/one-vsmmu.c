// SPDX-License-Identifier: GPL-2.0
/*
 * one-vsmmu: one guest vSMMU over the two physical SMMUs of the dual
 * topology, through lib/vsmmu1.[ch]: one vIOMMU per SMMU on the VM's one
 * IOAS, the guest's one stream table mapping each vSID to its vIOMMU, and
 * the guest's command batches split per command: SID-scoped commands to
 * the vIOMMU that owns the vSID, TLB maintenance to both, CMD_SYNC
 * completed once both calls returned.
 *
 *  routing       the layer alone, with a recorder in place of the ioctl:
 *                where each command goes, in which order, where CMD_SYNC
 *                and the VMM's own commands cut the batch, and which index
 *                the guest's CMDQ reports when a command fails (refused by
 *                the layer, or by one vIOMMU's call)
 *  stream_table  the vSID -> (vIOMMU, device) map on the real SMMUs: one
 *                vIOMMU per SMMU whatever the number of devices, one vSID
 *                space over both (which no single vIOMMU can check), and
 *                no direct-assigned VCMDQ in this mode
 *  dma           one stream table, one CD and one stage-1 table set for
 *                the edu behind SMMU 0 and the edu behind SMMU 1: one
 *                guest TLBI_NH_VA after a page-table change refreshes both
 *                devices (stale before, fresh after, each checked), a
 *                CFGI_CD of one vSID refreshes that device only. Between
 *                markers the QEMU trace must show the CFGI_CDs each on its
 *                own SMMU and the TLBI on both, each with its SMMU's VMID
 *                (scripts/check-onevsmmu-trace.sh)
 *  batch_errors  the same on the SMMUs: a batch stopped by an unknown vSID
 *                (the TLBI before it reached both SMMUs: fresh DMA on
 *                each), by a command one vIOMMU's kernel call refuses, in
 *                either vIOMMU, and by a reserved bit in a broadcast
 *
 * Needs: the dual topology with every edu bound to vfio-pci (bind-vfio
 * 1234:11e8 runs first) and uAPI headers with the vIOMMU ioctls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edu.h"
#include "pattern.h"
#include "smmuv3.h"
#include "vmm.h"
#include "vsmmu1.h"

#ifndef VSMMU1_HAVE
#include <kselftest.h>

int main(void)
{
	ksft_print_header();
	ksft_exit_skip("no vIOMMU uAPI in the headers\n");
}
#else

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <kselftest_harness.h>
#include "edutest.h"

#define PAGE		4096ul
#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define GUEST_RAM_IPA	0x40000000ull
#define GUEST_RAM_SIZE	(1ull << 20)

/*
 * The guest's one stream table: the edu behind SMMU 0 is vSID 0x71, the
 * one behind SMMU 1 vSID 0x72, the second edu behind SMMU 0 vSID 0x73.
 * Its one CD has ASID 0x1c0, then 0x1c1. The trace markers are
 * TLBI_NH_ASIDs of ASIDs no CD has: 0x1b0 (begin), 0x1b1, 0x1b2 (end).
 * The VAs are this program's only (scripts/check-onevsmmu-trace.sh knows
 * all of these numbers).
 */
#define VSID0		0x71
#define VSID1		0x72
#define VSID_PAIR	0x73
#define VSID_NONE	0x99
#define ASID_A		0x1c0
#define ASID_B		0x1c1
#define MARK_BEGIN	0x1b0
#define MARK_MID	0x1b1
#define MARK_END	0x1b2
#define VA_SRC		0x00000abc00000000ull
#define VA_DST		0x00000abc00200000ull

typedef __le64 cmd_t[2];

/* ---- routing: the layer with a recorder in place of the ioctl ------- */

#define REC_MAX		64

struct rec {
	int idx;		/* the vIOMMU; -1: the VMM's own command */
	__u32 n;
	__u64 w0[VSMMU1_SUB_MAX], w1[VSMMU1_SUB_MAX];
};

static struct rec recs[REC_MAX];
static int nr_recs;
/* The recorder refuses entry fail_at of a call on vIOMMU fail_idx. */
static int fail_idx = -1;
static __u32 fail_at;
static int local_ret;

static int recorder(struct vsmmu1 *v, int idx, const __le64 (*cmds)[2],
		    __u32 *num)
{
	struct rec *r = &recs[nr_recs++];
	__u32 i;

	r->idx = idx;
	r->n = *num;
	for (i = 0; i < *num; i++) {
		r->w0[i] = le64toh(cmds[i][0]);
		r->w1[i] = le64toh(cmds[i][1]);
	}
	if (idx == fail_idx && fail_at < *num) {
		*num = fail_at;
		errno = EIO;
		return -EIO;
	}
	return 0;
}

static int local_rec(struct vsmmu1 *v, const __le64 cmd[2])
{
	struct rec *r = &recs[nr_recs++];

	r->idx = -1;
	r->n = 1;
	r->w0[0] = le64toh(cmd[0]);
	return local_ret;
}

static void rec_reset(void)
{
	nr_recs = 0;
	fail_idx = -1;
	local_ret = 0;
}

/* Two vIOMMUs ("smmu-a" and "smmu-b"), one device with a vSID on each. */
static void fake_setup(struct __test_metadata *_metadata, struct vsmmu1 *v)
{
	vsmmu1_init(v, -1, 1);
	v->issue = recorder;
	v->local = local_rec;
	ASSERT_EQ(0, vsmmu1_add_viommu(v, "smmu-a", 100));
	ASSERT_EQ(1, vsmmu1_add_viommu(v, "smmu-b", 200));
	ASSERT_EQ(-EEXIST, vsmmu1_add_viommu(v, "smmu-b", 300));
	ASSERT_EQ(0, vsmmu1_record_dev(v, 0, 10, VSID0));
	ASSERT_EQ(0, vsmmu1_record_dev(v, 1, 11, VSID1));
	/* One vSID space over both vIOMMUs; a device has one vSID. */
	ASSERT_EQ(-EEXIST, vsmmu1_record_dev(v, 0, 12, VSID1));
	ASSERT_EQ(-EEXIST, vsmmu1_record_dev(v, 1, 10, 0x80));
	ASSERT_EQ(-EINVAL, vsmmu1_record_dev(v, 2, 12, 0x80));
	rec_reset();
}

/* Recorded call @k went to vIOMMU @idx with the guest's commands @which. */
static void expect_call(struct __test_metadata *_metadata, int k, int idx,
			cmd_t *cmds, const int *which, __u32 n)
{
	__u32 i;

	ASSERT_LT(k, nr_recs);
	ASSERT_EQ(idx, recs[k].idx) {
		TH_LOG("call %d", k);
	}
	ASSERT_EQ(n, recs[k].n) {
		TH_LOG("call %d to vIOMMU %d", k, idx);
	}
	for (i = 0; i < n; i++) {
		ASSERT_EQ(le64toh(cmds[which[i]][0]), recs[k].w0[i]) {
			TH_LOG("call %d entry %u: not guest command %d", k, i,
			       which[i]);
		}
		ASSERT_EQ(le64toh(cmds[which[i]][1]), recs[k].w1[i]);
	}
}

/* vsmmu1_route() as an int, for the harness's compares. */
static int route(const __le64 cmd[2], __u32 *sid)
{
	return (int)vsmmu1_route(cmd, sid);
}

#define CALL(k, idx, cmds, ...) do {					\
	const int w_[] = { __VA_ARGS__ };				\
	expect_call(_metadata, k, idx, cmds, w_,			\
		    sizeof(w_) / sizeof(w_[0]));			\
} while (0)

TEST(routing)
{
	static struct vsmmu1 v;
	struct vsmmu1_result res;
	static cmd_t c[600];
	const char *why = NULL;
	__u32 sid;
	int i;

	fake_setup(_metadata, &v);

	/* Where each command goes. */
	smmu_cmd_cfgi_cd(c[0], VSID1, 0, true);
	ASSERT_EQ((int)VSMMU1_TO_OWNER, route(c[0], &sid));
	ASSERT_EQ((__u32)VSID1, sid);
	smmu_cmd_cfgi_cd_all(c[0], VSID0);
	ASSERT_EQ((int)VSMMU1_TO_OWNER, route(c[0], &sid));
	ASSERT_EQ((__u32)VSID0, sid);
	smmu_cmd_op(c[0], SMMU_CMD_ATC_INV);
	ASSERT_EQ((int)VSMMU1_TO_OWNER, route(c[0], NULL));
	smmu_cmd_tlbi_nh_va(c[0], ASID_A, VA_DST, true);
	ASSERT_EQ((int)VSMMU1_TO_ALL, route(c[0], NULL));
	smmu_cmd_tlbi_nh_asid(c[0], ASID_A);
	ASSERT_EQ((int)VSMMU1_TO_ALL, route(c[0], NULL));
	smmu_cmd_op(c[0], SMMU_CMD_TLBI_NH_VAA);
	ASSERT_EQ((int)VSMMU1_TO_ALL, route(c[0], NULL));
	smmu_cmd_tlbi_nh_all(c[0]);
	ASSERT_EQ((int)VSMMU1_TO_ALL, route(c[0], NULL));
	smmu_cmd_op(c[0], SMMU_CMD_TLBI_NSNH_ALL);
	ASSERT_EQ((int)VSMMU1_TO_ALL, route(c[0], NULL));
	smmu_cmd_op(c[0], SMMU_CMD_SYNC);
	ASSERT_EQ((int)VSMMU1_SYNC, route(c[0], NULL));
	smmu_cmd_cfgi_ste(c[0], VSID0, true);
	ASSERT_EQ((int)VSMMU1_TO_VMM, route(c[0], NULL));
	smmu_cmd_op(c[0], SMMU_CMD_CFGI_ALL);
	ASSERT_EQ((int)VSMMU1_TO_VMM, route(c[0], NULL));
	smmu_cmd_op(c[0], SMMU_CMD_PREFETCH_CFG);
	ASSERT_EQ((int)VSMMU1_TO_VMM, route(c[0], NULL));
	smmu_cmd_op(c[0], SMMU_CMD_TLBI_S2_IPA);
	ASSERT_EQ((int)VSMMU1_ILLEGAL, route(c[0], NULL));
	smmu_cmd_op(c[0], SMMU_CMD_TLBI_S12_VMALL);
	ASSERT_EQ((int)VSMMU1_ILLEGAL, route(c[0], NULL));
	smmu_cmd_op(c[0], SMMU_CMD_TLBI_EL2_ALL);
	ASSERT_EQ((int)VSMMU1_ILLEGAL, route(c[0], NULL));
	smmu_cmd_op(c[0], 0xff);
	ASSERT_EQ((int)VSMMU1_ILLEGAL, route(c[0], NULL));

	/*
	 * A batch: the SID-scoped ones to their owner, the TLBIs to both,
	 * each vIOMMU's share in the guest's order, one call each before
	 * the CMD_SYNC, then one each after it.
	 */
	smmu_cmd_tlbi_nh_va(c[0], ASID_A, VA_DST, true);
	smmu_cmd_cfgi_cd(c[1], VSID0, 0, true);
	smmu_cmd_cfgi_cd_all(c[2], VSID1);
	smmu_cmd_tlbi_nh_asid(c[3], ASID_A);
	smmu_cmd_cfgi_cd(c[4], VSID0, 0, false);
	smmu_cmd_op(c[5], SMMU_CMD_SYNC);
	smmu_cmd_op(c[6], SMMU_CMD_TLBI_NSNH_ALL);
	ASSERT_EQ(0, vsmmu1_issue(&v, c, 7, &res));
	ASSERT_EQ(7u, res.cons);
	ASSERT_EQ((__u32)VSMMU1_CERROR_NONE, res.cerror);
	ASSERT_EQ(1u, res.syncs);
	ASSERT_EQ(4u, res.calls);
	ASSERT_EQ(4, nr_recs);
	CALL(0, 0, c, 0, 1, 3, 4);
	CALL(1, 1, c, 0, 2, 3);
	CALL(2, 0, c, 6);
	CALL(3, 1, c, 6);

	/* A CMD_SYNC waits only for the vIOMMUs that got something. */
	rec_reset();
	smmu_cmd_cfgi_cd(c[0], VSID1, 0, true);
	smmu_cmd_op(c[1], SMMU_CMD_SYNC);
	smmu_cmd_op(c[2], SMMU_CMD_SYNC);
	ASSERT_EQ(0, vsmmu1_issue(&v, c, 3, &res));
	ASSERT_EQ(2u, res.syncs);
	ASSERT_EQ(1, nr_recs);
	CALL(0, 1, c, 0);

	/*
	 * An unknown vSID: refused as the kernel refuses it, at its index,
	 * after the commands before it and before any after it.
	 */
	rec_reset();
	smmu_cmd_tlbi_nh_asid(c[0], ASID_A);
	smmu_cmd_cfgi_cd(c[1], VSID_NONE, 0, true);
	smmu_cmd_tlbi_nh_all(c[2]);
	ASSERT_EQ(-EIO, vsmmu1_issue(&v, c, 3, &res));
	ASSERT_EQ(EIO, errno);
	ASSERT_EQ(1u, res.cons);
	ASSERT_EQ((__u32)VSMMU1_CERROR_ILL, res.cerror);
	ASSERT_EQ(-EIO, res.err);
	ASSERT_EQ(2, nr_recs);
	CALL(0, 0, c, 0);
	CALL(1, 1, c, 0);

	/* An opcode a stage-1 vSMMU has not: the same. */
	rec_reset();
	smmu_cmd_cfgi_cd(c[0], VSID1, 0, true);
	smmu_cmd_tlbi_nh_va(c[1], ASID_A, VA_DST, true);
	smmu_cmd_op(c[2], SMMU_CMD_TLBI_S2_IPA);
	smmu_cmd_cfgi_cd(c[3], VSID0, 0, true);
	ASSERT_EQ(-EIO, vsmmu1_issue(&v, c, 4, &res));
	ASSERT_EQ(2u, res.cons);
	ASSERT_EQ((__u32)VSMMU1_CERROR_ILL, res.cerror);
	ASSERT_EQ(2, nr_recs);
	CALL(0, 0, c, 1);
	CALL(1, 1, c, 0, 1);

	/*
	 * vIOMMU 1's call fails at its second command (guest index 2): the
	 * guest's CMDQ stops there; nothing after the CMD_SYNC is issued.
	 */
	rec_reset();
	smmu_cmd_tlbi_nh_va(c[0], ASID_A, VA_DST, true);
	smmu_cmd_cfgi_cd(c[1], VSID0, 0, true);
	smmu_cmd_op(c[2], SMMU_CMD_ATC_INV);
	c[2][0] |= htole64(SMMU_FIELD(SMMU_CMD_0_SID, VSID1));
	smmu_cmd_cfgi_cd(c[3], VSID0, 0, true);
	smmu_cmd_op(c[4], SMMU_CMD_SYNC);
	smmu_cmd_tlbi_nh_all(c[5]);
	fail_idx = 1;
	fail_at = 1;
	ASSERT_EQ(-EIO, vsmmu1_issue(&v, c, 6, &res));
	ASSERT_EQ(2u, res.cons);
	ASSERT_EQ((__u32)VSMMU1_CERROR_ILL, res.cerror);
	ASSERT_EQ(0u, res.syncs);
	ASSERT_EQ(2, nr_recs);
	CALL(0, 0, c, 0, 1, 3);
	CALL(1, 1, c, 0, 2);

	/*
	 * vIOMMU 0 fails at guest index 1: vIOMMU 1, called after it, gets
	 * only what comes before index 1.
	 */
	rec_reset();
	smmu_cmd_tlbi_nh_asid(c[0], ASID_A);
	smmu_cmd_cfgi_cd(c[1], VSID0, 0, true);
	smmu_cmd_cfgi_cd(c[2], VSID1, 0, true);
	fail_idx = 0;
	fail_at = 1;
	ASSERT_EQ(-EIO, vsmmu1_issue(&v, c, 3, &res));
	ASSERT_EQ(1u, res.cons);
	ASSERT_EQ(2, nr_recs);
	CALL(0, 0, c, 0, 1);
	CALL(1, 1, c, 0);

	/* The VMM's own commands are barriers, in the guest's order. */
	rec_reset();
	smmu_cmd_tlbi_nh_va(c[0], ASID_A, VA_DST, true);
	smmu_cmd_cfgi_ste(c[1], VSID0, true);
	smmu_cmd_cfgi_cd(c[2], VSID0, 0, true);
	ASSERT_EQ(0, vsmmu1_issue(&v, c, 3, &res));
	ASSERT_EQ(1u, res.local);
	ASSERT_EQ(4, nr_recs);
	CALL(0, 0, c, 0);
	CALL(1, 1, c, 0);
	ASSERT_EQ(-1, recs[2].idx);
	ASSERT_EQ(le64toh(c[1][0]), recs[2].w0[0]);
	CALL(3, 0, c, 2);
	/* ...and when the VMM fails one, the queue stops there. */
	rec_reset();
	local_ret = -EINVAL;
	ASSERT_EQ(-EINVAL, vsmmu1_issue(&v, c, 3, &res));
	ASSERT_EQ(1u, res.cons);
	ASSERT_EQ((__u32)VSMMU1_CERROR_ILL, res.cerror);
	ASSERT_EQ(3, nr_recs);

	/* A long batch: several calls per vIOMMU, the order kept. */
	rec_reset();
	for (i = 0; i < 600; i++)
		smmu_cmd_tlbi_nh_va(c[i], ASID_A, VA_SRC + i * PAGE, true);
	ASSERT_EQ(0, vsmmu1_issue(&v, c, 600, &res));
	ASSERT_EQ(600u, res.cons);
	ASSERT_EQ(6, nr_recs);
	for (i = 0; i < 2; i++) {
		__u64 next = VA_SRC;
		int k;
		__u32 j;

		for (k = 0; k < nr_recs; k++) {
			if (recs[k].idx != i)
				continue;
			for (j = 0; j < recs[k].n; j++) {
				ASSERT_EQ(next, recs[k].w1[j] &
					  SMMU_CMD_1_TLBI_ADDR);
				next += PAGE;
			}
		}
		ASSERT_EQ(VA_SRC + 600 * PAGE, next);
	}

	/* No direct-assigned VCMDQ in this mode, and it says why. */
	errno = 0;
	ASSERT_EQ(-EOPNOTSUPP, vsmmu1_hw_queue_alloc(&v, 0, GUEST_RAM_IPA,
						     PAGE, &why));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_NE(NULL, why);
	ASSERT_NE(NULL, strstr(why, "one physical SMMU"));
	TH_LOG("VCMDQ refused: %s", why);
}

/* ---- the VM: one IOAS, the edus, the layer --------------------------- */

struct one {
	int fd;
	__u32 ioas_id;
	__u8 *ram_hva;
	struct smmu_guest_ram ram;
	struct vm_dev vd[2];
	struct vsmmu1 v;
	/* The guest: one CD, two stage-1 tables, its pages. */
	__u64 cd_ipa;
	unsigned int ips;
	struct smmu_s1_table t1, t2;
	__u64 src, a, b, c;
};

static void *hva(struct one *o, __u64 ipa)
{
	return smmu_ram_hva(&o->ram, ipa);
}

static void write_cd(struct one *o, __u16 asid, __u64 ttb0)
{
	struct smmu_cd_cfg cfg = {
		.asid = asid, .ttb0 = ttb0, .va_bits = 48, .ips = o->ips,
	};
	__le64 cd[8], *live = hva(o, o->cd_ipa);
	int i;

	smmu_cd_build(cd, &cfg);
	for (i = 7; i >= 0; i--)
		smmu_write64(&live[i], cd[i]);
}

static __u64 page(struct __test_metadata *_metadata, struct one *o,
		  __u32 seed)
{
	__u64 ipa = smmu_ram_alloc(&o->ram);

	ASSERT_NE(0ull, ipa);
	pattern_fill(hva(o, ipa), PAGE, seed);
	return ipa;
}

/* The VM with both edus in the layer (no STE yet). */
static void one_open(struct __test_metadata *_metadata, struct one *o)
{
	int i, idx;

	memset(o, 0, sizeof(*o));
	o->fd = vmm_iommufd_open();
	ASSERT_LE(0, o->fd);
	ASSERT_EQ(0, vmm_ioas_alloc(o->fd, &o->ioas_id));
	o->ram_hva = pattern_alloc(GUEST_RAM_SIZE);
	ASSERT_NE(NULL, o->ram_hva);
	ASSERT_EQ(0, vmm_ioas_map(o->fd, o->ioas_id, o->ram_hva,
				  GUEST_RAM_SIZE, GUEST_RAM_IPA, RW));
	smmu_ram_init(&o->ram, o->ram_hva, GUEST_RAM_IPA, GUEST_RAM_SIZE);
	vsmmu1_init(&o->v, o->fd, o->ioas_id);
	for (i = 0; i < 2; i++) {
		vm_dev_bind(_metadata, &o->vd[i], i, o->fd);
		ASSERT_EQ(0, vsmmu1_add_dev(&o->v, &o->vd[i].dev,
					    i ? VSID1 : VSID0, &idx)) {
			TH_LOG("edu %s: %s", o->vd[i].dev.pci.bdf,
			       strerror(errno));
		}
		ASSERT_EQ(i, idx);
	}
	ASSERT_EQ(2, o->v.nr_viommus);
}

/*
 * The guest's one CD (ASID_A, table t1: VA_SRC -> src, VA_DST -> a) in
 * both STEs; both devices attached and enabled.
 */
static void one_setup(struct __test_metadata *_metadata, struct one *o)
{
	struct iommu_hw_info_arm_smmuv3 info;
	unsigned int oas;
	__u32 len, type;
	__le64 ste[2];
	int i;

	one_open(_metadata, o);
	o->ips = 7;
	for (i = 0; i < 2; i++) {
		len = sizeof(info);
		ASSERT_EQ(0, vmm_hw_info(o->fd, o->vd[i].dev.dev_id, &info,
					 &len, &type, NULL));
		oas = SMMU_GET(SMMU_IDR5_OAS, info.idr[5]);
		if (oas < o->ips)
			o->ips = oas;
	}
	o->cd_ipa = smmu_ram_alloc(&o->ram);
	ASSERT_NE(0ull, o->cd_ipa);
	ASSERT_EQ(0, smmu_s1_init(&o->t1, &o->ram));
	ASSERT_EQ(0, smmu_s1_init(&o->t2, &o->ram));
	o->src = page(_metadata, o, 1);
	o->a = page(_metadata, o, 2);
	o->b = page(_metadata, o, 3);
	o->c = page(_metadata, o, 4);
	ASSERT_EQ(0, smmu_s1_map(&o->t1, VA_SRC, o->src, SMMU_PROT_READ));
	ASSERT_EQ(0, smmu_s1_map(&o->t1, VA_DST, o->a,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
	ASSERT_EQ(0, smmu_s1_map(&o->t2, VA_SRC, o->src, SMMU_PROT_READ));
	ASSERT_EQ(0, smmu_s1_map(&o->t2, VA_DST, o->c,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
	write_cd(o, ASID_A, o->t1.root);
	/* One STE format for both: the same CD. */
	smmu_ste_s1(ste, o->cd_ipa);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vsmmu1_attach(&o->v, i ? VSID1 : VSID0,
					   &o->vd[i].dev, ste)) {
			TH_LOG("nested HWPT of vSID 0x%x: %s", i ? VSID1 : VSID0,
			       strerror(errno));
		}
		vm_dev_enable(_metadata, &o->vd[i]);
	}
}

static void one_teardown(struct __test_metadata *_metadata, struct one *o)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (o->vd[i].dev.pt_id && o->v.nr_devs)
			EXPECT_EQ(0, vsmmu1_detach(&o->v, i ? VSID1 : VSID0,
						   &o->vd[i].dev));
		vm_dev_teardown(&o->vd[i]);
	}
	EXPECT_EQ(0, vsmmu1_destroy(&o->v));
	close(o->fd);
}

/*
 * Device @i copies a fresh pattern from VA_SRC to VA_DST: it must land in
 * @want, and not in @not.
 */
static void copy(struct __test_metadata *_metadata, struct one *o, int i,
		 __u32 tag, __u64 want, __u64 not, const char *why)
{
	struct edu *edu = &o->vd[i].edu;

	pattern_fill(hva(o, o->src), PAGE, seed_of(_metadata, i, tag));
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	ASSERT_EQ(0, edu_to_ram(edu, VA_DST, 0, PAGE));
	ASSERT_EQ(-1, pattern_diff(hva(o, o->src), hva(o, want), PAGE)) {
		TH_LOG("edu %s behind SMMU %d: %s", o->vd[i].dev.pci.bdf, i,
		       why);
	}
	ASSERT_NE(-1, pattern_diff(hva(o, o->src), hva(o, not), PAGE)) {
		TH_LOG("edu %s behind SMMU %d: also in the other page (%s)",
		       o->vd[i].dev.pci.bdf, i, why);
	}
}

/* The guest's batch @cmds + CMD_SYNC; it must complete with @calls calls. */
static void guest_sync(struct __test_metadata *_metadata, struct one *o,
		       cmd_t *cmds, __u32 n, __u32 calls)
{
	struct vsmmu1_result res;

	smmu_cmd_op(cmds[n], SMMU_CMD_SYNC);
	ASSERT_EQ(0, vsmmu1_issue(&o->v, cmds, n + 1, &res)) {
		TH_LOG("batch stopped at %u: %s", res.cons, strerror(errno));
	}
	ASSERT_EQ(n + 1, res.cons);
	ASSERT_EQ(1u, res.syncs);
	ASSERT_EQ(calls, res.calls);
}

static void marker(struct __test_metadata *_metadata, struct one *o,
		   __u16 asid)
{
	cmd_t cmd[2];

	smmu_cmd_tlbi_nh_asid(cmd[0], asid);
	guest_sync(_metadata, o, cmd, 1, 2);
}

/* ---- stream_table: the vSID map on the real SMMUs -------------------- */

TEST(stream_table)
{
	struct vmm_pci pair[2];
	struct vmm_dev extra = { .fd = -1 };
	struct one o;
	const char *why = NULL;
	__u32 viommu[2];
	int idx, i;

	one_open(_metadata, &o);
	for (i = 0; i < 2; i++) {
		viommu[i] = o.v.viommu[i].viommu_id;
		ASSERT_NE(0u, viommu[i]);
		ASSERT_NE(0u, o.v.viommu[i].parent_id);
		ASSERT_EQ(0, strcmp(o.v.viommu[i].iommu, o.vd[i].dev.pci.iommu));
		ASSERT_EQ(i, vsmmu1_lookup(&o.v, i ? VSID1 : VSID0)->viommu);
	}
	ASSERT_NE(viommu[0], viommu[1]);
	ASSERT_NE(0, strcmp(o.v.viommu[0].iommu, o.v.viommu[1].iommu));
	ASSERT_EQ(NULL, vsmmu1_lookup(&o.v, VSID_NONE));
	ASSERT_EQ(ENOENT, errno);
	/* A device has one place in the table. */
	ASSERT_EQ(-EEXIST, vsmmu1_add_dev(&o.v, &o.vd[1].dev, 0x74, NULL));

	/* The second edu behind SMMU 0 joins SMMU 0's vIOMMU. */
	ASSERT_EQ(0, edutest_find_pair(pair));
	ASSERT_EQ(0, vmm_dev_open(&extra, &pair[1]));
	ASSERT_EQ(0, vmm_dev_bind(&extra, o.fd));
	/*
	 * The kernel takes vSID 0x72 on vIOMMU 0 (each vIOMMU has its own
	 * vSID space), but in the guest's one stream table it is the edu
	 * behind SMMU 1: the layer refuses it.
	 */
	ASSERT_EQ(0, vmm_viommu_set_dev_id(o.fd, viommu[0], extra.dev_id,
					   VSID1));
	ASSERT_EQ(0, vmm_viommu_unset_dev_id(o.fd, viommu[0], extra.dev_id,
					     VSID1));
	ASSERT_EQ(-EEXIST, vsmmu1_add_dev(&o.v, &extra, VSID1, NULL));
	ASSERT_EQ(EEXIST, errno);
	ASSERT_EQ(-EEXIST, vsmmu1_add_dev(&o.v, &extra, VSID0, NULL));
	ASSERT_EQ(0, vsmmu1_add_dev(&o.v, &extra, VSID_PAIR, &idx));
	ASSERT_EQ(0, idx);
	ASSERT_EQ(2, o.v.nr_viommus);
	ASSERT_EQ(3, o.v.nr_devs);
	/* The kernel's own rule still holds under the layer's. */
	ASSERT_EQ(-EEXIST, vmm_viommu_set_dev_id(o.fd, viommu[0], extra.dev_id,
						 0x75));
	ASSERT_EQ(-EINVAL, vmm_viommu_set_dev_id(o.fd, viommu[1], extra.dev_id,
						 0x75));
	ASSERT_EQ(0, vsmmu1_del_dev(&o.v, VSID_PAIR));
	ASSERT_EQ(NULL, vsmmu1_lookup(&o.v, VSID_PAIR));
	ASSERT_EQ(-ENOENT, vsmmu1_del_dev(&o.v, VSID_PAIR));
	vmm_dev_close(&extra);

	/* No direct-assigned VCMDQ: it would reach one SMMU only. */
	ASSERT_EQ(-EOPNOTSUPP, vsmmu1_hw_queue_alloc(&o.v, 0, GUEST_RAM_IPA,
						     PAGE, &why));
	ASSERT_NE(NULL, why);
	one_teardown(_metadata, &o);
}

/* ---- dma: one stream table, one CD, one table set, two SMMUs ---------- */

TEST(dma)
{
	struct one o;
	__u64 calls0, calls1;
	cmd_t cmd[2];
	int i;

	one_setup(_metadata, &o);
	for (i = 0; i < 2; i++)
		copy(_metadata, &o, i, 10, o.a, o.b, "VA_DST maps A");

	marker(_metadata, &o, MARK_BEGIN);
	/* The guest points VA_DST at B: both SMMUs still use A. */
	ASSERT_EQ(0, smmu_s1_map(&o.t1, VA_DST, o.b,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
	for (i = 0; i < 2; i++)
		copy(_metadata, &o, i, 11, o.a, o.b,
		     "stale translation expected before the TLBI (no IOTLB?)");
	/* One guest TLBI_NH_VA, two vIOMMUs: both devices see B. */
	smmu_cmd_tlbi_nh_va(cmd[0], ASID_A, VA_DST, true);
	guest_sync(_metadata, &o, cmd, 1, 2);
	for (i = 0; i < 2; i++)
		copy(_metadata, &o, i, 12, o.b, o.a,
		     "the guest's TLBI_NH_VA did not reach this SMMU");

	/* The CD moves to table t2 (VA_DST -> C), ASID_B: cached, stale. */
	write_cd(&o, ASID_B, o.t2.root);
	for (i = 0; i < 2; i++)
		copy(_metadata, &o, i, 13, o.b, o.c,
		     "new CD used before CFGI_CD (no config cache?)");
	/* CFGI_CD of vSID 0: only SMMU 0's vIOMMU is called. */
	calls0 = o.v.viommu[0].calls;
	calls1 = o.v.viommu[1].calls;
	smmu_cmd_cfgi_cd(cmd[0], VSID0, 0, true);
	guest_sync(_metadata, &o, cmd, 1, 1);
	ASSERT_EQ(calls0 + 1, o.v.viommu[0].calls);
	ASSERT_EQ(calls1, o.v.viommu[1].calls);
	copy(_metadata, &o, 0, 14, o.c, o.b,
	     "CFGI_CD of its vSID did not reach SMMU 0");
	copy(_metadata, &o, 1, 14, o.b, o.c,
	     "CFGI_CD of the other vSID refreshed SMMU 1's CD");

	marker(_metadata, &o, MARK_MID);
	calls0 = o.v.viommu[0].calls;
	calls1 = o.v.viommu[1].calls;
	smmu_cmd_cfgi_cd(cmd[0], VSID1, 0, true);
	guest_sync(_metadata, &o, cmd, 1, 1);
	ASSERT_EQ(calls1 + 1, o.v.viommu[1].calls);
	ASSERT_EQ(calls0, o.v.viommu[0].calls);
	copy(_metadata, &o, 1, 15, o.c, o.b,
	     "CFGI_CD of its vSID did not reach SMMU 1");
	copy(_metadata, &o, 0, 15, o.c, o.b, "SMMU 0 lost the new CD");
	marker(_metadata, &o, MARK_END);
	TH_LOG("vIOMMU %u (%s): %llu calls, vIOMMU %u (%s): %llu calls",
	       o.v.viommu[0].viommu_id, o.v.viommu[0].iommu,
	       (unsigned long long)o.v.viommu[0].calls,
	       o.v.viommu[1].viommu_id, o.v.viommu[1].iommu,
	       (unsigned long long)o.v.viommu[1].calls);
	one_teardown(_metadata, &o);
}

/* ---- batch_errors: what the guest's CMDQ reports, on the SMMUs -------- */

static void expect_stop(struct __test_metadata *_metadata, struct one *o,
			cmd_t *cmds, __u32 n, __u32 at, const __u64 *sent)
{
	struct vsmmu1_result res;
	__u64 before[2];
	int i;

	for (i = 0; i < 2; i++)
		before[i] = o->v.viommu[i].cmds;
	ASSERT_EQ(-EIO, vsmmu1_issue(&o->v, cmds, n, &res));
	ASSERT_EQ(at, res.cons);
	ASSERT_EQ((__u32)VSMMU1_CERROR_ILL, res.cerror);
	ASSERT_EQ(0u, res.syncs);
	/* The commands each vIOMMU's kernel call took. */
	for (i = 0; i < 2; i++)
		ASSERT_EQ(sent[i], o->v.viommu[i].cmds - before[i]) {
			TH_LOG("vIOMMU %d", i);
		}
}

TEST(batch_errors)
{
	struct one o;
	cmd_t c[6];
	int i;

	one_setup(_metadata, &o);
	for (i = 0; i < 2; i++)
		copy(_metadata, &o, i, 20, o.a, o.b, "VA_DST maps A");
	ASSERT_EQ(0, smmu_s1_map(&o.t1, VA_DST, o.b,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));

	/*
	 * [TLBI_NH_VA, CFGI_CD(unknown vSID), TLBI_NH_ALL, CMD_SYNC]: the
	 * queue stops at 1; the TLBI before it reached both SMMUs.
	 */
	smmu_cmd_tlbi_nh_va(c[0], ASID_A, VA_DST, true);
	smmu_cmd_cfgi_cd(c[1], VSID_NONE, 0, true);
	smmu_cmd_tlbi_nh_all(c[2]);
	smmu_cmd_op(c[3], SMMU_CMD_SYNC);
	expect_stop(_metadata, &o, c, 4, 1, (const __u64[]){ 1, 1 });
	for (i = 0; i < 2; i++)
		copy(_metadata, &o, i, 21, o.b, o.a,
		     "the TLBI before the refused command was not executed");

	/*
	 * ATC_INV of vSID 1 (no ATS: the kernel refuses it) at index 2:
	 * vIOMMU 1's call stops there, vIOMMU 0 took its three.
	 */
	smmu_cmd_tlbi_nh_asid(c[0], ASID_A);
	smmu_cmd_cfgi_cd(c[1], VSID0, 0, true);
	smmu_cmd_op(c[2], SMMU_CMD_ATC_INV);
	c[2][0] |= htole64(SMMU_FIELD(SMMU_CMD_0_SID, VSID1));
	smmu_cmd_cfgi_cd(c[3], VSID0, 0, true);
	smmu_cmd_op(c[4], SMMU_CMD_SYNC);
	expect_stop(_metadata, &o, c, 5, 2, (const __u64[]){ 3, 1 });

	/*
	 * vIOMMU 0 refuses guest command 1 (CFGI_CD with SSEC): vIOMMU 1,
	 * called after it, gets only command 0.
	 */
	smmu_cmd_tlbi_nh_asid(c[0], ASID_A);
	smmu_cmd_cfgi_cd(c[1], VSID0, 0, true);
	c[1][0] |= htole64(SMMU_CMD_0_SSEC);
	smmu_cmd_cfgi_cd(c[2], VSID1, 0, true);
	smmu_cmd_op(c[3], SMMU_CMD_SYNC);
	expect_stop(_metadata, &o, c, 4, 1, (const __u64[]){ 1, 1 });

	/* A reserved bit in a broadcast TLBI: both stop at it. */
	smmu_cmd_tlbi_nh_asid(c[0], ASID_A);
	smmu_cmd_tlbi_nh_va(c[1], ASID_A, VA_DST, true);
	c[1][1] |= htole64(SMMU_BIT(4));
	smmu_cmd_cfgi_cd(c[2], VSID1, 0, true);
	expect_stop(_metadata, &o, c, 3, 1, (const __u64[]){ 1, 1 });

	/* TLBI_S2_IPA: the layer refuses it, nothing after is sent. */
	smmu_cmd_cfgi_cd(c[0], VSID1, 0, true);
	smmu_cmd_op(c[1], SMMU_CMD_TLBI_S2_IPA);
	smmu_cmd_cfgi_cd(c[2], VSID0, 0, true);
	expect_stop(_metadata, &o, c, 3, 1, (const __u64[]){ 0, 1 });
	one_teardown(_metadata, &o);
}

TEST_HARNESS_MAIN

#endif /* VSMMU1_HAVE */
