/* SPDX-License-Identifier: GPL-2.0 */
/*
 * e2e-nested: the edu's MSI through both stages.
 *
 * Part of the e2e-nested program: main.c includes it (a part, not a
 * header to share).
 */

/* ---- MSI of a device on a nested HWPT ------------------------------- */

/*
 * The software MSI window of an SMMUv3 (its IOMMU_RESV_SW_MSI region). The
 * kernel gives a device on a nested HWPT an MSI address in it and maps the
 * ITS doorbell there in the nesting parent's stage 2; QEMU's IORT gives its
 * guest an RMR for the window, so the guest keeps it mapped 1:1 in its
 * stage 1. The MSI then goes IOVA -(stage 1)-> the same IPA -(stage 2)->
 * the doorbell, and the VMM sees it on the eventfd it gave VFIO.
 */
#define MSI_WINDOW	0x8000000ull
#define MSI_WINDOW_SIZE	0x100000ull
#define MSI_TIMEOUT_MS	2000
#define EDU_IRQ_TEST	0x1u	/* the status bit these tests raise */

/* What the guest does for the window QEMU's RMR describes. */
static void guest_map_msi_window(struct __test_metadata *_metadata,
				 struct guest *g)
{
	__u64 a;

	for (a = MSI_WINDOW; a < MSI_WINDOW + MSI_WINDOW_SIZE; a += PAGE)
		ASSERT_EQ(0, smmu_s1_map(&g->s1, a, a,
					 SMMU_PROT_READ | SMMU_PROT_WRITE));
}

/* The VMM routes the device's MSI to a new eventfd (a KVM irqfd's). */
static int msi_enable(struct __test_metadata *_metadata, struct vm_dev *vd)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vmm_dev_irq_eventfd(&vd->dev, VFIO_PCI_MSI_IRQ_INDEX,
					 efd)) {
		TH_LOG("MSI of %s: %s", vd->dev.pci.bdf, strerror(errno));
	}
	return efd;
}

/* How many interrupts @efd counted, waiting up to @timeout_ms for one. */
static __u64 msi_count(int efd, int timeout_ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	__u64 n;

	if (poll(&pfd, 1, timeout_ms) != 1 || read(efd, &n, sizeof(n)) != 8)
		return 0;
	return n;
}

/*
 * The device raises its interrupt (@dma: at the end of a transfer to
 * @dma_iova, else through its IRQ register): exactly one MSI must reach
 * the VMM's eventfd, and none before.
 */
static void msi_check(struct __test_metadata *_metadata, struct vm_dev *vd,
		      int efd, const char *where, bool dma, __u64 dma_iova)
{
	__u32 bit = dma ? EDU_IRQ_DMA : EDU_IRQ_TEST;
	__u64 n;

	ASSERT_EQ(0ull, msi_count(efd, 0));
	if (dma) {
		ASSERT_EQ(0, edu_dma_start_irq(&vd->edu, dma_iova, 0, PAGE,
					       false));
	} else {
		edu_irq_raise(&vd->edu, bit);
	}
	n = msi_count(efd, MSI_TIMEOUT_MS);
	if (dma) {
		ASSERT_EQ(0, edu_dma_wait(&vd->edu, EDU_DMA_TIMEOUT_MS));
	}
	EXPECT_NE(0u, edu_read32(&vd->edu, EDU_REG_IRQ_STATUS) & bit);
	edu_irq_ack(&vd->edu, bit);
	ASSERT_EQ(1ull, n) {
		TH_LOG("%s: %s raised %s, the eventfd counted %llu in %d ms",
		       where, vd->dev.pci.bdf,
		       dma ? "a DMA-done interrupt" : "its interrupt",
		       (unsigned long long)n, MSI_TIMEOUT_MS);
	}
}

/*
 * The MSI of a device on a nested HWPT reaches the VMM, through both
 * stages; it keeps doing so when the device moves to another nested HWPT
 * (as when the guest rewrites its STE), to the nesting parent as a paging
 * HWPT (a guest bypassing its vSMMU) and back; and an MSI enabled again
 * while nested works too. Without the kernel mapping the doorbell in the
 * parent's stage 2, the device writes the doorbell's physical address,
 * which neither stage maps: nothing arrives.
 */
TEST_F(nested, msi)
{
	struct vm_dev *vd = &self->n.vd;
	struct nest *n = &self->n;
	__u32 nested2;
	struct vste vste;
	int efd;

	guest_map_msi_window(_metadata, &n->g);
	efd = msi_enable(_metadata, vd);
	msi_check(_metadata, vd, efd, "nested", false, 0);
	msi_check(_metadata, vd, efd, "nested, DMA", true, VA_SRC);

	/* The guest's STE again, in a second nested HWPT: a replace. */
	vste_of(&n->g, &vste);
	ASSERT_EQ(0, vmm_hwpt_alloc(self->vm.iommufd, vd->dev.dev_id,
				    n->viommu_id, 0, VSMMU_HWPT_DATA, &vste,
				    sizeof(vste), &nested2));
	ASSERT_EQ(0, vmm_dev_attach(&vd->dev, nested2, NULL));
	msi_check(_metadata, vd, efd, "second nested HWPT", false, 0);

	/* Stage 2 alone: the MSI address is an IPA there, and still works. */
	ASSERT_EQ(0, vmm_dev_attach(&vd->dev, n->parent_id, NULL));
	msi_check(_metadata, vd, efd, "nesting parent", false, 0);
	msi_check(_metadata, vd, efd, "nesting parent, DMA", true,
		  self->src_ipa);

	ASSERT_EQ(0, vmm_dev_attach(&vd->dev, n->nested_id, NULL));
	msi_check(_metadata, vd, efd, "back on the nested HWPT", false, 0);
	ASSERT_EQ(0, vmm_destroy(self->vm.iommufd, nested2));

	/* MSI off and on again: a new MSI, prepared while nested. */
	ASSERT_EQ(0, vmm_dev_irq_off(&vd->dev, VFIO_PCI_MSI_IRQ_INDEX));
	close(efd);
	efd = msi_enable(_metadata, vd);
	msi_check(_metadata, vd, efd, "MSI enabled again, nested", false, 0);
	ASSERT_EQ(0, vmm_dev_irq_off(&vd->dev, VFIO_PCI_MSI_IRQ_INDEX));
	close(efd);
}

/*
 * Two devices behind SMMU 0 in one VM, each on its own nested HWPT of the
 * same vIOMMU: one nesting parent, one ITS doorbell. Both get their MSIs
 * (the doorbell is mapped once in the parent, not twice); when one device
 * goes, the other keeps them, across a replace to the parent and back;
 * when the last goes, the doorbell leaves the parent's stage 2 with it, so
 * the VMM may then map guest RAM over the window, which no device
 * reserves any more.
 */
TEST(msi_two_devices_one_parent)
{
	struct vm_dev vd[2] = {};
	struct guest g[2];
	__u32 parent, viommu, nested[2];
	struct vste vste;
	int i, fd, efd[2];
	smmu_info_t info;
	unsigned int oas;
	struct vm vm;
	__u8 *page;

	vm_setup_pair(_metadata, &vm, &vd[0].dev, &vd[1].dev);
	fd = vm.iommufd;
	get_hw_info(_metadata, fd, vd[0].dev.dev_id, &info);
	oas = SMMU_GET(SMMU_IDR5_OAS, info.idr[5]);
	ASSERT_EQ(0, vmm_viommu_create(fd, vd[0].dev.dev_id, vm.ioas_id,
				       IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				       &parent, &viommu));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vmm_viommu_set_dev_id(fd, viommu, vd[i].dev.dev_id,
						   VSID_BASE + i));
		guest_init(_metadata, &g[i], &vm.ram, VSID_BASE + i, oas);
		guest_map_msi_window(_metadata, &g[i]);
		vste_of(&g[i], &vste);
		ASSERT_EQ(0, vmm_hwpt_alloc(fd, vd[i].dev.dev_id, viommu, 0,
					    VSMMU_HWPT_DATA, &vste,
					    sizeof(vste), &nested[i]));
		ASSERT_EQ(0, vmm_dev_attach(&vd[i].dev, nested[i], NULL));
		vm_dev_enable(_metadata, &vd[i]);
	}
	for (i = 0; i < 2; i++)
		efd[i] = msi_enable(_metadata, &vd[i]);
	for (i = 0; i < 2; i++)
		msi_check(_metadata, &vd[i], efd[i], "two devices", false, 0);

	/* Device 0 goes: device 1 still uses the doorbell in the parent. */
	vm_dev_teardown(&vd[0]);
	close(efd[0]);
	msi_check(_metadata, &vd[1], efd[1], "other device gone", false, 0);
	ASSERT_EQ(0, vmm_dev_attach(&vd[1].dev, parent, NULL));
	msi_check(_metadata, &vd[1], efd[1], "other device gone, parent",
		  false, 0);
	ASSERT_EQ(0, vmm_dev_attach(&vd[1].dev, nested[1], NULL));
	msi_check(_metadata, &vd[1], efd[1], "other device gone, nested",
		  false, 0);

	/*
	 * The last device goes; the parent, held by the vIOMMU, stays. The
	 * window is free in the IOAS: guest RAM may go there, in the parent
	 * too, where the doorbell must no longer be (EEXIST).
	 */
	vm_dev_teardown(&vd[1]);
	close(efd[1]);
	page = pattern_alloc(HPAGE);
	ASSERT_NE(NULL, page);
	ASSERT_EQ(0, vmm_ioas_map(fd, vm.ioas_id, page, HPAGE, MSI_WINDOW,
				  RW)) {
		TH_LOG("map at the MSI window after the last detach: %s",
		       strerror(errno));
	}
	ASSERT_EQ(0, vmm_ioas_unmap(fd, vm.ioas_id, MSI_WINDOW, HPAGE, NULL));
	close(fd);
}
