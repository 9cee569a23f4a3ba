// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-viommu, the generators of what goes through a vIOMMU: vEVENTQs
 * (IOMMU_VEVENTQ_ALLOC, events of the mock, read(), close, DESTROY), HW
 * queues (IOMMU_HW_QUEUE_ALLOC, the queue memory's IOAS_UNMAP), mmap() of
 * its page, and IOMMU_HWPT_INVALIDATE of random and bent guest commands.
 * See fuzz.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#if defined(VMM_HAVE_VIOMMU) && defined(VMM_HAVE_HW_QUEUE)

/* ---- IOMMU_VEVENTQ_ALLOC, events, read() ------------------------------ */

static void op_veventq_alloc(void)
{
	struct iommu_veventq_alloc cmd = { .size = sizeof(cmd) };
	int v = pick_viommu(), k, want = 0, ret;
	struct fviommu *vi = &S.viommu[v];
	static const __u32 types[] = {
		IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV,
		IOMMU_VEVENTQ_TYPE_SELFTEST, IOMMU_VEVENTQ_TYPE_SELFTEST,
	};

	cur_op = "VEVENTQ_ALLOC";
	for (k = 0; k < MAX_VEVQ && S.vevq[k].live; k++)
		;
	if (k == MAX_VEVQ)
		return;
	/* Mostly for a vIOMMU whose devices have IDs: they report events */
	if (chance(70)) {
		struct fdev *d = pick_dev();

		if (d && d->viommu >= 0) {
			v = d->viommu;
			vi = &S.viommu[v];
		}
	}
	cmd.viommu_id = viommu_id_of(v);
	cmd.type = types[rn(4)];
	cmd.veventq_depth = chance(60) ? 1 + rn(3) : 1 + rn(MAX_VEVENTS - 4);
	switch (chance(30) ? rn(4) : 99) {
	case 0:
		cmd.flags = 1u << rn(32);
		break;
	case 1:
		cmd.__reserved = 1 + rn(100);
		break;
	case 2:
		cmd.type = IOMMU_VEVENTQ_TYPE_DEFAULT;
		break;
	case 3:
		cmd.veventq_depth = 0;
		break;
	}
	if (cmd.flags || cmd.__reserved ||
	    cmd.type == IOMMU_VEVENTQ_TYPE_DEFAULT)
		want = -EOPNOTSUPP;
	else if (!cmd.veventq_depth)
		want = -EINVAL;
	else if (!vi->live)
		want = -ENOENT;
	else if (vevq_of(v, cmd.type) >= 0)
		want = -EEXIST;	/* one per type */
	ret = fioctl(S.fd, IOMMU_VEVENTQ_ALLOC, &cmd);
	if (!check(ret, want))
		return;
	model_vevq_new(k, v, &cmd);
}

/* The mock IOMMU reports an event of a device, as a driver would */
static void op_vevent_trigger(void)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
	};
	struct fdev *d = pick_dev();
	struct fvevq *q = NULL;
	int want = 0, ret, k;

	cur_op = "TRIGGER_VEVENT";
	/* Mostly a device whose ID's vIOMMU has a queue for its events */
	if (chance(80)) {
		for (k = 0; k < S.ndev; k++) {
			struct fdev *c = &S.dev[(k + rn(S.ndev)) % S.ndev];

			if (c->present && c->viommu >= 0 &&
			    vevq_of(c->viommu, IOMMU_VEVENTQ_TYPE_SELFTEST) >= 0) {
				d = c;
				break;
			}
		}
	}
	if (!d)
		return;
	cmd.trigger_vevent.dev_id = d->dev_id;
	if (d->viommu < 0) {
		want = -ENOENT;		/* no ID: nothing to report */
	} else {
		k = vevq_of(d->viommu, IOMMU_VEVENTQ_TYPE_SELFTEST);
		if (k < 0)
			want = -EOPNOTSUPP;
		else
			q = &S.vevq[k];
		if (q && q->nev >= q->depth)
			want = -EOVERFLOW;
	}
	ret = fioctl(S.fd, IOMMU_TEST_CMD, &cmd);
	/* An allocation that failed loses the event, and says so */
	if (q && fault_pct && ret == -ENOMEM) {
		model_vevent(q, true, 0);
		return;
	}
	check(ret, want);
	if (q && ret == want && (!ret || ret == -EOVERFLOW))
		model_vevent(q, ret == -EOVERFLOW, (__u32)d->vid);
}

/* Read a queue, outside the fault window: whole records, as modelled */
static void op_vevent_read(struct fvevq *q)
{
	const size_t hsz = sizeof(struct iommufd_vevent_header);
	const size_t esz = sizeof(struct iommu_viommu_event_selftest);
	__u8 buf[MAX_VEVENTS * 16];
	size_t len = chance(70) ? sizeof(buf) : rn(3 * (hsz + esz) + 1);
	size_t off = 0, want_len = 0;
	ssize_t n;
	int i, nrec = 0;

	cur_op = "read(vEVENTQ)";
	/* A guest VINTF's queue errors come from the CMDQV's interrupt */
	if (tegra && q->type == IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV &&
	    S.viommu[q->viommu].is_tegra) {
		tegra_vevent_read(q);
		return;
	}
	for (i = 0; i < q->nrec; i++) {
		size_t rsz = hsz + (q->rec[i].lost ? 0 : esz);

		if (want_len + rsz > len)
			break;
		want_len += rsz;
		nrec++;
	}
	n = read(q->fd, buf, len);
	if (n < 0 || (size_t)n != want_len) {
		report("read %zu bytes of a vEVENTQ of %d records: %zd (%s), expected %zu",
		       len, q->nrec, n, n < 0 ? strerror(errno) : "",
		       want_len);
		q->nrec = 0;	/* resynchronised on the next read */
		q->nev = 0;
		return;
	}
	for (i = 0; i < nrec; i++) {
		struct iommufd_vevent_header h;
		struct iommu_viommu_event_selftest e = {};

		memcpy(&h, buf + off, hsz);
		off += hsz;
		if (!q->rec[i].lost) {
			memcpy(&e, buf + off, esz);
			off += esz;
		}
		if (h.sequence != q->rec[i].seq ||
		    h.flags != (q->rec[i].lost ?
				IOMMU_VEVENTQ_FLAG_LOST_EVENTS : 0) ||
		    (!q->rec[i].lost && e.virt_id != q->rec[i].vid))
			report("vEVENT record %d: flags %#x seq %u vid %#x, expected flags %#x seq %u vid %#x",
			       i, h.flags, h.sequence, e.virt_id,
			       q->rec[i].lost ? IOMMU_VEVENTQ_FLAG_LOST_EVENTS : 0,
			       q->rec[i].seq, q->rec[i].vid);
		if (!q->rec[i].lost)
			q->nev--;
		vevents_read++;
		vevents_lost += q->rec[i].lost;
	}
	memmove(q->rec, q->rec + nrec, (q->nrec - nrec) * sizeof(q->rec[0]));
	q->nrec -= nrec;
}

void op_veventq(void)
{
	int live[MAX_VEVQ], nlive = 0, k, want = 0, ret;
	struct fvevq *q;

	for (k = 0; k < MAX_VEVQ; k++)
		if (S.vevq[k].live)
			live[nlive++] = k;
	if (!nlive || chance(15)) {
		op_veventq_alloc();
		return;
	}
	q = &S.vevq[live[rn(nlive)]];
	/* Reads mostly where there is something to read */
	for (k = 0; k < nlive && !q->nrec && chance(70); k++)
		q = &S.vevq[live[(k + 1) % nlive]];
	switch (rn(12)) {
	case 0: {
		/* The open file holds the queue */
		struct iommu_destroy cmd = { .size = sizeof(cmd), .id = q->id };

		cur_op = "DESTROY(vEVENTQ)";
		if (q->fd >= 0)
			want = -EBUSY;
		ret = fioctl(S.fd, IOMMU_DESTROY, &cmd);
		if (!check(ret, want))
			return;
		q->live = false;
		S.viommu[q->viommu].nvevqs--;
		return;
	}
	case 1:
		cur_op = "close(vEVENTQ)";
		if (q->fd >= 0)
			close(q->fd);
		q->fd = -1;
		return;
	case 2: case 3: case 4: case 5: case 6:
		/* smmu mode has no DMA, so no events: it reads instead */
		if (mode == MOCK) {
			/* A burst, to fill queues now and then */
			for (k = 1 + (chance(20) ? rn(8) : 0); k; k--)
				op_vevent_trigger();
			return;
		}
		break;
	}
	if (q->fd >= 0)
		op_vevent_read(q);
}

/* ---- IOMMU_HW_QUEUE_ALLOC, mmap() and the queue memory ----------------- */

/*
 * The queue memory, and what pinning it must answer: 0, or the errno. A
 * range over both read-write pages answers EFAULT unless they happen to
 * be physically contiguous: *@either says that both answers are right.
 */
static int pick_queue_mem(__u64 *iova, __u64 *len, bool *either)
{
	__u64 off;

	*either = false;
	switch (rn(10)) {
	case 7:		/* over the page boundary */
		off = pgsz - 1 - rn(pgsz / 2);
		*iova = QIOVA + off;
		*len = pgsz - off + 1 + rn(pgsz - 1);
		*either = true;
		return S.qmem_mapped ? 0 : -ENOENT;
	case 8:		/* not readable: EPERM */
		*iova = QIOVA_WO + rn(pgsz / 2);
		*len = 1 + rn(pgsz / 2);
		return -EPERM;
	case 9:		/* the hole, or the end of the address space */
		if (chance(50)) {
			*iova = QIOVA_HOLE + rn(pgsz);
			*len = 1 + rn(pgsz);
			return -ENOENT;
		}
		*iova = ~0ull - rn(pgsz);
		*len = pgsz + rn(pgsz);
		return -EOVERFLOW;
	default:	/* inside one page */
		off = rn(pgsz);
		*iova = QIOVA + (rn(2) ? pgsz : 0) + off;
		*len = 1 + rn(pgsz - off);
		return S.qmem_mapped ? 0 : -ENOENT;
	}
}

void op_hw_queue_alloc(void)
{
	struct iommu_hw_queue_alloc cmd = { .size = sizeof(cmd) };
	int v = pick_viommu(), q, pre, want, mem, ret;
	struct fviommu *vi = &S.viommu[v];
	__u32 token = rnd();
	bool either;

	if (tegra) {
		op_tegra_hw_queue_alloc();
		return;
	}
	cur_op = "HW_QUEUE_ALLOC";
	for (q = 0; q < MAX_QUEUE && S.queue[q].live; q++)
		;
	if (q == MAX_QUEUE)
		return;
	cmd.viommu_id = viommu_id_of(v);
	cmd.type = mode == MOCK ? IOMMU_HW_QUEUE_TYPE_SELFTEST :
				  IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV;
	if (chance(10)) {
		static const __u32 types[] = {
			IOMMU_HW_QUEUE_TYPE_DEFAULT,
			IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
			IOMMU_HW_QUEUE_TYPE_SELFTEST, 2, 0x1234,
		};

		cmd.type = types[rn(5)];
	}
	/* Mostly the next index, so that queues get made */
	cmd.index = chance(75) && vi->live ? (__u32)vi->nqueues : rn(4);
	mem = pick_queue_mem(&cmd.nesting_parent_iova, &cmd.length, &either);
	if (chance(5))
		cmd.length = 0;
	/* Before the pin; the SMMU's own vIOMMU type has no HW queues */
	pre = cmd.type == IOMMU_HW_QUEUE_TYPE_DEFAULT ? -EOPNOTSUPP :
	      !cmd.length ? -EINVAL :
	      !vi->live ? -ENOENT :
	      mode == SMMU || cmd.type != IOMMU_HW_QUEUE_TYPE_SELFTEST ? -EOPNOTSUPP : 0;
	if (chance(5)) {
		cmd.flags = 1u << rn(32);
		pre = -EOPNOTSUPP;
	}
	/*
	 * Then the range's overflow and the driver's limits, before anything
	 * is pinned; after the pin, the driver's order rules.
	 */
	want = pre ? pre : mem == -EOVERFLOW ? mem :
	       cmd.index >= IOMMU_TEST_HW_QUEUE_MAX ? -EINVAL : mem ? mem :
	       queue_of(v, cmd.index) >= 0 ? -EEXIST :
	       cmd.index && queue_of(v, cmd.index - 1) < 0 ? -EINVAL : 0;
	/* What the pin must read back */
	if (!mem && cmd.length)
		memcpy(qmem + (cmd.nesting_parent_iova - QIOVA), &token,
		       sizeof(token));
	ret = fioctl(S.fd, IOMMU_HW_QUEUE_ALLOC, &cmd);
	/* Two pages that are not contiguous stop it at the pin */
	if (either && !pre && !mem && ret == -EFAULT)
		return;
	if (!check(ret, want))
		return;
	check_new_id("HW queue", cmd.out_hw_queue_id);
	S.queue[q].live = true;
	S.queue[q].id = cmd.out_hw_queue_id;
	S.queue[q].viommu = v;
	S.queue[q].index = cmd.index;
	vi->nqueues++;
	queues_made++;
	/* The core pinned the memory the caller named */
	if (cmd.length >= sizeof(token)) {
		struct iommu_test_cmd rd = {
			.size = sizeof(rd),
			.op = IOMMU_TEST_OP_HW_QUEUE_READ,
			.id = cmd.out_hw_queue_id,
		};

		if (ioctl(S.fd, IOMMU_TEST_CMD, &rd))
			report("HW_QUEUE_READ: %s", strerror(errno));
		else if (rd.hw_queue_read.out_base_data != token &&
			 cmd.nesting_parent_iova % pgsz <= pgsz - sizeof(token))
			report("queue memory reads 0x%x, wrote 0x%x",
			       rd.hw_queue_read.out_base_data, token);
	}
}

/* mmap() of a vIOMMU's page, or munmap() of it when it is mapped. */
void op_mmap(void)
{
	int v = pick_viommu(), want = 0, ret, prot = PROT_READ | PROT_WRITE;
	struct fviommu *vi = &S.viommu[v];
	__u64 off = vi->mmap_off, len = vi->mmap_len;
	int flags = MAP_SHARED;
	void *va;

	cur_op = "mmap";
	if (vi->map) {
		viommu_unmap(vi);
		return;
	}
	if (!vi->live || !len) {
		/* No pair to map: a stale or made-up one */
		off = chance(50) ? old_offs[rn(8)] : rn(64) * pgsz;
		len = pgsz;
		want = -ENXIO;
	}
	switch (chance(40) ? rn(4) : 99) {
	case 0:
		len += pgsz;
		want = -ENXIO;
		break;
	case 1:
		off += pgsz;
		want = -ENXIO;
		break;
	case 2:
		flags = MAP_PRIVATE;
		want = -EINVAL;
		break;
	case 3:
		prot |= PROT_EXEC;
		want = -EPERM;
		break;
	}
	/*
	 * A stale offset may be the new pair of a live vIOMMU, and a mock
	 * vIOMMU allocated without data has a page whose pair it never told
	 */
	if (want == -ENXIO) {
		int k;

		for (k = 0; k < MAX_VIOMMU; k++)
			if (S.viommu[k].live &&
			    ((S.viommu[k].mmap_len == len &&
			      S.viommu[k].mmap_off == off) ||
			     (mode == MOCK && !S.viommu[k].mmap_len)))
				return;
	}
	fault_window(true);
	va = mmap(NULL, len, prot, flags, S.fd, off);
	ret = va == MAP_FAILED ? -errno : 0;
	fault_window(false);
	if (ret == -ENOMEM)
		enomem_seen++;
	if (!check(ret, want)) {
		if (!ret)
			munmap(va, len);
		return;
	}
	vi->map = va;
	pages_mapped++;
	/* A VINTF page0: the registers of the vIOMMU's VCMDQs, and no other */
	if (vi->is_tegra)
		tegra_mapped(v);
	/* The mock's page holds the in_data of the vIOMMU's allocation */
	else if (*(volatile __u32 *)va != vi->in_data)
		report("vIOMMU page reads 0x%x, expected 0x%x",
		       *(volatile __u32 *)va, vi->in_data);
}

/*
 * IOMMU_IOAS_UNMAP of the read-write queue memory (EBUSY while a queue
 * pins it), or IOMMU_IOAS_MAP of it again. Outside the fault window: both
 * copy their answer out after the change, which an EFAULT then hides.
 */
void op_qmem(void)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = S.ioas,
		.iova = QIOVA,
		.length = 2 * pgsz,
	};
	int i, want = 0, ret;

	cur_op = "IOAS_UNMAP(queue memory)";
	if (!S.qmem_mapped) {
		S.qmem_mapped = !qmem_map(QIOVA, 2, true);
		return;
	}
	for (i = 0; i < MAX_QUEUE; i++)
		if (S.queue[i].live)
			want = -EBUSY;
	ret = ioctl(S.fd, IOMMU_IOAS_UNMAP, &cmd) ? -errno : 0;
	if (check(ret, want))
		S.qmem_mapped = false;
}

/* ---- IOMMU_HWPT_INVALIDATE through a vIOMMU ------------------------ */

/* A mostly legal command, sometimes bent out of shape. */
static void random_cmd(int v, __u64 c[2])
{
	static const unsigned int ops[] = {
		SMMU_CMD_TLBI_NH_ALL, SMMU_CMD_TLBI_NH_ASID, SMMU_CMD_TLBI_NH_VA,
		SMMU_CMD_TLBI_NH_VAA, SMMU_CMD_TLBI_NSNH_ALL, SMMU_CMD_CFGI_CD,
		SMMU_CMD_CFGI_CD_ALL,
	};
	static const unsigned int bad[] = {
		SMMU_CMD_PREFETCH_CFG, SMMU_CMD_CFGI_STE, SMMU_CMD_CFGI_ALL,
		SMMU_CMD_TLBI_EL2_ALL, SMMU_CMD_TLBI_S12_VMALL,
		SMMU_CMD_TLBI_S2_IPA, SMMU_CMD_ATC_INV, SMMU_CMD_SYNC,
		0x02, 0x07, 0x14, 0x21, 0x41, 0x44, 0x45, 0xff,
	};
	unsigned int op = ops[rn(7)];
	__u64 vid = chance(60) ? owned_vid(v) :
		    chance(70) ? 0x40 + rn(6) : rnd() & 0xffffffff;
	int i;

	c[0] = op;
	c[1] = 0;
	switch (op) {
	case SMMU_CMD_TLBI_NH_VA:
	case SMMU_CMD_TLBI_NH_VAA:
		c[1] = rnd() & (SMMU_CMD_1_TLBI_ADDR | SMMU_CMD_1_TLBI_LEAF);
		if (chance(30)) {
			c[0] |= rnd() & (SMMU_CMD_0_TLBI_NUM | SMMU_CMD_0_TLBI_SCALE);
			c[1] |= rnd() & (SMMU_CMD_1_TLBI_TTL | SMMU_CMD_1_TLBI_TG);
		}
		/* fallthrough */
	case SMMU_CMD_TLBI_NH_ASID:
		if (op != SMMU_CMD_TLBI_NH_VAA)
			c[0] |= SMMU_FIELD(SMMU_CMD_0_ASID,
					   chance(90) ? rn(256) : rnd());
		/* fallthrough */
	case SMMU_CMD_TLBI_NH_ALL:
		if (chance(50))
			c[0] |= SMMU_FIELD(SMMU_CMD_0_VMID, rnd());
		break;
	case SMMU_CMD_CFGI_CD:
		c[1] = rnd() & SMMU_CMD_1_CFGI_LEAF;
		if (chance(10))
			c[0] |= SMMU_FIELD(SMMU_CMD_0_CFGI_SSID, rnd());
		/* fallthrough */
	case SMMU_CMD_CFGI_CD_ALL:
		c[0] |= SMMU_FIELD(SMMU_CMD_0_SID, vid);
		break;
	}
	switch (rn(20)) {
	case 0:
		c[0] = (c[0] & ~0xffull) | bad[rn(16)];
		break;
	case 1:
		c[rn(2)] ^= 1ull << rn(64);
		break;
	case 2:
		c[0] = rnd();
		c[1] = rnd();
		break;
	case 3:
		/* Bits just outside the defined fields */
		for (i = 0; i < 1 + (int)rn(3); i++)
			c[rn(2)] |= 1ull << rn(64);
		break;
	}
}

void op_invalidate(void)
{
	static __u8 buf[MAX_BATCH * 64];
	struct iommu_hwpt_invalidate cmd = { .size = sizeof(cmd) };
	int v = pick_viommu(), want = 0, ret, i, stop = -1;
	struct fviommu *vi = &S.viommu[v];
	__u32 n = rn(4) ? 1 + rn(8) : rn(MAX_BATCH + 1);
	__u32 elen = mode == MOCK ? sizeof(struct iommu_viommu_invalidate_selftest) :
				    sizeof(struct iommu_viommu_arm_smmuv3_invalidate);
	__u32 base = elen;

	cur_op = "HWPT_INVALIDATE";
	/* Entries longer than the struct: trailing bytes must be zero */
	if (chance(10))
		elen = base + 1 + rn(64 - base - 1);
	else if (chance(3))
		elen = 1 + rn(base - 1);
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < (int)n; i++) {
		__u8 *e = buf + i * elen;
		int err;

		if (mode == MOCK) {
			struct iommu_viommu_invalidate_selftest inv = {
				.flags = chance(50) ? IOMMU_TEST_INVALIDATE_FLAG_ALL : 0,
				.vdev_id = chance(70) ? owned_vid(v) :
					   chance(80) ? 0x40 + rn(6) : rnd(),
				.cache_id = chance(90) ? rn(MOCK_DEV_CACHE_NUM) : rnd(),
			};

			if (chance(3))
				inv.flags = rnd();
			memcpy(e, &inv, sizeof(inv));
			err = inv.flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL ? -EOPNOTSUPP :
			      inv.cache_id > MOCK_DEV_CACHE_ID_MAX ? -EINVAL :
			      model_vid_owner(v, inv.vdev_id) < 0 ? -EIO : 0;
		} else {
			__u64 c[2];

			random_cmd(v, c);
			memcpy(e, c, sizeof(c));
			err = cmd_errno(v, c);
		}
		/* An entry that cannot be copied is never looked at */
		if (elen > base && chance(3)) {
			e[base + rn(elen - base)] = 1;
			err = -E2BIG;
		}
		if (elen < base)
			err = -EINVAL;
		if (err && stop < 0) {
			stop = i;
			want = err;
		}
	}
	cmd.hwpt_id = viommu_id_of(v);
	cmd.data_uptr = (uintptr_t)buf;
	cmd.data_type = mode == MOCK ? IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST :
				       IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;
	cmd.entry_len = elen;
	cmd.entry_num = n;
	if (stop < 0)
		stop = n;
	if (!n) {
		want = 0;
		stop = 0;
	}
	switch (chance(10) ? rn(4) : 99) {
	case 0:
		cmd.__reserved = 1;
		want = -EOPNOTSUPP;
		stop = 0;
		break;
	case 1:
		/* Also with no entries: the probe says "not supported" */
		cmd.data_type ^= 1 + rn(7);
		want = -EINVAL;
		stop = 0;
		break;
	case 2:
		if (n) {
			cmd.data_uptr = 0;
			want = -EINVAL;
			stop = 0;
		}
		break;
	case 3: {
		/* A nested HWPT takes no invalidation: through the vIOMMU */
		int h = rn(MAX_NESTED);

		if (S.nested[h].live && cmd.__reserved == 0 && n) {
			cmd.hwpt_id = S.nested[h].id;
			want = -EOPNOTSUPP;
			stop = 0;
			v = -1;
		}
		break;
	}
	}
	if (v >= 0 && !vi->live && cmd.__reserved == 0 && !(n && !cmd.data_uptr)) {
		want = -ENOENT;
		stop = 0;
	}
	ret = fioctl(S.fd, IOMMU_HWPT_INVALIDATE, &cmd);
	total_cmds += n;
	if (ret != -ENOMEM && ret != -EFAULT && cmd.entry_num != (__u32)stop &&
	    (ret == want || !fault_pct))
		report("entry_num %u, expected %d (of %u, %s)", cmd.entry_num,
		       stop, n, strerror(-ret));
	/*
	 * Every entry the kernel handled must be one the allow-list allows.
	 * After EFAULT the answer may not have been copied back at all.
	 */
	if (mode == SMMU && v >= 0 && vi->live && cmd.entry_num <= n &&
	    ret != -EFAULT &&
	    cmd.data_type == IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3) {
		for (i = 0; i < (int)cmd.entry_num; i++) {
			__u64 c[2];

			memcpy(c, buf + i * elen, sizeof(c));
			if (cmd_errno(v, c))
				report("accepted an illegal command %016llx %016llx",
				       (unsigned long long)c[0],
				       (unsigned long long)c[1]);
		}
	}
	if (cmd.entry_num <= n && ret != -EFAULT)
		accepted_cmds += cmd.entry_num;
	check(ret, want);
}

#endif
