/* SPDX-License-Identifier: GPL-2.0 */
/*
 * e2e-nested: the vEVENTQs of the vIOMMUs, and QEMU 11.1's call order.
 *
 * Part of the e2e-nested program: main.c includes it (a part, not a
 * header to share).
 */

/* ---- events: the vEVENTQs of the vIOMMUs ----------------------------- */

/*
 * How long the VMM waits for an event a test caused (QEMU records it, the
 * host kernel's event thread forwards it: well under a second even under
 * TCG), and how long a queue that must stay empty is watched.
 */
#define EVENT_WAIT_MS	3000
#define QUIET_MS	500
#define MAX_EVENTS	64

/*
 * QEMU's SMMUv3 translates a transfer that faults 4 bytes at a time (the
 * accesses to the unassigned region that stand in for the failed
 * translation), and records an event for each: a faulting page is 1024
 * events. The event tests' faulting transfers are 4 bytes: one event each.
 */
#define FAULT_LEN	4

/*
 * Read what @q holds: wait up to @wait_ms for a first record, then take
 * whatever follows it within 200 ms (one faulting transfer may make more
 * than one event).
 */
static int events_read(struct __test_metadata *_metadata,
		       struct vmm_veventq *q, struct vmm_vevent *ev,
		       int wait_ms)
{
	int n = vmm_veventq_read(q, ev, MAX_EVENTS, wait_ms), m;

	ASSERT_LE(0, n) {
		TH_LOG("read vEVENTQ %u: %s", q->id, strerror(-n));
	}
	while (n && n < MAX_EVENTS) {
		m = vmm_veventq_read(q, ev + n, MAX_EVENTS - n, 200);
		ASSERT_LE(0, m);
		if (!m)
			break;
		n += m;
	}
	return n;
}

/* Nothing arrives on @q within @ms. */
static void expect_quiet(struct __test_metadata *_metadata,
			 struct vmm_veventq *q, int ms, const char *what)
{
	struct vmm_vevent ev[MAX_EVENTS];
	int n = vmm_veventq_read(q, ev, MAX_EVENTS, ms);

	ASSERT_EQ(0, n) {
		if (n > 0)
			TH_LOG("%s: %d record(s), the first: flags %u seq %u %016llx %016llx",
			       what, n, ev[0].flags, ev[0].sequence,
			       (unsigned long long)le64toh(ev[0].data.smmuv3.evt[0]),
			       (unsigned long long)le64toh(ev[0].data.smmuv3.evt[1]));
		else
			TH_LOG("%s: %s", what, strerror(-n));
	}
}

/*
 * The guest's event as its VMM gets it: within EVENT_WAIT_MS exactly @num
 * records on @q (one per faulting FAULT_LEN transfer), each a whole
 * ARM_SMMUV3 record (nothing lost) of event @id with the guest's vSID
 * @vsid in the StreamID field, about stage 1. *@first gets the first.
 */
static void expect_smmu_events(struct __test_metadata *_metadata,
			       struct vmm_veventq *q, __u8 id, __u32 vsid,
			       int num, struct vmm_vevent *first)
{
	struct vmm_vevent ev[MAX_EVENTS];
	int i, n = events_read(_metadata, q, ev, EVENT_WAIT_MS);

	ASSERT_LT(0, n) {
		TH_LOG("no vEVENT 0x%02x of vSID 0x%x within %d ms", id, vsid,
		       EVENT_WAIT_MS);
	}
	ASSERT_EQ(num, n) {
		TH_LOG("%d vEVENTs, the last: flags %u seq %u %016llx", n,
		       ev[n - 1].flags, ev[n - 1].sequence,
		       (unsigned long long)le64toh(ev[n - 1].data.smmuv3.evt[0]));
	}
	for (i = 0; i < n; i++) {
		__u64 w0 = le64toh(ev[i].data.smmuv3.evt[0]);
		__u64 w1 = le64toh(ev[i].data.smmuv3.evt[1]);

		ASSERT_EQ(0u, ev[i].flags) {
			TH_LOG("record %d of %d: LOST_EVENTS", i, n);
		}
		ASSERT_EQ(0u, ev[i].lost_before);
		ASSERT_EQ(sizeof(struct iommu_vevent_arm_smmuv3),
			  ev[i].data_len);
		ASSERT_EQ(id, vmm_vevent_smmuv3_id(&ev[i])) {
			TH_LOG("record %d: %016llx %016llx", i,
			       (unsigned long long)w0, (unsigned long long)w1);
		}
		ASSERT_EQ(vsid, vmm_vevent_smmuv3_sid(&ev[i])) {
			TH_LOG("record %d: StreamID 0x%llx, not the vSID", i,
			       (unsigned long long)SMMU_GET(SMMU_EVT_0_SID, w0));
		}
		ASSERT_FALSE(HAS(w1, SMMU_EVT_1_S2));
	}
	*first = ev[0];
}

/* Word @w of an ARM_SMMUV3 record, in CPU order. */
static __u64 evt_word(const struct vmm_vevent *ev, int w)
{
	return le64toh(ev->data.smmuv3.evt[w]);
}

/*
 * One VM with a nested edu behind each SMMU, each on its own vIOMMU with
 * an ARM_SMMUV3 vEVENTQ; the guest makes the edu behind SMMU @smmu fault,
 * and the vIOMMU of the other SMMU must hear nothing. The vSIDs come from
 * IOMMU_VDEVICE_ALLOC (what QEMU 11.1 calls) or IOMMU_VIOMMU_SET_DEV_ID:
 * both record the vSID events are reported with.
 */
FIXTURE(vevent) {
	struct vm vm;
	struct nest n[2];
	struct vmm_veventq q[2];
	__u64 src[2], dst[2];
};

FIXTURE_VARIANT(vevent) {
	int smmu;
	bool vdevice;
};

FIXTURE_VARIANT_ADD(vevent, smmu0) {
	.smmu = 0,
	.vdevice = true,
};

FIXTURE_VARIANT_ADD(vevent, smmu1) {
	.smmu = 1,
	.vdevice = true,
};

FIXTURE_VARIANT_ADD(vevent, smmu0_set_dev_id) {
	.smmu = 0,
};

FIXTURE_VARIANT_ADD(vevent, smmu1_set_dev_id) {
	.smmu = 1,
};

FIXTURE_SETUP(vevent)
{
	int i, fd;

	self->vm.iommufd = -1;
	for (i = 0; i < 2; i++) {
		self->n[i].vd.dev.fd = -1;
		self->q[i].fd = -1;
	}
	vm_setup(_metadata, &self->vm);
	fd = self->vm.iommufd;
	for (i = 0; i < 2; i++) {
		struct nest *n = &self->n[i];

		n->use_vdevice = variant->vdevice;
		nest_setup(_metadata, n, i, fd, self->vm.ioas_id,
			   &self->vm.ram, vsid_of(i, variant->vdevice));
		/* What the VMM does when its guest enables the event queue. */
		ASSERT_EQ(0, vmm_veventq_alloc(fd, n->viommu_id,
					       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
					       MAX_EVENTS, &self->q[i])) {
			TH_LOG("vEVENTQ: %s", strerror(errno));
		}
		ASSERT_LE(0, self->q[i].fd);
		self->src[i] = guest_page(_metadata, &self->vm.ram,
					  seed_of(_metadata, i, 70));
		self->dst[i] = guest_page(_metadata, &self->vm.ram,
					  seed_of(_metadata, i, 71));
		ASSERT_EQ(0, smmu_s1_map(&n->g.s1, VA_SRC, self->src[i],
					 SMMU_PROT_READ));
		ASSERT_EQ(0, smmu_s1_map(&n->g.s1, VA_DST, self->dst[i],
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
	}
}

FIXTURE_TEARDOWN(vevent)
{
	int i;

	for (i = 0; i < 2; i++) {
		vm_dev_teardown(&self->n[i].vd);
		/* The open file holds the queue, and the iommufd. */
		if (self->q[i].fd >= 0)
			close(self->q[i].fd);
	}
	if (self->vm.iommufd >= 0)
		close(self->vm.iommufd);
}

#define EPG(ipa)	((__u8 *)hva(&self->vm.ram, (ipa)))

/*
 * The guest turns its CD off (V = 0) and says so with CFGI_CD: the next
 * DMA is a C_BAD_CD of the device, which reaches the VMM on the device's
 * vIOMMU with the vSID, as the first record of the queue; nothing reaches
 * the other SMMU's vIOMMU. With the CD valid again, DMA works and no
 * event follows.
 */
TEST_F(vevent, bad_cd)
{
	int s = variant->smmu, o = !s;
	struct nest *n = &self->n[s];
	__le64 *cd = hva(&self->vm.ram, n->g.cd_ipa), w0 = cd[0];
	struct edu *edu = &n->vd.edu;
	__u8 *snap = pattern_alloc(GUEST_RAM_SIZE);
	struct vmm_vevent ev;
	vcmd_t cmd;

	ASSERT_NE(NULL, snap);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(EPG(self->src[s]), EPG(self->dst[s]), PAGE));

	smmu_write64(&cd[0], w0 & ~htole64(SMMU_CD_0_V));
	smmu_cmd_cfgi_cd(cmd.cmd, n->g.vsid, 0, true);
	forward1(_metadata, self->vm.iommufd, n, &cmd);
	/* A read, then a write of what the device holds: neither happens. */
	dma_may_fault(_metadata, edu, VA_SRC, 0, FAULT_LEN, false);
	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_C_BAD_CD,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(0u, ev.sequence);
	/* No substream: SSV clear. */
	ASSERT_FALSE(HAS(evt_word(&ev, 0), SMMU_EVT_0_SSV));
	pattern_fill(EPG(self->dst[s]), PAGE, seed_of(_metadata, s, 73));
	memcpy(snap, self->vm.ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, VA_DST, 0, FAULT_LEN, true);
	ASSERT_EQ(-1, pattern_diff(snap, self->vm.ram_hva, GUEST_RAM_SIZE));
	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_C_BAD_CD,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(1u, ev.sequence);
	expect_quiet(_metadata, &self->q[o], QUIET_MS, "other vIOMMU");

	/* The CD back: DMA, and silence. */
	smmu_write64(&cd[0], w0);
	forward1(_metadata, self->vm.iommufd, n, &cmd);
	dma_copy(_metadata, edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(EPG(self->src[s]), EPG(self->dst[s]), PAGE));
	expect_quiet(_metadata, &self->q[s], QUIET_MS, "after the CD was fixed");
	expect_quiet(_metadata, &self->q[o], 0, "other vIOMMU");
	ASSERT_EQ(0ull, self->q[s].lost);
	munmap(snap, GUEST_RAM_SIZE);
}

/*
 * A DMA write to a VA the guest's stage 1 does not map is an F_TRANSLATION
 * of stage 1 (S2 clear, class IN) with the VA as its input address and
 * RnW clear; a read of the next VA one with RnW set, numbered on. Guest
 * RAM stays untouched, the other vIOMMU hears nothing.
 */
TEST_F(vevent, s1_translation_fault)
{
	int s = variant->smmu, o = !s;
	struct nest *n = &self->n[s];
	struct edu *edu = &n->vd.edu;
	struct vmm_vevent ev;
	__u8 *snap = pattern_alloc(GUEST_RAM_SIZE);

	ASSERT_NE(NULL, snap);
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	memcpy(snap, self->vm.ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, edu, VA_NONE, 0, FAULT_LEN, true);
	ASSERT_EQ(-1, pattern_diff(snap, self->vm.ram_hva, GUEST_RAM_SIZE));

	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_F_TRANSLATION,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(0u, ev.sequence);
	ASSERT_EQ(VA_NONE, evt_word(&ev, 2));
	ASSERT_FALSE(HAS(evt_word(&ev, 1), SMMU_EVT_1_RNW));
	ASSERT_EQ((__u64)SMMU_EVT_CLASS_IN, SMMU_GET(SMMU_EVT_1_CLASS, evt_word(&ev, 1)));

	dma_may_fault(_metadata, edu, VA_NONE + PAGE, 0, FAULT_LEN, false);
	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_F_TRANSLATION,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(1u, ev.sequence);
	ASSERT_EQ(VA_NONE + PAGE, evt_word(&ev, 2));
	ASSERT_TRUE(HAS(evt_word(&ev, 1), SMMU_EVT_1_RNW));
	expect_quiet(_metadata, &self->q[o], QUIET_MS, "other vIOMMU");
	ASSERT_EQ(0ull, self->q[s].lost);
	munmap(snap, GUEST_RAM_SIZE);
}

/*
 * A DMA write to VA_SRC, which the guest mapped read-only: F_PERMISSION of
 * stage 1 at VA_SRC, a write; the page keeps its bytes.
 */
TEST_F(vevent, s1_permission_fault)
{
	int s = variant->smmu, o = !s;
	struct nest *n = &self->n[s];
	struct edu *edu = &n->vd.edu;
	__u8 *was = pattern_alloc(PAGE);
	struct vmm_vevent ev;

	ASSERT_NE(NULL, was);
	ASSERT_EQ(0, edu_to_dev(edu, VA_DST, 0, PAGE));
	memcpy(was, EPG(self->src[s]), PAGE);
	ASSERT_NE(-1, pattern_diff(was, EPG(self->dst[s]), PAGE));
	dma_may_fault(_metadata, edu, VA_SRC, 0, FAULT_LEN, true);
	ASSERT_EQ(-1, pattern_diff(was, EPG(self->src[s]), PAGE));

	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_F_PERMISSION,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(VA_SRC, evt_word(&ev, 2));
	ASSERT_FALSE(HAS(evt_word(&ev, 1), SMMU_EVT_1_RNW));
	expect_quiet(_metadata, &self->q[o], QUIET_MS, "other vIOMMU");
	munmap(was, PAGE);
}

/*
 * A fault of stage 2 (the guest maps VA_X at an IPA the VMM never mapped)
 * is the VMM's own business: no vEVENT on either vIOMMU, and nothing lost
 * either, as the next stage-1 fault arrives as record 0.
 */
TEST_F(vevent, s2_fault_stays_with_host)
{
	int s = variant->smmu, o = !s;
	struct nest *n = &self->n[s];
	struct edu *edu = &n->vd.edu;
	struct vmm_vevent ev;

	ASSERT_EQ(0, smmu_s1_map(&n->g.s1, VA_X, IPA_HOLE,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
	ASSERT_EQ(0, edu_to_dev(edu, VA_SRC, 0, PAGE));
	dma_may_fault(_metadata, edu, VA_X, 0, PAGE, true);
	dma_may_fault(_metadata, edu, VA_X, 0, PAGE, false);
	expect_quiet(_metadata, &self->q[s], 2 * QUIET_MS, "stage-2 fault");
	expect_quiet(_metadata, &self->q[o], 0, "other vIOMMU");

	dma_may_fault(_metadata, edu, VA_NONE, 0, FAULT_LEN, true);
	expect_smmu_events(_metadata, &self->q[s], SMMU_EVT_F_TRANSLATION,
			   n->g.vsid, 1, &ev);
	ASSERT_EQ(0u, ev.sequence);
	ASSERT_EQ(0ull, self->q[s].lost);
}

/*
 * A queue of depth 1 and three faulting transfers before the VMM reads:
 * the first event, then one LOST_EVENTS record (header only) whose
 * sequence number counts every event dropped; the reader's count of lost
 * events says so. Read empty, the queue takes the next event, numbered on
 * from the LOST_EVENTS record.
 */
TEST_F(vevent, lost_events)
{
	int s = variant->smmu, fd = self->vm.iommufd, i, n;
	struct nest *nt = &self->n[s];
	struct edu *edu = &nt->vd.edu;
	struct vmm_vevent ev[MAX_EVENTS];
	struct pollfd pfd;
	__u32 lost_seq;

	ASSERT_EQ(0, vmm_veventq_free(fd, &self->q[s]));
	ASSERT_EQ(0, vmm_veventq_alloc(fd, nt->viommu_id,
				       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1,
				       &self->q[s]));
	for (i = 0; i < 3; i++)
		dma_may_fault(_metadata, edu, VA_NONE + i * PAGE, 0, FAULT_LEN,
			      true);
	/* Let the host's event thread forward all of them before reading. */
	pfd = (struct pollfd){ .fd = self->q[s].fd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, EVENT_WAIT_MS));
	usleep(1000 * 1000);

	n = events_read(_metadata, &self->q[s], ev, 0);
	ASSERT_EQ(2, n) {
		TH_LOG("%d records: depth 1 should leave an event and LOST_EVENTS", n);
	}
	ASSERT_EQ(0u, ev[0].flags);
	ASSERT_EQ(0u, ev[0].sequence);
	ASSERT_EQ(SMMU_EVT_F_TRANSLATION, vmm_vevent_smmuv3_id(&ev[0]));
	ASSERT_EQ(nt->g.vsid, vmm_vevent_smmuv3_sid(&ev[0]));
	ASSERT_EQ(VA_NONE, evt_word(&ev[0], 2));
	ASSERT_EQ((__u32)IOMMU_VEVENTQ_FLAG_LOST_EVENTS, ev[1].flags);
	ASSERT_EQ(0u, ev[1].data_len);
	/* Three transfers, an event each: two dropped. */
	lost_seq = ev[1].sequence;
	ASSERT_EQ(2u, lost_seq);
	ASSERT_EQ(lost_seq - 1, ev[1].lost_before);
	ASSERT_EQ((__u64)lost_seq, self->q[s].lost);
	ASSERT_EQ(2ull, self->q[s].records);

	/* Room again: the next event is kept, numbered on. */
	dma_may_fault(_metadata, edu, VA_NONE + 3 * PAGE, 0, FAULT_LEN, false);
	n = vmm_veventq_read(&self->q[s], ev, MAX_EVENTS, EVENT_WAIT_MS);
	ASSERT_EQ(1, n);
	ASSERT_EQ(0u, ev[0].flags);
	ASSERT_EQ(lost_seq + 1, ev[0].sequence);
	ASSERT_EQ(0u, ev[0].lost_before);
	ASSERT_EQ(VA_NONE + 3 * PAGE, evt_word(&ev[0], 2));
	ASSERT_TRUE(HAS(evt_word(&ev[0], 1), SMMU_EVT_1_RNW));
}

/*
 * QEMU 11.1's order (shared/design/real-vmm.md), on the edu behind SMMU
 * @smmu: the vIOMMU with its abort {0x1, 0} and bypass {0x9, 0} nested
 * HWPTs, the device attached to bypass before it has any ID, the vEVENTQ;
 * bypass is stage 2 only (IPAs DMA), abort blocks, and the faults of the
 * device without an ID give no vEVENT. The guest's stage-1 HWPT needs the
 * ID (ENOENT), IOMMU_VDEVICE_ALLOC gives it (its vDEVICE may come and go
 * while the device does not translate, not while it does: EBUSY); then
 * stage 1 DMAs and its faults reach the queue with the vSID, as its first
 * record. QEMU's teardown order then succeeds step by step.
 */
static void qemu_order(struct __test_metadata *_metadata, int smmu)
{
	__u32 parent, viommu, abort_id, bypass_id, s1_id, vdev, dev;
	__u32 vsid = VSID_VDEV_BASE + smmu;
	struct vmm_veventq q = { .fd = -1 };
	struct vm_dev vd = { .dev.fd = -1 };
	struct vmm_vevent ev;
	smmu_info_t info;
	struct guest g;
	struct vste vste;
	__u64 src, dst;
	__u8 *snap = pattern_alloc(GUEST_RAM_SIZE);
	struct vm vm;
	int fd;

	ASSERT_NE(NULL, snap);
	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	vm_dev_bind(_metadata, &vd, smmu, fd);
	dev = vd.dev.dev_id;
	get_hw_info(_metadata, fd, dev, &info);
	ASSERT_EQ(0, vmm_viommu_create(fd, dev, vm.ioas_id,
				       IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				       &parent, &viommu));
	vste.ste[0] = htole64(0x1);
	vste.ste[1] = 0;
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, dev, viommu, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &abort_id));
	vste.ste[0] = htole64(0x9);
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, dev, viommu, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &bypass_id));
	ASSERT_EQ(0, vmm_dev_attach(&vd.dev, bypass_id, NULL)) {
		TH_LOG("attach to the bypass HWPT without an ID: %s",
		       strerror(errno));
	}
	ASSERT_EQ(0, vmm_veventq_alloc(fd, viommu,
				       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 16, &q));
	vm_dev_enable(_metadata, &vd);

	/* Bypass: stage 2 only, the device's addresses are IPAs. */
	src = guest_page(_metadata, &vm.ram, seed_of(_metadata, smmu, 80));
	dst = guest_page(_metadata, &vm.ram, seed_of(_metadata, smmu, 81));
	dma_copy(_metadata, &vd.edu, src, dst, PAGE);
	ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src), hva(&vm.ram, dst), PAGE));
	/* Faults of a device without an ID: no vEVENT. */
	dma_may_fault(_metadata, &vd.edu, IPA_HOLE, 0, PAGE, true);
	dma_may_fault(_metadata, &vd.edu, VA_NONE, 0, PAGE, false);
	/* The device gets data that is then nowhere in guest RAM... */
	pattern_fill(hva(&vm.ram, src), PAGE, seed_of(_metadata, smmu, 82));
	ASSERT_EQ(0, edu_to_dev(&vd.edu, src, 0, PAGE));
	pattern_fill(hva(&vm.ram, src), PAGE, seed_of(_metadata, smmu, 84));
	/* ...abort: it writes nothing anywhere, and no vEVENT either. */
	ASSERT_EQ(0, vmm_dev_attach(&vd.dev, abort_id, NULL));
	memcpy(snap, vm.ram_hva, GUEST_RAM_SIZE);
	dma_may_fault(_metadata, &vd.edu, dst, 0, PAGE, true);
	ASSERT_EQ(-1, pattern_diff(snap, vm.ram_hva, GUEST_RAM_SIZE));
	expect_quiet(_metadata, &q, 2 * QUIET_MS, "device without an ID");

	/* The guest's STE: stage 1. It needs the ID. */
	guest_init(_metadata, &g, &vm.ram, vsid,
		   SMMU_GET(SMMU_IDR5_OAS, info.idr[5]));
	ASSERT_EQ(0, smmu_s1_map(&g.s1, VA_SRC, src, SMMU_PROT_READ));
	ASSERT_EQ(0, smmu_s1_map(&g.s1, VA_DST, dst,
				 SMMU_PROT_READ | SMMU_PROT_WRITE));
	vste_of(&g, &vste);
	ASSERT_EQ(0, vmm_hwpt_alloc(fd, dev, viommu, 0, VSMMU_HWPT_DATA,
				    &vste, sizeof(vste), &s1_id));
	ASSERT_EQ(-ENOENT, vmm_dev_attach(&vd.dev, s1_id, NULL));
	ASSERT_EQ(abort_id, vd.dev.pt_id);
	ASSERT_EQ(0, vmm_vdevice_alloc(fd, viommu, dev, vsid, &vdev));
	/* On a HWPT that does not translate, the vDEVICE may go and come. */
	ASSERT_EQ(0, vmm_vdevice_destroy(fd, vdev));
	ASSERT_EQ(0, vmm_vdevice_alloc(fd, viommu, dev, vsid, &vdev));
	ASSERT_EQ(0, vmm_dev_attach(&vd.dev, s1_id, NULL));
	pattern_fill(hva(&vm.ram, src), PAGE, seed_of(_metadata, smmu, 83));
	dma_copy(_metadata, &vd.edu, VA_SRC, VA_DST, PAGE);
	ASSERT_EQ(-1, pattern_diff(hva(&vm.ram, src), hva(&vm.ram, dst), PAGE));
	ASSERT_EQ(-EBUSY, vmm_vdevice_destroy(fd, vdev));

	/* Now the device's stage-1 faults are the guest's. */
	dma_may_fault(_metadata, &vd.edu, VA_NONE, 0, FAULT_LEN, true);
	expect_smmu_events(_metadata, &q, SMMU_EVT_F_TRANSLATION, vsid, 1, &ev);
	ASSERT_EQ(0u, ev.sequence);
	ASSERT_EQ(VA_NONE, evt_word(&ev, 2));
	ASSERT_EQ(0ull, q.lost);

	/* QEMU's teardown. */
	ASSERT_EQ(0, vmm_dev_attach(&vd.dev, parent, NULL));
	ASSERT_EQ(0, vmm_destroy(fd, s1_id));
	ASSERT_EQ(0, vmm_vdevice_destroy(fd, vdev));
	ASSERT_EQ(0, vmm_veventq_free(fd, &q));
	ASSERT_EQ(0, vmm_destroy(fd, abort_id));
	ASSERT_EQ(0, vmm_destroy(fd, bypass_id));
	ASSERT_EQ(0, vmm_destroy(fd, viommu));
	vm_dev_teardown(&vd);
	ASSERT_EQ(0, vmm_destroy(fd, parent));
	close(fd);
	munmap(snap, GUEST_RAM_SIZE);
}

TEST(qemu_order_smmu0)
{
	qemu_order(_metadata, 0);
}

TEST(qemu_order_smmu1)
{
	qemu_order(_metadata, 1);
}

/*
 * IOMMU_VEVENTQ_ALLOC's rules on a real SMMUv3 vIOMMU: depth 0 EINVAL;
 * type DEFAULT, flags or reserved bits EOPNOTSUPP; not a vIOMMU ENOENT;
 * one queue per type (EEXIST). An empty queue reads 0 bytes. The queue
 * holds the vIOMMU and its open file holds the queue (EBUSY); closed, both
 * go. A queue whose fd outlives the iommufd's stays readable.
 */
TEST(veventq_rules)
{
	struct iommu_veventq_alloc cmd;
	struct vmm_veventq q, q2;
	struct vm_dev vd = { .dev.fd = -1 };
	struct vmm_vevent ev;
	__u32 parent, viommu;
	__u8 buf[64];
	struct vm vm;
	int fd;

	vm_setup(_metadata, &vm);
	fd = vm.iommufd;
	vm_dev_bind(_metadata, &vd, 0, fd);
	ASSERT_EQ(0, vmm_viommu_create(fd, vd.dev.dev_id, vm.ioas_id,
				       IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				       &parent, &viommu));

	ASSERT_EQ(-EINVAL, vmm_veventq_alloc(fd, viommu,
					     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 0,
					     &q));
	ASSERT_EQ(-EOPNOTSUPP, vmm_veventq_alloc(fd, viommu,
						 IOMMU_VEVENTQ_TYPE_DEFAULT, 8,
						 &q));
	ASSERT_EQ(-ENOENT, vmm_veventq_alloc(fd, 0xfffff,
					     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8,
					     &q));
	ASSERT_EQ(-ENOENT, vmm_veventq_alloc(fd, parent,
					     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8,
					     &q));
	cmd = (struct iommu_veventq_alloc){
		.size = sizeof(cmd),
		.flags = 1,
		.viommu_id = viommu,
		.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.veventq_depth = 8,
	};
	ASSERT_EQ(-1, ioctl(fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	ASSERT_EQ(EOPNOTSUPP, errno);
	cmd.flags = 0;
	cmd.__reserved = 1;
	ASSERT_EQ(-1, ioctl(fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	ASSERT_EQ(EOPNOTSUPP, errno);

	ASSERT_EQ(0, vmm_veventq_alloc(fd, viommu,
				       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8, &q));
	ASSERT_EQ(-EEXIST, vmm_veventq_alloc(fd, viommu,
					     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8,
					     &q2));
	ASSERT_EQ(0, vmm_veventq_read(&q, &ev, 1, 0));
	ASSERT_EQ(0, read(q.fd, buf, sizeof(buf)));
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, viommu));
	ASSERT_EQ(-EBUSY, vmm_destroy(fd, q.id));
	ASSERT_EQ(0, vmm_veventq_free(fd, &q));
	ASSERT_EQ(-ENOENT, vmm_destroy(fd, q.id));

	/* A queue again; the VMM closes /dev/iommu first, then the queue. */
	ASSERT_EQ(0, vmm_veventq_alloc(fd, viommu,
				       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8, &q));
	vm_dev_teardown(&vd);
	close(fd);
	ASSERT_EQ(0, read(q.fd, buf, sizeof(buf)));
	close(q.fd);
}
