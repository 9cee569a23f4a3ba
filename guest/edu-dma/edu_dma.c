// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma: a test driver for QEMU's "edu" PCI device (1234:11e8) that
 * proves DMA through the kernel's DMA API.
 *
 * Behind an IOMMU, every buffer the edu reads or writes here is mapped with
 * dma_map_single() in the device's default DMA domain, and unmapped before
 * the CPU looks at it. User space drives each device through its misc
 * device /dev/edu-dma-<BDF> (ioctls in edu_dma.h): round trips through the
 * edu's own buffer, a write to a bus address that was just unmapped (which
 * a strict IOMMU must block), and a map/unmap loop for benchmarks. The
 * edu's DMA completion interrupt is an MSI, which also goes through the
 * IOMMU (its doorbell is mapped in the same domain).
 *
 * The edu (QEMU hw/misc/edu.c), BAR0 registers used:
 *
 *	0x00 ID		0xRRrr00ed
 *	0x24 IRQ_STATUS	pending interrupt bits
 *	0x64 IRQ_ACK	clears the bits written
 *	0x80 DMA_SRC	64-bit bus address (one 8-byte write)
 *	0x88 DMA_DST	64-bit
 *	0x90 DMA_CNT	bytes
 *	0x98 DMA_CMD	bit 0 start (reads 1 until done), bit 1 direction
 *			(1: device to RAM), bit 2 interrupt when done
 *
 * A transfer runs about 100 ms after it is started. The device side of a
 * transfer is its 4 KiB buffer at device address 0x40000.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/iopoll.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "edu_dma.h"

#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8

#define EDU_REG_ID		0x00
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_CMD_START	BIT(0)
#define EDU_DMA_CMD_TO_RAM	BIT(1)
#define EDU_DMA_CMD_IRQ		BIT(2)

#define EDU_ID_MAGIC		0xed
#define EDU_BUF_ADDR		0x40000
#define EDU_DMA_TIMEOUT_MS	5000

#define EDU_STALE_FILL		0x5a	/* what the edu writes */
#define EDU_STALE_CANARY	0xa5	/* the buffer once unmapped */

static unsigned int dma_bits = 64;
module_param(dma_bits, uint, 0444);
MODULE_PARM_DESC(dma_bits,
		 "Width of the devices' DMA mask, 24..64 (default 64; an edu without QEMU's dma_mask property has 28)");

struct edu_dma {
	struct kref ref;		/* probe, and each open file */
	struct pci_dev *pdev;
	void __iomem *mmio;
	int irq;
	struct miscdevice misc;
	struct completion done;		/* the edu raised its interrupt */
	atomic64_t irq_count;
	/* Serialises the ioctls' use of the device; protects the flags */
	struct mutex lock;
	bool gone;			/* removed: hands off the device */
	bool broken;			/* a transfer hung: bus master is off */
};

static void edu_dma_free(struct kref *ref)
{
	struct edu_dma *edu = container_of(ref, struct edu_dma, ref);

	pci_dev_put(edu->pdev);
	kfree(edu->misc.name);
	kfree(edu);
}

static irqreturn_t edu_dma_irq(int irq, void *data)
{
	struct edu_dma *edu = data;
	u32 status = readl(edu->mmio + EDU_REG_IRQ_STATUS);

	if (!status)
		return IRQ_NONE;
	writel(status, edu->mmio + EDU_REG_IRQ_ACK);
	atomic64_inc(&edu->irq_count);
	complete(&edu->done);
	return IRQ_HANDLED;
}

/*
 * One transfer of @len bytes between bus address @addr and the edu's buffer
 * at @off, waited for by polling or by its interrupt. A transfer that is
 * still running after the timeout cannot be allowed to reach memory that is
 * about to be unmapped and freed: bus mastering is turned off for good, and
 * the device refuses further ioctls (-EIO).
 */
static int edu_dma_xfer(struct edu_dma *edu, dma_addr_t addr, u32 off,
			u32 len, bool to_ram, bool poll)
{
	u64 dev_addr = EDU_BUF_ADDR + off;
	u32 cmd = EDU_DMA_CMD_START;
	int ret = 0;
	u32 val;

	if (to_ram)
		cmd |= EDU_DMA_CMD_TO_RAM;
	if (!poll)
		cmd |= EDU_DMA_CMD_IRQ;
	reinit_completion(&edu->done);
	writeq(to_ram ? dev_addr : addr, edu->mmio + EDU_REG_DMA_SRC);
	writeq(to_ram ? addr : dev_addr, edu->mmio + EDU_REG_DMA_DST);
	writel(len, edu->mmio + EDU_REG_DMA_CNT);
	/* writel() orders the buffer's contents before the start */
	writel(cmd, edu->mmio + EDU_REG_DMA_CMD);

	if (!poll &&
	    !wait_for_completion_timeout(&edu->done,
					 msecs_to_jiffies(EDU_DMA_TIMEOUT_MS)))
		ret = -ETIMEDOUT;
	/* The edu clears the start bit before it raises the interrupt */
	if (readl_poll_timeout(edu->mmio + EDU_REG_DMA_CMD, val,
			       !(val & EDU_DMA_CMD_START), USEC_PER_MSEC,
			       EDU_DMA_TIMEOUT_MS * USEC_PER_MSEC)) {
		dev_err(&edu->pdev->dev,
			"DMA to %s at %pad hung, bus master off\n",
			to_ram ? "RAM" : "device", &addr);
		pci_clear_master(edu->pdev);
		edu->broken = true;
		ret = -ETIMEDOUT;
	} else if (ret) {
		dev_err(&edu->pdev->dev, "DMA done but no interrupt\n");
	}
	return ret;
}

/*
 * Map @buf for @dir, have the edu copy @len bytes between it and its own
 * buffer at @off, unmap it. *@addr gets the bus address used, *@translated
 * whether it differs from the buffer's physical address.
 */
static int edu_dma_map_xfer(struct edu_dma *edu, void *buf, u32 off, u32 len,
			    enum dma_data_direction dir, bool poll,
			    dma_addr_t *addr, bool *translated)
{
	struct device *dev = &edu->pdev->dev;
	int ret;

	*translated = false;
	*addr = dma_map_single(dev, buf, len, dir);
	if (dma_mapping_error(dev, *addr))
		return -ENOMEM;
	*translated = *addr != virt_to_phys(buf);
	ret = edu_dma_xfer(edu, *addr, off, len, dir == DMA_FROM_DEVICE, poll);
	dma_unmap_single(dev, *addr, len, dir);
	return ret;
}

static int edu_dma_count_dev(struct device *dev, void *data)
{
	(*(int *)data)++;
	return 0;
}

/* Devices in @dev's IOMMU group, 0 if it has none */
static int edu_dma_group_size(struct device *dev)
{
	struct iommu_group *grp = iommu_group_get(dev);
	int n = 0;

	if (grp) {
		iommu_group_for_each_dev(grp, &n, edu_dma_count_dev);
		iommu_group_put(grp);
	}
	return n;
}

/* Take the device for an ioctl: 0, or -EINTR, -ENODEV (removed), -EIO */
static int edu_dma_lock(struct edu_dma *edu)
{
	int ret = mutex_lock_interruptible(&edu->lock);

	if (ret)
		return ret;
	if (edu->gone)
		ret = -ENODEV;
	else if (edu->broken)
		ret = -EIO;
	if (ret)
		mutex_unlock(&edu->lock);
	return ret;
}

static int edu_dma_ioc_info(struct edu_dma *edu, void __user *uarg)
{
	struct pci_dev *pdev = edu->pdev;
	struct edu_dma_info info = {};
	int ret;

	ret = edu_dma_lock(edu);
	if (ret)
		return ret;
	info.segment = pci_domain_nr(pdev->bus);
	info.rid = pci_dev_id(pdev);
	info.irq = edu->irq;
	if (device_iommu_mapped(&pdev->dev))
		info.flags |= EDU_DMA_INFO_IOMMU;
	info.irq_count = atomic64_read(&edu->irq_count);
	info.dma_mask = dma_get_mask(&pdev->dev);
	info.edu_id = readl(edu->mmio + EDU_REG_ID);
	mutex_unlock(&edu->lock);

	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static int edu_dma_ioc_copy(struct edu_dma *edu, void __user *uarg)
{
	u8 *out = NULL, *in;
	struct edu_dma_copy c;
	dma_addr_t addr;
	bool poll, tr;
	u64 irqs;
	int ret;
	u32 i;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if (c.flags & ~EDU_DMA_POLL)
		return -EINVAL;
	if (!c.len || c.dev_off >= EDU_DMA_BUF_SIZE ||
	    c.len > EDU_DMA_BUF_SIZE - c.dev_off)
		return -EINVAL;
	poll = c.flags & EDU_DMA_POLL;

	in = memdup_user(u64_to_user_ptr(c.src), c.len);
	if (IS_ERR(in))
		return PTR_ERR(in);
	out = kmalloc(c.len, GFP_KERNEL);
	if (!out) {
		ret = -ENOMEM;
		goto out_free;
	}
	/* Not what comes back: a transfer that faulted cannot pass */
	for (i = 0; i < c.len; i++)
		out[i] = ~in[i];

	ret = edu_dma_lock(edu);
	if (ret)
		goto out_free;
	irqs = atomic64_read(&edu->irq_count);
	ret = edu_dma_map_xfer(edu, in, c.dev_off, c.len, DMA_TO_DEVICE, poll,
			       &addr, &tr);
	c.iova_to_dev = addr;
	if (tr)
		c.flags |= EDU_DMA_TO_DEV_TRANSLATED;
	if (!ret) {
		ret = edu_dma_map_xfer(edu, out, c.dev_off, c.len,
				       DMA_FROM_DEVICE, poll, &addr, &tr);
		c.iova_from_dev = addr;
		if (tr)
			c.flags |= EDU_DMA_FROM_DEV_TRANSLATED;
	}
	c.irqs = atomic64_read(&edu->irq_count) - irqs;
	mutex_unlock(&edu->lock);

	if (!ret && copy_to_user(u64_to_user_ptr(c.dst), out, c.len))
		ret = -EFAULT;
	if (!ret && copy_to_user(uarg, &c, sizeof(c)))
		ret = -EFAULT;
out_free:
	kfree(out);
	kfree(in);
	return ret;
}

static u32 edu_dma_count(const u8 *buf, u32 len, u8 val)
{
	u32 i, n = 0;

	for (i = 0; i < len; i++)
		n += buf[i] == val;
	return n;
}

static int edu_dma_ioc_stale(struct edu_dma *edu, void __user *uarg)
{
	struct device *dev = &edu->pdev->dev;
	struct iommu_domain *dom;
	struct edu_dma_stale s;
	void *fill, *canary;
	dma_addr_t addr;
	bool poll, tr;
	u64 irqs;
	int ret;

	if (copy_from_user(&s, uarg, sizeof(s)))
		return -EFAULT;
	if (s.flags & ~EDU_DMA_POLL)
		return -EINVAL;
	if (!s.len || s.len > EDU_DMA_BUF_SIZE)
		return -EINVAL;
	poll = s.flags & EDU_DMA_POLL;

	fill = kmalloc(s.len, GFP_KERNEL);
	canary = kzalloc(s.len, GFP_KERNEL);
	if (!fill || !canary) {
		ret = -ENOMEM;
		goto out_free;
	}
	memset(fill, EDU_STALE_FILL, s.len);

	/*
	 * Only a translating DMA domain of this device alone: with another
	 * device in the group, the freed bus address could be handed out to
	 * that device's mapping before the write below.
	 */
	dom = iommu_get_domain_for_dev(dev);
	if (!dom || !(dom->type & __IOMMU_DOMAIN_DMA_API) ||
	    edu_dma_group_size(dev) != 1) {
		ret = -EOPNOTSUPP;
		goto out_free;
	}

	ret = edu_dma_lock(edu);
	if (ret)
		goto out_free;
	irqs = atomic64_read(&edu->irq_count);
	ret = edu_dma_map_xfer(edu, fill, 0, s.len, DMA_TO_DEVICE, poll,
			       &addr, &tr);
	if (ret)
		goto out_unlock;

	addr = dma_map_single(dev, canary, s.len, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, addr)) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	s.flags = 0;
	if (iommu_iova_to_phys(dom, addr) == virt_to_phys(canary))
		s.flags |= EDU_DMA_STALE_PTE_SET;
	/* A write through the mapping: an IOMMU's IOTLB now holds it */
	ret = edu_dma_xfer(edu, addr, 0, s.len, true, poll);
	/*
	 * With strict invalidation the IOMMU has forgotten the mapping when
	 * this returns. The bus address is not reused before the transfer
	 * below: only this device's ioctls, serialised here, map in its
	 * domain.
	 */
	dma_unmap_single(dev, addr, s.len, DMA_FROM_DEVICE);
	if (ret)
		goto out_unlock;
	if (!iommu_iova_to_phys(dom, addr))
		s.flags |= EDU_DMA_STALE_PTE_CLEARED;
	s.iova = addr;
	s.arrived = edu_dma_count(canary, s.len, EDU_STALE_FILL);

	memset(canary, EDU_STALE_CANARY, s.len);
	ret = edu_dma_xfer(edu, addr, 0, s.len, true, poll);
	if (ret)
		goto out_unlock;
	s.changed = s.len - edu_dma_count(canary, s.len, EDU_STALE_CANARY);
	s.irqs = atomic64_read(&edu->irq_count) - irqs;
	s.reserved = 0;
	mutex_unlock(&edu->lock);

	if (copy_to_user(uarg, &s, sizeof(s)))
		ret = -EFAULT;
	goto out_free;

out_unlock:
	mutex_unlock(&edu->lock);
out_free:
	kfree(canary);
	kfree(fill);
	return ret;
}

static int edu_dma_ioc_maploop(struct edu_dma *edu, void __user *uarg)
{
	struct device *dev = &edu->pdev->dev;
	struct edu_dma_maploop m;
	dma_addr_t addr;
	u64 start;
	void *buf;
	u32 i;
	int ret;

	if (copy_from_user(&m, uarg, sizeof(m)))
		return -EFAULT;
	if (m.flags || !m.iters || m.iters > EDU_DMA_MAPLOOP_MAX)
		return -EINVAL;
	/* kmalloc() aligns a power-of-two size to itself: one page */
	buf = kmalloc(SZ_4K, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	ret = edu_dma_lock(edu);
	if (ret)
		goto out_free;
	start = ktime_get_ns();
	for (i = 0; i < m.iters; i++) {
		addr = dma_map_single(dev, buf, SZ_4K, DMA_BIDIRECTIONAL);
		if (dma_mapping_error(dev, addr)) {
			ret = -ENOMEM;
			break;
		}
		dma_unmap_single(dev, addr, SZ_4K, DMA_BIDIRECTIONAL);
		if ((i & 1023) == 1023) {
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			cond_resched();
		}
	}
	m.elapsed_ns = ktime_get_ns() - start;
	mutex_unlock(&edu->lock);

	if (!ret && copy_to_user(uarg, &m, sizeof(m)))
		ret = -EFAULT;
out_free:
	kfree(buf);
	return ret;
}

static long edu_dma_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct edu_dma *edu = container_of(file->private_data, struct edu_dma,
					   misc);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case EDU_DMA_INFO:
		return edu_dma_ioc_info(edu, uarg);
	case EDU_DMA_COPY:
		return edu_dma_ioc_copy(edu, uarg);
	case EDU_DMA_STALE:
		return edu_dma_ioc_stale(edu, uarg);
	case EDU_DMA_MAPLOOP:
		return edu_dma_ioc_maploop(edu, uarg);
	default:
		return -ENOTTY;
	}
}

static int edu_dma_open(struct inode *inode, struct file *file)
{
	/* misc_open() set private_data, under the lock misc_deregister() takes */
	struct edu_dma *edu = container_of(file->private_data, struct edu_dma,
					   misc);

	kref_get(&edu->ref);
	return nonseekable_open(inode, file);
}

static int edu_dma_release(struct inode *inode, struct file *file)
{
	struct edu_dma *edu = container_of(file->private_data, struct edu_dma,
					   misc);

	kref_put(&edu->ref, edu_dma_free);
	return 0;
}

static const struct file_operations edu_dma_fops = {
	.owner = THIS_MODULE,
	.open = edu_dma_open,
	.release = edu_dma_release,
	.unlocked_ioctl = edu_dma_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static int edu_dma_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct edu_dma *edu;
	u32 edu_id, val;
	int ret;

	if (dma_bits < 24 || dma_bits > 64)
		return -EINVAL;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	kref_init(&edu->ref);
	mutex_init(&edu->lock);
	init_completion(&edu->done);
	edu->pdev = pci_dev_get(pdev);

	edu->mmio = pcim_iomap_region(pdev, 0, KBUILD_MODNAME);
	if (IS_ERR(edu->mmio)) {
		ret = PTR_ERR(edu->mmio);
		goto err_put;
	}
	edu_id = readl(edu->mmio + EDU_REG_ID);
	if ((edu_id & 0xff) != EDU_ID_MAGIC) {
		dev_err(dev, "not an edu: ID register %#x\n", edu_id);
		ret = -ENODEV;
		goto err_put;
	}
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(dma_bits));
	if (ret) {
		dev_err(dev, "no %u-bit DMA\n", dma_bits);
		goto err_put;
	}

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		goto err_put;
	edu->irq = pci_irq_vector(pdev, 0);
	/* Nothing pending from a previous owner */
	writel(readl(edu->mmio + EDU_REG_IRQ_STATUS),
	       edu->mmio + EDU_REG_IRQ_ACK);
	ret = request_irq(edu->irq, edu_dma_irq, 0, KBUILD_MODNAME, edu);
	if (ret)
		goto err_vectors;

	edu->misc.name = kasprintf(GFP_KERNEL, "edu-dma-%s", pci_name(pdev));
	if (!edu->misc.name) {
		ret = -ENOMEM;
		goto err_irq;
	}
	edu->misc.minor = MISC_DYNAMIC_MINOR;
	edu->misc.fops = &edu_dma_fops;
	edu->misc.parent = dev;
	edu->misc.mode = 0600;

	/*
	 * A transfer a previous owner started may still be pending (the edu
	 * runs it from a timer and ignores the registers meanwhile): let it
	 * finish before bus mastering lets it reach our DMA domain.
	 */
	if (readl_poll_timeout(edu->mmio + EDU_REG_DMA_CMD, val,
			       !(val & EDU_DMA_CMD_START), USEC_PER_MSEC,
			       EDU_DMA_TIMEOUT_MS * USEC_PER_MSEC)) {
		dev_err(dev, "a DMA transfer of a previous owner never ends\n");
		ret = -EBUSY;
		goto err_irq;
	}
	writel(readl(edu->mmio + EDU_REG_IRQ_STATUS),
	       edu->mmio + EDU_REG_IRQ_ACK);
	pci_set_master(pdev);
	pci_set_drvdata(pdev, edu);
	ret = misc_register(&edu->misc);
	if (ret)
		goto err_master;

	dev_info(dev, "edu %#x, /dev/%s, MSI irq %d, %u-bit DMA%s\n", edu_id,
		 edu->misc.name, edu->irq, dma_bits,
		 device_iommu_mapped(dev) ? " through an IOMMU" : "");
	return 0;

err_master:
	pci_clear_master(pdev);
err_irq:
	free_irq(edu->irq, edu);
err_vectors:
	pci_free_irq_vectors(pdev);
err_put:
	kref_put(&edu->ref, edu_dma_free);
	return ret;
}

static void edu_dma_remove(struct pci_dev *pdev)
{
	struct edu_dma *edu = pci_get_drvdata(pdev);

	/* No new opens; an ioctl in progress finishes, later ones fail */
	misc_deregister(&edu->misc);
	mutex_lock(&edu->lock);
	edu->gone = true;
	mutex_unlock(&edu->lock);

	pci_clear_master(pdev);
	free_irq(edu->irq, edu);
	pci_free_irq_vectors(pdev);
	kref_put(&edu->ref, edu_dma_free);
}

static const struct pci_device_id edu_dma_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_dma_ids);

static struct pci_driver edu_dma_driver = {
	.name = KBUILD_MODNAME,
	.id_table = edu_dma_ids,
	.probe = edu_dma_probe,
	.remove = edu_dma_remove,
};
module_pci_driver(edu_dma_driver);

MODULE_DESCRIPTION("DMA API test driver for QEMU's edu PCI device");
MODULE_LICENSE("GPL");
