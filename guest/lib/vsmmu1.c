// SPDX-License-Identifier: GPL-2.0
/*
 * vsmmu1.c: one guest vSMMU over N physical SMMUs (see vsmmu1.h).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "smmuv3.h"
#include "vsmmu1.h"

#ifdef VMM_HAVE_VIOMMU

/* IOMMU_HWPT_DATA_ARM_SMMUV3, IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 */
#define VSMMU1_HWPT_DATA	2u
#define VSMMU1_INV_DATA		1u
/* Opcodes smmuv3.h does not name. */
#define VSMMU1_CMD_PREFETCH_ADDR	0x02
#define VSMMU1_CMD_CFGI_STE_RANGE	0x04	/* CFGI_ALL: range 31 */

const char vsmmu1_vcmdq_refusal[] =
	"a VCMDQ is an MMIO page of one physical SMMU: the guest's commands "
	"written there reach that SMMU with no VM exit, so the VMM cannot "
	"send a CFGI_CD to the SMMU of its device nor copy a TLBI to the "
	"other SMMUs; one vSMMU over several SMMUs must trap its queue";

static int fail(int err)
{
	errno = err;
	return -err;
}

enum vsmmu1_route vsmmu1_route(const __le64 cmd[2], __u32 *sid)
{
	__u64 w0 = le64toh(cmd[0]);

	if (sid)
		*sid = (__u32)SMMU_GET(SMMU_CMD_0_SID, w0);
	switch (SMMU_GET(SMMU_CMD_0_OP, w0)) {
	case SMMU_CMD_CFGI_CD:
	case SMMU_CMD_CFGI_CD_ALL:
	case SMMU_CMD_ATC_INV:
		return VSMMU1_TO_OWNER;
	case SMMU_CMD_TLBI_NH_ALL:
	case SMMU_CMD_TLBI_NH_ASID:
	case SMMU_CMD_TLBI_NH_VA:
	case SMMU_CMD_TLBI_NH_VAA:
	case SMMU_CMD_TLBI_NSNH_ALL:
		return VSMMU1_TO_ALL;
	case SMMU_CMD_SYNC:
		return VSMMU1_SYNC;
	case SMMU_CMD_PREFETCH_CFG:
	case VSMMU1_CMD_PREFETCH_ADDR:
	case SMMU_CMD_CFGI_STE:
	case VSMMU1_CMD_CFGI_STE_RANGE:
		return VSMMU1_TO_VMM;
	default:
		return VSMMU1_ILLEGAL;
	}
}

static int issue_ioctl(struct vsmmu1 *v, int idx, const __le64 (*cmds)[2],
		       __u32 *num)
{
	return vmm_viommu_invalidate(v->iommufd, v->viommu[idx].viommu_id,
				     VSMMU1_INV_DATA, cmds, sizeof(cmds[0]),
				     num);
}

void vsmmu1_init(struct vsmmu1 *v, int iommufd, __u32 ioas_id)
{
	memset(v, 0, sizeof(*v));
	v->iommufd = iommufd;
	v->ioas_id = ioas_id;
	v->issue = issue_ioctl;
}

struct vsmmu1_dev *vsmmu1_lookup(struct vsmmu1 *v, __u32 vsid)
{
	int i;

	for (i = 0; i < v->nr_devs; i++)
		if (v->dev[i].vsid == vsid)
			return &v->dev[i];
	errno = ENOENT;
	return NULL;
}

static int find_viommu(struct vsmmu1 *v, const char *iommu)
{
	int i;

	for (i = 0; i < v->nr_viommus; i++)
		if (!strcmp(v->viommu[i].iommu, iommu))
			return i;
	return -1;
}

int vsmmu1_add_viommu(struct vsmmu1 *v, const char *iommu, __u32 viommu_id)
{
	struct vsmmu1_viommu *vi;

	if (!iommu[0] || strlen(iommu) >= sizeof(vi->iommu))
		return fail(ENODEV);
	if (find_viommu(v, iommu) >= 0)
		return fail(EEXIST);
	if (v->nr_viommus == VSMMU1_MAX_VIOMMUS)
		return fail(ENOSPC);
	vi = &v->viommu[v->nr_viommus];
	memset(vi, 0, sizeof(*vi));
	strcpy(vi->iommu, iommu);
	vi->viommu_id = viommu_id;
	return v->nr_viommus++;
}

int vsmmu1_record_dev(struct vsmmu1 *v, int idx, __u32 dev_id, __u32 vsid)
{
	struct vsmmu1_dev *d;
	int i;

	if (idx < 0 || idx >= v->nr_viommus)
		return fail(EINVAL);
	if (vsmmu1_lookup(v, vsid))
		return fail(EEXIST);
	for (i = 0; i < v->nr_devs; i++)
		if (v->dev[i].dev_id == dev_id)
			return fail(EEXIST);
	if (v->nr_devs == VSMMU1_MAX_DEVS)
		return fail(ENOSPC);
	d = &v->dev[v->nr_devs++];
	memset(d, 0, sizeof(*d));
	d->vsid = vsid;
	d->dev_id = dev_id;
	d->viommu = idx;
	return 0;
}

int vsmmu1_add_dev(struct vsmmu1 *v, const struct vmm_dev *dev, __u32 vsid,
		   int *idx)
{
	__u32 parent_id = 0, viommu_id = 0;
	bool made = false;
	int i, ret;

	if (!dev->bound)
		return fail(EINVAL);
	/* The checks one vIOMMU cannot make: one vSID space over all. */
	if (vsmmu1_lookup(v, vsid))
		return fail(EEXIST);
	for (i = 0; i < v->nr_devs; i++)
		if (v->dev[i].dev_id == dev->dev_id)
			return fail(EEXIST);
	if (v->nr_devs == VSMMU1_MAX_DEVS)
		return fail(ENOSPC);

	i = find_viommu(v, dev->pci.iommu);
	if (i < 0) {
		/* The first device behind this SMMU: its parent, vIOMMU. */
		if (v->nr_viommus == VSMMU1_MAX_VIOMMUS)
			return fail(ENOSPC);
		if (!dev->pci.iommu[0])
			return fail(ENODEV);
		ret = vmm_viommu_create(v->iommufd, dev->dev_id, v->ioas_id,
					IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
					&parent_id, &viommu_id);
		if (ret)
			return ret;
		i = vsmmu1_add_viommu(v, dev->pci.iommu, viommu_id);
		v->viommu[i].parent_id = parent_id;
		v->viommu[i].owned = true;
		made = true;
	}
	ret = vmm_viommu_set_dev_id(v->iommufd, v->viommu[i].viommu_id,
				    dev->dev_id, vsid);
	if (ret) {
		if (made) {
			vmm_destroy(v->iommufd, viommu_id);
			vmm_destroy(v->iommufd, parent_id);
			v->nr_viommus--;
		}
		return fail(-ret);
	}
	vsmmu1_record_dev(v, i, dev->dev_id, vsid);
	if (idx)
		*idx = i;
	return 0;
}

int vsmmu1_attach(struct vsmmu1 *v, __u32 vsid, struct vmm_dev *dev,
		  const __le64 ste[2])
{
	struct vsmmu1_dev *d = vsmmu1_lookup(v, vsid);
	__le64 data[2];
	__u32 id, old;
	int ret;

	if (!d)
		return -ENOENT;
	if (d->dev_id != dev->dev_id)
		return fail(EINVAL);
	memcpy(data, ste, sizeof(data));
	ret = vmm_hwpt_alloc(v->iommufd, dev->dev_id,
			     v->viommu[d->viommu].viommu_id, 0,
			     VSMMU1_HWPT_DATA, data, sizeof(data), &id);
	if (ret)
		return ret;
	ret = vmm_dev_attach(dev, id, NULL);
	if (ret) {
		vmm_destroy(v->iommufd, id);
		return fail(-ret);
	}
	old = d->nested_id;
	d->nested_id = id;
	if (old)
		vmm_destroy(v->iommufd, old);
	return 0;
}

int vsmmu1_detach(struct vsmmu1 *v, __u32 vsid, struct vmm_dev *dev)
{
	struct vsmmu1_dev *d = vsmmu1_lookup(v, vsid);
	__u32 parent;
	int ret;

	if (!d)
		return -ENOENT;
	parent = v->viommu[d->viommu].parent_id;
	ret = vmm_dev_attach(dev, parent ? parent : v->ioas_id, NULL);
	if (ret)
		return ret;
	if (d->nested_id) {
		ret = vmm_destroy(v->iommufd, d->nested_id);
		d->nested_id = 0;
	}
	return ret;
}

int vsmmu1_del_dev(struct vsmmu1 *v, __u32 vsid)
{
	struct vsmmu1_dev *d = vsmmu1_lookup(v, vsid);
	int ret;

	if (!d)
		return -ENOENT;
	ret = vmm_viommu_unset_dev_id(v->iommufd,
				      v->viommu[d->viommu].viommu_id,
				      d->dev_id, vsid);
	if (ret)
		return ret;
	*d = v->dev[--v->nr_devs];
	return 0;
}

/*
 * Issue every vIOMMU's pending share, in vIOMMU order. When one fails at
 * guest index g, the vIOMMUs after it get only their commands before g;
 * *@at is the lowest failing guest index. Returns 0 or the first -errno.
 */
static int flush(struct vsmmu1 *v, struct vsmmu1_result *res, __u32 *at)
{
	__u32 stop = ~0u, n, done;
	int i, ret, err = 0;

	for (i = 0; i < v->nr_viommus; i++) {
		n = v->sub_n[i];
		/* Only what comes before a command that failed already. */
		while (n && v->sub_at[i][n - 1] >= stop)
			n--;
		v->sub_n[i] = 0;
		if (!n)
			continue;
		done = n;
		ret = v->issue(v, i, (const __le64 (*)[2])v->sub[i], &done);
		v->viommu[i].calls++;
		res->calls++;
		if (!ret && done != n)
			ret = -EPROTO;
		v->viommu[i].cmds += ret ? done : n;
		if (!ret)
			continue;
		/* done: the index in this share of the one that failed. */
		if (done >= n)
			done = n - 1;
		if (v->sub_at[i][done] < stop) {
			stop = v->sub_at[i][done];
			err = ret;
		}
	}
	*at = stop;
	return err;
}

static void stopped(struct vsmmu1_result *res, __u32 at, int err)
{
	res->cons = at;
	res->cerror = VSMMU1_CERROR_ILL;
	res->err = err;
	errno = -err;
}

/* Queue @cmd (guest index @at) for vIOMMU @i; flush first if full. */
static int queue(struct vsmmu1 *v, int i, const __le64 cmd[2], __u32 at,
		 struct vsmmu1_result *res, __u32 *fail_at)
{
	int ret;

	if (v->sub_n[i] == VSMMU1_SUB_MAX) {
		ret = flush(v, res, fail_at);
		if (ret)
			return ret;
	}
	memcpy(v->sub[i][v->sub_n[i]], cmd, 16);
	v->sub_at[i][v->sub_n[i]++] = at;
	return 0;
}

int vsmmu1_issue(struct vsmmu1 *v, const __le64 (*cmds)[2], __u32 num,
		 struct vsmmu1_result *res)
{
	struct vsmmu1_dev *d;
	__u32 k, sid, at;
	int i, ret;

	memset(res, 0, sizeof(*res));
	memset(v->sub_n, 0, sizeof(v->sub_n));
	for (k = 0; k < num; k++) {
		ret = 0;
		switch (vsmmu1_route(cmds[k], &sid)) {
		case VSMMU1_TO_OWNER:
			d = vsmmu1_lookup(v, sid);
			if (!d)
				goto illegal;
			ret = queue(v, d->viommu, cmds[k], k, res, &at);
			break;
		case VSMMU1_TO_ALL:
			for (i = 0; !ret && i < v->nr_viommus; i++)
				ret = queue(v, i, cmds[k], k, res, &at);
			break;
		case VSMMU1_SYNC:
			/* Complete only once every share has returned. */
			ret = flush(v, res, &at);
			if (!ret)
				res->syncs++;
			break;
		case VSMMU1_TO_VMM:
			/* A barrier: the VMM acts after what came before. */
			ret = flush(v, res, &at);
			if (ret)
				break;
			res->local++;
			ret = v->local ? v->local(v, cmds[k]) : 0;
			if (ret) {
				at = k;
				ret = ret < 0 ? ret : -EIO;
			}
			break;
		case VSMMU1_ILLEGAL:
			goto illegal;
		}
		if (ret) {
			stopped(res, at, ret);
			return ret;
		}
		continue;
illegal:
		/* As the kernel refuses it: after the commands before it. */
		ret = flush(v, res, &at);
		stopped(res, ret ? at : k, ret ? ret : -EIO);
		return res->err;
	}
	ret = flush(v, res, &at);
	if (ret) {
		stopped(res, at, ret);
		return ret;
	}
	res->cons = num;
	return 0;
}

int vsmmu1_hw_queue_alloc(struct vsmmu1 *v, __u32 index, __u64 ipa,
			  __u64 len, const char **why)
{
	(void)v;
	(void)index;
	(void)ipa;
	(void)len;
	if (why)
		*why = vsmmu1_vcmdq_refusal;
	return fail(EOPNOTSUPP);
}

int vsmmu1_destroy(struct vsmmu1 *v)
{
	int i, ret, err = 0;

	for (i = v->nr_viommus - 1; i >= 0; i--) {
		struct vsmmu1_viommu *vi = &v->viommu[i];

		if (!vi->owned)
			continue;
		ret = vmm_destroy(v->iommufd, vi->viommu_id);
		if (!ret)
			ret = vmm_destroy(v->iommufd, vi->parent_id);
		if (ret && !err)
			err = ret;
	}
	v->nr_viommus = 0;
	v->nr_devs = 0;
	if (err)
		errno = -err;
	return err;
}

#endif /* VMM_HAVE_VIOMMU */
