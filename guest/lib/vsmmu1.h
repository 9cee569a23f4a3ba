/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsmmu1.h: one guest vSMMU over N physical SMMUs ("one vSMMU, N
 * vIOMMUs"), the second shape of the SET_DEV_ID review thread.
 *
 * The first shape (lib/vmm.h, viommu-demo, QEMU 11.1) gives the guest one
 * vSMMU per physical SMMU: each vSMMU is backed by one vIOMMU, its command
 * queue goes to that vIOMMU only, and a Tegra241 VCMDQ can be handed to
 * the guest as is. In this second shape the guest sees ONE vSMMU: one
 * stream table, one ASID space, one command queue, whichever physical SMMU
 * its devices sit behind. The VMM keeps one vIOMMU per physical SMMU, all
 * on the VM's one IOAS (each over a nesting-parent HWPT of its own,
 * allocated on a device of that SMMU: a parent belongs to one SMMU), traps
 * the guest's command queue, and for each command selects the vIOMMU that
 * owns the device, or broadcasts:
 *
 *	command				goes to		why
 *	CFGI_CD, CFGI_CD_ALL, ATC_INV	the vIOMMU	it names a StreamID: one
 *					owning the vSID	device, behind one SMMU
 *	TLBI_NH_ASID, TLBI_NH_VA,	every vIOMMU	an ASID (or all of them)
 *	TLBI_NH_VAA, TLBI_NH_ALL,			of the guest's one ASID
 *	TLBI_NSNH_ALL					space may be cached by
 *							any SMMU it uses
 *	CMD_SYNC			none: the VMM	it completes when every
 *					completes it	vIOMMU that got part of the
 *							batch has returned
 *	CFGI_STE, CFGI_STE_RANGE,	the VMM's own	an STE is the VMM's
 *	CFGI_ALL, PREFETCH_*		(a callback)	(it makes the nested HWPT)
 *	anything else (TLBI_S2_IPA,	refused:	a stage-1-only vSMMU has no
 *	TLBI_S12_VMALL, TLBI_EL2_*,	CERROR_ILL	such command; the kernel
 *	unknown opcodes)				refuses them too
 *
 * The sequence:
 *
 *	vsmmu1_init()		the VM's iommufd and IOAS (its RAM, stage 2)
 *	vsmmu1_add_dev()	a device and its vSID in the guest's one stream
 *				table: the vIOMMU of its SMMU (made on the
 *				first device behind it), SET_DEV_ID
 *	vsmmu1_attach()		the guest's STE of a vSID: a nested HWPT on
 *				the owning vIOMMU, the device attached to it
 *	vsmmu1_issue()		each time the guest's CMDQ PROD moves: the
 *				commands, split, forwarded, CMD_SYNCs completed;
 *				what the guest's CMDQ_CONS (and its ERR field)
 *				must then say
 *	vsmmu1_detach(), vsmmu1_del_dev(), vsmmu1_destroy()
 *
 * What the guest loses in this shape (and why vsmmu1_hw_queue_alloc()
 * always refuses): a direct-assigned VCMDQ (Tegra241 CMDQV) is an MMIO
 * page of one physical SMMU. The guest's commands written there reach
 * that SMMU with no VM exit, so the VMM can neither send a CFGI_CD to the
 * SMMU of its device nor copy a TLBI to the other SMMUs: with one vSMMU
 * over N SMMUs a VCMDQ would silently miss N-1 of them.
 *
 * Order: the commands each vIOMMU receives are in the guest's order, and
 * a CMD_SYNC (or a command the VMM handles itself) is a barrier: what came
 * before it is issued, on every vIOMMU concerned, before anything after
 * it. Between barriers the vIOMMUs are called one after the other, each
 * with its whole share of the batch in one IOMMU_HWPT_INVALIDATE.
 *
 * Errors, as the guest's CMDQ reports them: the queue stops at the first
 * command that fails (CMDQ_CONS.ERR = CERROR_ILL, CONS = its index); every
 * command before it has been executed. A command the layer refuses itself
 * (an unknown vSID, as the kernel would refuse it with EIO; an illegal
 * opcode) stops the batch before anything after it is forwarded. When the
 * kernel refuses one (a reserved bit set, ATC_INV without ATS), the
 * vIOMMUs called after the failing one only get the commands before it,
 * but those called before it may have executed commands after it: extra
 * invalidations, which the architecture allows at any time (an SMMU may
 * drop cached entries whenever it likes), and which the guest repeats
 * harmlessly when it restarts the queue at CONS.
 *
 * Errors of the functions: 0 or a negative errno, errno set, as vmm.h.
 */
#ifndef VSMMU1_H
#define VSMMU1_H

#include <stdbool.h>
#include <linux/types.h>

#include "vmm.h"

#ifdef VMM_HAVE_VIOMMU
#define VSMMU1_HAVE 1

#define VSMMU1_MAX_VIOMMUS	8	/* physical SMMUs of one VM */
#define VSMMU1_MAX_DEVS		64	/* vSIDs in the guest's stream table */
#define VSMMU1_SUB_MAX		256	/* commands per vIOMMU per call */

/* CMDQ_CONS.ERR values (SMMUv3 "Command errors"). */
#define VSMMU1_CERROR_NONE	0
#define VSMMU1_CERROR_ILL	1

/* Where a guest command goes (vsmmu1_route()). */
enum vsmmu1_route {
	VSMMU1_TO_OWNER,	/* the vIOMMU owning the command's vSID */
	VSMMU1_TO_ALL,		/* every vIOMMU */
	VSMMU1_SYNC,		/* completed by the VMM after a flush */
	VSMMU1_TO_VMM,		/* the VMM's own (STE, prefetch) */
	VSMMU1_ILLEGAL,		/* refused: CERROR_ILL */
};

/* One physical SMMU of the VM: its vIOMMU. */
struct vsmmu1_viommu {
	char iommu[64];		/* /sys/class/iommu/NAME of the SMMU */
	__u32 parent_id;	/* nesting parent (on this SMMU), 0 if not ours */
	__u32 viommu_id;
	bool owned;		/* made by vsmmu1_add_dev(): destroy frees it */
	/* What vsmmu1_issue() sent: calls made, commands the kernel took. */
	__u64 calls, cmds;
};

/* One entry of the guest's stream table. */
struct vsmmu1_dev {
	__u32 vsid;
	__u32 dev_id;
	int viommu;		/* index in vsmmu1.viommu[] */
	__u32 nested_id;	/* vsmmu1_attach()'s HWPT, 0 if none */
};

struct vsmmu1;

/*
 * Forward @*num commands to vIOMMU @idx; on return *@num = how many were
 * handled (on failure: the index of the failing one). 0 or -errno.
 */
typedef int (*vsmmu1_issue_fn)(struct vsmmu1 *v, int idx,
			       const __le64 (*cmds)[2], __u32 *num);
/* A command the VMM handles itself (CFGI_STE, ...): 0, or -errno = ILL. */
typedef int (*vsmmu1_local_fn)(struct vsmmu1 *v, const __le64 cmd[2]);

struct vsmmu1 {
	int iommufd;
	__u32 ioas_id;		/* the VM's RAM: every parent is on it */
	int nr_viommus;
	struct vsmmu1_viommu viommu[VSMMU1_MAX_VIOMMUS];
	int nr_devs;
	struct vsmmu1_dev dev[VSMMU1_MAX_DEVS];
	/*
	 * vsmmu1_init() sets @issue to IOMMU_HWPT_INVALIDATE on the
	 * vIOMMU (a test may put a recorder there) and @local to NULL:
	 * without one, STE and prefetch commands complete with no effect
	 * (a VMM that rebuilds nested HWPTs on CFGI_STE sets it, and calls
	 * vsmmu1_attach() from it). @priv is the caller's.
	 */
	vsmmu1_issue_fn issue;
	vsmmu1_local_fn local;
	void *priv;
	/* The pending share of each vIOMMU, with each command's index. */
	__u32 sub_n[VSMMU1_MAX_VIOMMUS];
	__le64 sub[VSMMU1_MAX_VIOMMUS][VSMMU1_SUB_MAX][2];
	__u32 sub_at[VSMMU1_MAX_VIOMMUS][VSMMU1_SUB_MAX];
};

/* What the guest's command queue says after vsmmu1_issue(). */
struct vsmmu1_result {
	__u32 cons;		/* commands consumed: all, or the failing one */
	__u32 cerror;		/* VSMMU1_CERROR_NONE or _ILL */
	int err;		/* 0, or why it stopped (-EIO: the kernel's) */
	__u32 syncs;		/* CMD_SYNCs completed */
	__u32 calls;		/* IOMMU_HWPT_INVALIDATE calls made */
	__u32 local;		/* commands the VMM handled itself */
};

/* Where @cmd goes; *@sid (may be NULL) gets its StreamID for TO_OWNER. */
enum vsmmu1_route vsmmu1_route(const __le64 cmd[2], __u32 *sid);

/* An empty vSMMU over the VM's @iommufd and @ioas_id. */
void vsmmu1_init(struct vsmmu1 *v, int iommufd, __u32 ioas_id);
/*
 * Put @dev (bound to the VM's iommufd) in the guest's stream table at
 * @vsid. The vIOMMU of its SMMU (by dev->pci.iommu) is made the first
 * time: a nesting parent on the IOAS, allocated on this device, and an
 * IOMMU_VIOMMU_TYPE_ARM_SMMUV3 vIOMMU over it; then SET_DEV_ID. EEXIST:
 * @vsid is in the table already (on any SMMU: one vSMMU has one vSID
 * space, which no single vIOMMU can check), or the device is; ENOSPC: a
 * table is full; ENODEV: the device names no IOMMU. The kernel's errnos
 * otherwise. On failure nothing is left. *@idx (may be NULL): the vIOMMU.
 */
int vsmmu1_add_dev(struct vsmmu1 *v, const struct vmm_dev *dev, __u32 vsid,
		   int *idx);
/*
 * A vIOMMU the VMM made itself (IOMMU_VIOMMU_TYPE_ARM_SMMUV3 on a parent
 * of its SMMU on the IOAS), and a vSID it gave with SET_DEV_ID or
 * VDEVICE_ALLOC: recorded only; vsmmu1_destroy() leaves them.
 */
int vsmmu1_add_viommu(struct vsmmu1 *v, const char *iommu, __u32 viommu_id);
int vsmmu1_record_dev(struct vsmmu1 *v, int idx, __u32 dev_id, __u32 vsid);
/* The stream table entry of @vsid, or NULL (errno ENOENT). */
struct vsmmu1_dev *vsmmu1_lookup(struct vsmmu1 *v, __u32 vsid);
/*
 * The guest wrote the STE of @vsid (@ste: its words 0-1): a nested HWPT
 * on the owning vIOMMU, @dev attached to it (a previous one replaced and
 * destroyed). ENOENT: @vsid is not in the table.
 */
int vsmmu1_attach(struct vsmmu1 *v, __u32 vsid, struct vmm_dev *dev,
		  const __le64 ste[2]);
/* Back to the nesting parent, the nested HWPT destroyed. */
int vsmmu1_detach(struct vsmmu1 *v, __u32 vsid, struct vmm_dev *dev);
/* UNSET_DEV_ID (EBUSY while attached to a nested HWPT of it). */
int vsmmu1_del_dev(struct vsmmu1 *v, __u32 vsid);
/*
 * The guest's commands @cmds[0..@num) (its CMDQ from CONS to PROD),
 * forwarded as the table above says. Returns 0 when all completed, else
 * res->err; *@res says what CMDQ_CONS says.
 */
int vsmmu1_issue(struct vsmmu1 *v, const __le64 (*cmds)[2], __u32 num,
		 struct vsmmu1_result *res);
/*
 * A direct-assigned VCMDQ for the guest: always EOPNOTSUPP in this shape,
 * *@why (may be NULL) saying why.
 */
int vsmmu1_hw_queue_alloc(struct vsmmu1 *v, __u32 index, __u64 ipa,
			  __u64 len, const char **why);
extern const char vsmmu1_vcmdq_refusal[];
/*
 * The vIOMMUs and parents vsmmu1_add_dev() made (devices closed or
 * detached and deleted first). 0 or the first error.
 */
int vsmmu1_destroy(struct vsmmu1 *v);

#endif /* VMM_HAVE_VIOMMU */
#endif
