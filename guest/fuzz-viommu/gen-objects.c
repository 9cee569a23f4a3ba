// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-viommu, the generators of objects and attachments: random and
 * mutated IOMMU_VIOMMU_ALLOC, SET/UNSET_DEV_ID, IOMMU_VDEVICE_ALLOC,
 * nested IOMMU_HWPT_ALLOC on a vIOMMU, attach and detach, IOMMU_DESTROY,
 * unbind and bind again. Each predicts its answer from the model, makes
 * the call and moves the model on if it succeeded. See fuzz.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fuzz.h"

#if defined(VMM_HAVE_VIOMMU) && defined(VMM_HAVE_HW_QUEUE)

/* ---- IOMMU_VIOMMU_ALLOC ------------------------------------------------ */

void op_viommu_alloc(void)
{
	union {
		struct iommu_viommu_alloc cmd;
		__u8 raw[64];
	} u = {};
	struct iommu_viommu_alloc *cmd = &u.cmd;
	struct iommu_viommu_selftest data = { .in_data = rnd() };
	struct fdev *d = pick_dev();
	int v, want = 0, iommu, p, ret, mut, k, h;
	static char opname[128];

	cur_op = "VIOMMU_ALLOC";
	for (v = 0; v < MAX_VIOMMU && S.viommu[v].live; v++)
		;
	if (!d || v == MAX_VIOMMU)
		return;
	iommu = d->iommu;
	p = chance(85) ? iommu : !iommu;
	cmd->size = sizeof(*cmd);
	cmd->dev_id = d->dev_id;
	cmd->hwpt_id = S.parent[p].live ? S.parent[p].id : bogus_id();
	cmd->type = mode == MOCK ? IOMMU_VIOMMU_TYPE_SELFTEST :
				   IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
	if (mode == MOCK && chance(50)) {
		cmd->data_uptr = (uintptr_t)&data;
		cmd->data_len = sizeof(data);
	}
	if (!S.parent[p].live)
		want = -ENOENT;
	else if (p != iommu)
		want = -EINVAL;

	/* At most one mutation, whose answer uapi.md fixes */
	mut = chance(50) ? rn(12) : 99;
	snprintf(opname, sizeof(opname),
		 "VIOMMU_ALLOC(dev %u iommu %d, parent %u iommu %d, mutation %d)",
		 d->dev_id, iommu, cmd->hwpt_id, p, mut);
	cur_op = opname;
	switch (mut) {
	case 0:
		cmd->flags = 1u << rn(32);
		want = -EOPNOTSUPP;
		break;
	case 1:
		cmd->__reserved = 1u << rn(32);
		want = -EOPNOTSUPP;
		break;
	case 2:
		cmd->dev_id = bogus_id();
		want = want == -ENOENT ? want : -ENOENT;
		break;
	case 3: {
		static const __u32 types[] = { 0, 2, 3, 0x1234, 0xdeadbeee };

		cmd->type = types[rn(5)];
		if (mode == SMMU && chance(30))
			cmd->type = IOMMU_VIOMMU_TYPE_SELFTEST;
		if (mode == MOCK && chance(30))
			cmd->type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
		/*
		 * The dual topology's SMMUs have a Tegra241 CMDQV, so type 2
		 * exists there; without its driver data (the VINTF page's mmap
		 * pair goes back through it) it is EINVAL, after the parent.
		 */
		if (mode == SMMU &&
		    cmd->type == IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV)
			want = want ? want : -EINVAL;
		else
			want = -EOPNOTSUPP;
		break;
	}
	case 4:
		/* An IOAS is not a HWPT_PAGING */
		cmd->hwpt_id = S.ioas;
		want = -ENOENT;
		break;
	case 5:
		/* A paging HWPT that is not a nesting parent */
		if (!S.parent[iommu].plain_id)
			return;
		cmd->hwpt_id = S.parent[iommu].plain_id;
		want = -EINVAL;
		break;
	case 6:
		/*
		 * As in mainline, data_len alone says if there is data: the
		 * driver reads it, after the parent's checks
		 */
		cmd->data_len = sizeof(data);
		cmd->data_uptr = 0;
		want = want ? want : mode == MOCK ? -EFAULT : -EOPNOTSUPP;
		break;
	case 7:
		/* No data: data_uptr is ignored, as in mainline */
		cmd->data_len = 0;
		cmd->data_uptr = (uintptr_t)&data;
		break;
	case 8:
		/*
		 * Shorter: below out_viommu_id EINVAL; the data fields after it
		 * are an extension, a struct without them has no data
		 */
		cmd->size = rn(offsetof(struct iommu_viommu_alloc, data_len) + 8);
		if (cmd->size < offsetof(struct iommu_viommu_alloc, data_len)) {
			want = -EINVAL;
		} else {
			cmd->data_len = 0;
			cmd->data_uptr = 0;
		}
		break;
	case 9:
		/* Longer: trailing bytes must be zero */
		cmd->size = sizeof(*cmd) + 1 + rn(sizeof(u) - sizeof(*cmd) - 1);
		if (chance(50)) {
			u.raw[sizeof(*cmd) + rn(cmd->size - sizeof(*cmd))] = 1 + rn(255);
			want = -E2BIG;
		}
		break;
	case 10:
		if (mode == SMMU) {
			/* IOMMU_VIOMMU_TYPE_ARM_SMMUV3 takes no data */
			cmd->data_uptr = (uintptr_t)&data;
			cmd->data_len = sizeof(data);
			want = want ? want : -EOPNOTSUPP;
		} else {
			cmd->data_uptr = 16;	/* unmapped */
			cmd->data_len = sizeof(data);
			want = want ? want : -EFAULT;
		}
		break;
	case 11:
		/* A nested HWPT or a vIOMMU is not a nesting parent either */
		/*
		 * Only live ones: a stale id may name an auto-domain HWPT
		 * that an attach to the IOAS made meanwhile
		 */
		k = pick_viommu();
		h = rn(MAX_NESTED);
		cmd->hwpt_id = S.viommu[k].live ? S.viommu[k].id :
			       S.nested[h].live ? S.nested[h].id : bogus_id();
		want = -ENOENT;
		break;
	}
	ret = fioctl(S.fd, IOMMU_VIOMMU_ALLOC, cmd);
	if (!check(ret, want))
		return;
	check_new_id("vIOMMU", cmd->out_viommu_id);
	S.viommu[v].live = true;
	S.viommu[v].id = cmd->out_viommu_id;
	S.viommu[v].iommu = iommu;
	S.viommu[v].nids = 0;
	S.viommu[v].nnested = 0;
	S.viommu[v].nqueues = 0;
	S.viommu[v].map = NULL;
	S.viommu[v].mmap_off = 0;
	S.viommu[v].mmap_len = 0;
	S.viommu[v].is_tegra = false;
	S.parent[iommu].users++;
	if (!cmd->data_len)
		return;
	if (data.out_data != ~data.in_data)
		report("vIOMMU data: in 0x%x out 0x%x", data.in_data,
		       data.out_data);
	/* One page, at a page-aligned offset no other vIOMMU has */
	if (data.out_mmap_length != pgsz || data.out_mmap_offset % pgsz)
		report("vIOMMU mmap pair: offset 0x%llx length 0x%llx",
		       (unsigned long long)data.out_mmap_offset,
		       (unsigned long long)data.out_mmap_length);
	for (k = 0; k < MAX_VIOMMU; k++)
		if (k != v && S.viommu[k].live && S.viommu[k].mmap_len &&
		    S.viommu[k].mmap_off == data.out_mmap_offset)
			report("vIOMMU mmap offset 0x%llx is also vIOMMU %u's",
			       (unsigned long long)data.out_mmap_offset,
			       S.viommu[k].id);
	S.viommu[v].in_data = data.in_data;
	S.viommu[v].mmap_off = data.out_mmap_offset;
	S.viommu[v].mmap_len = data.out_mmap_length;
	old_offs[rn(8)] = data.out_mmap_offset;
}

/* ---- SET_DEV_ID / UNSET_DEV_ID ------------------------------------- */

/* The largest virtual ID: 20 bits in a Tegra241 VINTF's SID_MATCH */
static __u64 vid_max(const struct fviommu *vi)
{
	return vi->is_tegra ? 0xfffff : 0xffffffffull;
}

void op_set_dev_id(bool set)
{
	struct iommu_viommu_set_dev_id cmd = { .size = sizeof(cmd) };
	struct fdev *d = pick_dev();
	int v = pick_viommu(), want = 0, ret;
	struct fviommu *vi = &S.viommu[v];
	__u64 vid = pick_vid();

	cur_op = set ? "SET_DEV_ID" : "UNSET_DEV_ID";
	if (!d)
		return;
	/* UNSET mostly with the recorded pair, to get past the checks */
	if (!set && d->viommu >= 0 && chance(70)) {
		v = d->viommu;
		vi = &S.viommu[v];
		vid = d->vid;
	}
	cmd.viommu_id = viommu_id_of(v);
	cmd.dev_id = d->dev_id;
	cmd.id = vid;
	if (chance(5)) {
		cmd.__reserved = 1;
		want = -EOPNOTSUPP;
	} else if (!vi->live) {
		want = -ENOENT;
	} else if (chance(5)) {
		cmd.dev_id = bogus_id();
		want = -ENOENT;
	} else if (set) {
		if (d->iommu != vi->iommu || vid > vid_max(vi))
			want = -EINVAL;
		else if (d->viommu >= 0 || model_vid_owner(v, vid) >= 0)
			want = -EEXIST;
		else if (mode == MOCK && vi->nids >= MOCK_VIOMMU_VDEV_ID_SLOTS)
			want = -ENOSPC;
		else if (vi->is_tegra && vi->nids >= (int)hw.npairs[vi->iommu])
			want = -ENOSPC;	/* no SID_MATCH/SID_REPLACE pair left */
	} else {
		if (d->viommu != v || d->vid != vid)
			want = -EINVAL;
		else if (d->vdev >= 0)
			want = -EBUSY;	/* the vDEVICE owns it */
		else if (d->att == ATT_NESTED &&
			 S.nested[d->att_idx].viommu == v &&
			 S.nested[d->att_idx].translates)
			want = -EBUSY;
	}
	ret = fioctl(S.fd, set ? IOMMU_VIOMMU_SET_DEV_ID :
				 IOMMU_VIOMMU_UNSET_DEV_ID, &cmd);
	if (!check(ret, want))
		return;
	if (set) {
		d->viommu = v;
		d->vid = vid;
		vi->nids++;
		if (vi->is_tegra)
			vi->devs_seen |= 1u << (d - S.dev);
	} else {
		d->viommu = -1;
		vi->nids--;
	}
}

/* ---- IOMMU_VDEVICE_ALLOC, and DESTROY of a vDEVICE ----------------- */

void op_vdevice(void)
{
	int k = rn(MAX_VDEV), want = 0, ret;

	if (S.vdev[k].live && chance(60)) {
		struct iommu_destroy cmd = {
			.size = sizeof(cmd), .id = S.vdev[k].id,
		};
		struct fdev *d = &S.dev[S.vdev[k].dev];

		cur_op = "DESTROY(vDEVICE)";
		/* An attachment that uses the ID holds the vDEVICE */
		if (id_in_use_by_attach(d))
			want = -EBUSY;
		ret = fioctl(S.fd, IOMMU_DESTROY, &cmd);
		if (!check(ret, want))
			return;
		S.vdev[k].live = false;
		S.viommu[d->viommu].nids--;
		d->viommu = -1;
		d->vdev = -1;
		return;
	}

	cur_op = "VDEVICE_ALLOC";
	if (!S.vdev[k].live) {
		struct iommu_vdevice_alloc cmd = { .size = sizeof(cmd) };
		struct fdev *d = pick_dev();
		int v = pick_viommu();
		struct fviommu *vi = &S.viommu[v];
		__u64 vid = pick_vid();

		if (!d)
			return;
		cmd.viommu_id = viommu_id_of(v);
		cmd.dev_id = chance(5) ? bogus_id() : d->dev_id;
		cmd.virt_id = vid;
		/* The rules of SET_DEV_ID, in the kernel's order */
		if (!vi->live || cmd.dev_id != d->dev_id)
			want = -ENOENT;
		else if (d->iommu != vi->iommu || vid > vid_max(vi))
			want = -EINVAL;
		else if (d->viommu >= 0 || model_vid_owner(v, vid) >= 0)
			want = -EEXIST;
		else if (mode == MOCK && vi->nids >= MOCK_VIOMMU_VDEV_ID_SLOTS)
			want = -ENOSPC;
		else if (vi->is_tegra && vi->nids >= (int)hw.npairs[vi->iommu])
			want = -ENOSPC;	/* no SID_MATCH/SID_REPLACE pair left */
		ret = fioctl(S.fd, IOMMU_VDEVICE_ALLOC, &cmd);
		if (!check(ret, want))
			return;
		model_vdev_new(k, d, cmd.out_vdevice_id);
		d->viommu = v;
		d->vid = vid;
		vi->nids++;
		if (vi->is_tegra)
			vi->devs_seen |= 1u << (d - S.dev);
		return;
	}
	/* A live slot, not destroyed: a vDEVICE id that names nothing */
	{
		struct iommu_destroy cmd = {
			.size = sizeof(cmd), .id = bogus_id(),
		};

		cur_op = "DESTROY(stale)";
		check(fioctl(S.fd, IOMMU_DESTROY, &cmd), -ENOENT);
	}
}

/* ---- nested HWPT on a vIOMMU -------------------------------------- */

static void random_vste(__u64 ste[2])
{
	static const unsigned int cfgs[] = { 0, 4, 5, 5, 5 };

	ste[0] = SMMU_STE_0_V | SMMU_FIELD(SMMU_STE_0_CFG, cfgs[rn(5)]) |
		 SMMU_FIELD(SMMU_STE_0_S1CTXPTR, rnd() >> 20);
	ste[1] = rnd() & (SMMU_STE_1_S1DSS | SMMU_STE_1_S1CIR |
			  SMMU_STE_1_S1COR | SMMU_STE_1_S1CSH);
	if (chance(10))
		ste[1] |= SMMU_FIELD(SMMU_STE_1_EATS, 1);
	if (chance(5))
		ste[0] &= ~SMMU_STE_0_V;
	if (chance(30))
		ste[rn(2)] ^= 1ull << rn(64);
	if (chance(5)) {
		ste[0] = rnd();
		ste[1] = rnd();
	}
}

void op_nested_alloc(void)
{
	struct iommu_hwpt_alloc cmd = { .size = sizeof(cmd) };
	struct iommu_hwpt_selftest mock = {
		.iotlb = chance(30) ? IOMMU_TEST_IOTLB_NO_TRANSLATE : rnd(),
	};
	__u64 ste[2] = {};
	__u8 big[32] = {};
	struct fdev *d = pick_dev();
	int v = pick_viommu(), h, want = 0, ret;
	struct fviommu *vi = &S.viommu[v];

	cur_op = "HWPT_ALLOC(nested)";
	for (h = 0; h < MAX_NESTED && S.nested[h].live; h++)
		;
	if (!d || h == MAX_NESTED)
		return;
	cmd.dev_id = d->dev_id;
	cmd.pt_id = viommu_id_of(v);
	if (mode == MOCK) {
		cmd.data_type = IOMMU_HWPT_DATA_SELFTEST;
		cmd.data_uptr = (uintptr_t)&mock;
		cmd.data_len = sizeof(mock);
	} else {
		random_vste(ste);
		cmd.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3;
		cmd.data_uptr = (uintptr_t)ste;
		cmd.data_len = sizeof(ste);
	}
	if (!vi->live)
		want = -EINVAL;		/* pt_id names no object */
	else if (d->iommu != vi->iommu)
		want = -EINVAL;
	else if (mode == SMMU)
		want = vste_errno(ste[0], ste[1]);

	switch (chance(40) ? rn(7) : 99) {
	case 0:
		cmd.__reserved = 1;
		want = -EOPNOTSUPP;
		break;
	case 1:
		cmd.data_len = 0;
		want = -EINVAL;		/* a data type without data */
		break;
	case 2:
		cmd.dev_id = bogus_id();
		want = -ENOENT;
		break;
	case 3:
		if (want != -EINVAL) {
			cmd.flags = 1u << rn(32);
			if (cmd.flags != IOMMU_HWPT_FAULT_ID_VALID)
				want = -EOPNOTSUPP;
			else if (!want)
				want = -ENOENT;	/* fault_id 0 */
		}
		break;
	case 4:
		/* The other driver's data type */
		if (want != -EINVAL) {
			cmd.data_type = mode == MOCK ? IOMMU_HWPT_DATA_ARM_SMMUV3 :
						       IOMMU_HWPT_DATA_SELFTEST;
			want = mode == MOCK ? -EOPNOTSUPP : -EINVAL;
		}
		break;
	case 5:
		/*
		 * Longer data than the driver's struct: 6.12's
		 * iommu_copy_struct_from_user() takes none (EINVAL), unlike
		 * the invalidation arrays (E2BIG only for non-zero bytes)
		 */
		if (want != -EINVAL) {
			memcpy(big, (void *)(uintptr_t)cmd.data_uptr,
			       cmd.data_len);
			if (chance(50))
				big[cmd.data_len + rn(sizeof(big) - cmd.data_len)] = 1;
			cmd.data_uptr = (uintptr_t)big;
			cmd.data_len = sizeof(big);
			want = -EINVAL;
		}
		break;
	case 6:
		if (want != -EINVAL) {
			cmd.data_len = 1 + rn(cmd.data_len - 1);
			want = -EINVAL;
		}
		break;
	}
	ret = fioctl(S.fd, IOMMU_HWPT_ALLOC, &cmd);
	if (ret == 0 && mode == SMMU && vste_errno(ste[0], ste[1]) &&
	    cmd.data_uptr == (uintptr_t)ste)
		report("accepted an illegal vSTE %016llx %016llx",
		       (unsigned long long)ste[0], (unsigned long long)ste[1]);
	if (!check(ret, want))
		return;
	check_new_id("nested HWPT", cmd.out_hwpt_id);
	S.nested[h].live = true;
	S.nested[h].id = cmd.out_hwpt_id;
	S.nested[h].viommu = v;
	S.nested[h].users = 0;
	/* Only a stage-1 configuration names the device by its ID */
	if (mode == MOCK)
		S.nested[h].translates =
			mock.iotlb != IOMMU_TEST_IOTLB_NO_TRANSLATE;
	else
		S.nested[h].translates =
			(ste[0] & SMMU_STE_0_V) &&
			SMMU_GET(SMMU_STE_0_CFG, ste[0]) == SMMU_STE_0_CFG_S1;
	vi->nnested++;
}

/* ---- attach ------------------------------------------------------------ */

/*
 * Attach @d to @pt_id: a mock device in the fault window; a VFIO attach,
 * replace or detach of an edu (testdev_ioctl) outside it: when the new
 * domain fails to attach, 6.12's iommu core puts the old one
 * back with a must-succeed call, and arm-smmu-v3's attach allocates; an
 * injected failure there is a WARN in code older than the vIOMMU (seen with
 * seed 0x89cc0c45d00085). The vIOMMU's own paths stay in the window.
 */
static int dev_attach(struct fdev *d, __u32 pt_id)
{
	if (mode == MOCK) {
		int ret = mock_dev_replace(S.fd, d->stdev_id, pt_id, fioctl);

		/*
		 * The selftest op copies its answer out after the replace,
		 * and does not undo the replace when that copy fails: an
		 * EFAULT leaves the device on either domain. Replacing with
		 * the same domain again outside the fault window settles it
		 * (a replace to the current domain is a no-op), and its
		 * answer is the one the model must follow.
		 */
		if (ret == -EFAULT)
			ret = mock_dev_replace(S.fd, d->stdev_id, pt_id, NULL);
		return ret;
	} else {
		struct vfio_device_attach_iommufd_pt cmd = {
			.argsz = sizeof(cmd), .pt_id = pt_id,
		};

		return testdev_ioctl(d->vd.fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd);
	}
}

void op_attach(void)
{
	struct fdev *d = pick_dev();
	int kind = rn(4), idx = 0, want = 0, ret;
	__u32 pt;

	cur_op = "attach";
	if (!d)
		return;
	switch (kind) {
	case 0:
		pt = S.ioas;
		break;
	case 1:
		idx = chance(80) ? d->iommu : !d->iommu;
		if (!S.parent[idx].live)
			return;
		pt = S.parent[idx].id;
		/* Another SMMU's page table: EINVAL (the mock does not care) */
		if (idx != d->iommu) {
			if (mode == MOCK)
				return;
			want = -EINVAL;
		}
		break;
	case 2:
		idx = rn(MAX_NESTED);
		if (!S.nested[idx].live)
			return;
		pt = S.nested[idx].id;
		/*
		 * Only with a virtual ID on the nested HWPT's vIOMMU, if it
		 * translates; abort and bypass take any device
		 */
		if (S.nested[idx].translates &&
		    d->viommu != S.nested[idx].viommu)
			want = -ENOENT;
		/* and only a device behind the vIOMMU's physical SMMU */
		else if (d->iommu != S.viommu[S.nested[idx].viommu].iommu)
			want = -EINVAL;
		break;
	default:
		/* VFIO detach (the mock devices have no detach) */
		if (mode == MOCK)
			return;
		cur_op = "detach";
		{
			struct vfio_device_detach_iommufd_pt cmd = {
				.argsz = sizeof(cmd),
			};

			ret = testdev_ioctl(d->vd.fd,
					 VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd);
		}
		/* Detaching a detached device is a no-op that succeeds */
		if (check(ret, 0))
			model_detach(d);
		return;
	}
	ret = dev_attach(d, pt);
	if (!check(ret, want))
		return;
	model_detach(d);
	d->att = kind == 0 ? ATT_IOAS : kind == 1 ? ATT_PARENT : ATT_NESTED;
	d->att_idx = idx;
	if (kind == 1)
		S.parent[idx].users++;
	if (kind == 2)
		S.nested[idx].users++;
}

/* ---- IOMMU_DESTROY --------------------------------------------------- */

void op_destroy(void)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd) };
	int want, ret, i = 0, k = rn(6);

	cur_op = "DESTROY";
	switch (k) {
	case 0:
		i = pick_viommu();
		if (!S.viommu[i].live)
			return;
		cmd.id = S.viommu[i].id;
		/*
		 * Its IDs (and vDEVICEs), nested HWPTs, HW queues, vEVENTQs
		 * and mapping hold it
		 */
		want = S.viommu[i].nids || S.viommu[i].nnested ||
		       S.viommu[i].nqueues || S.viommu[i].nvevqs ||
		       S.viommu[i].map ? -EBUSY : 0;
		break;
	case 5:
		i = rn(MAX_QUEUE);
		if (!S.queue[i].live)
			return;
		cmd.id = S.queue[i].id;
		/* The next queue of its vIOMMU depends on it */
		want = queue_of(S.queue[i].viommu, S.queue[i].index + 1) >= 0 ?
		       -EBUSY : 0;
		break;
	case 1:
	case 2:
		i = rn(MAX_NESTED);
		if (!S.nested[i].live)
			return;
		cmd.id = S.nested[i].id;
		want = S.nested[i].users ? -EBUSY : 0;
		break;
	case 3:
		i = rn(MAX_IOMMU);
		if (!S.parent[i].live)
			return;
		cmd.id = S.parent[i].id;
		want = S.parent[i].users ? -EBUSY : 0;
		break;
	default:
		if (chance(50)) {
			struct fdev *d = pick_dev();

			if (!d)
				return;
			/* The VFIO driver owns the device object */
			cmd.id = d->dev_id;
			want = -EBUSY;
		} else {
			cmd.id = bogus_id();
			want = -ENOENT;
		}
		break;
	}
	ret = fioctl(S.fd, IOMMU_DESTROY, &cmd);
	if (!check(ret, want) || k == 4)
		return;
	if (k == 0) {
		if (S.viommu[i].is_tegra)
			tegra_viommu_gone(i);
		S.viommu[i].live = false;
		S.parent[S.viommu[i].iommu].users--;
	} else if (k == 3) {
		S.parent[i].live = false;
	} else if (k == 5) {
		S.queue[i].live = false;
		S.viommu[S.queue[i].viommu].nqueues--;
	} else {
		S.nested[i].live = false;
		S.viommu[S.nested[i].viommu].nnested--;
	}
}

/* ---- unbind and bind again ---------------------------------------------- */

void op_rebind(void)
{
	struct fdev *d = &S.dev[rn(S.ndev)];
	int ret;

	cur_op = "unbind/bind";
	if (d->present)
		dev_unbind(d);
	ret = dev_bind(d);
	if (ret && !bind_may_fail(ret))
		check(ret, 0);
}

#endif
