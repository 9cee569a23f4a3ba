/* SPDX-License-Identifier: GPL-2.0 */
/*
 * smmuv3.h: the guest's side of a virtual Arm SMMUv3, built by hand.
 *
 * With nested translation the guest owns stage 1: its Stream Table Entry
 * (of which the VMM passes words 0-1 to the kernel as the "vSTE"), the
 * Context Descriptor the STE points at, the VMSAv8-64 stage-1 page tables
 * the CD points at, and the invalidation commands it writes into its
 * command queue. Everything here is in the guest's terms: addresses are
 * IPAs (guest physical addresses) and the structures live in guest RAM.
 * A VMM never builds these for its guest; a test (or a VMM author reading
 * along) builds them to know what a guest hands over.
 *
 * References: Arm IHI 0070 (SMMUv3), chapters "Stream Table Entry",
 * "Context Descriptor", "Commands"; Arm DDI 0487 (VMSAv8-64 descriptors).
 * All structures are little endian in memory.
 *
 * Nothing here depends on the iommufd uAPI headers.
 */
#ifndef SMMUV3_H
#define SMMUV3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#define SMMU_BIT(n)		(1ull << (n))
/* Bits @h..@l set (h >= l). */
#define SMMU_GENMASK(h, l)	((~0ull >> (63 - (h))) & ~((1ull << (l)) - 1))
/* Put @val into the field @mask / take it out. */
#define SMMU_FIELD(mask, val)	(((__u64)(val) << __builtin_ctzll(mask)) & (mask))
#define SMMU_GET(mask, reg)	(((__u64)(reg) & (mask)) >> __builtin_ctzll(mask))

/* ---- ID registers (as IOMMU_GET_HW_INFO reports them) ----------------- */

#define SMMU_IDR0_S2P		SMMU_BIT(0)	/* stage 2 implemented */
#define SMMU_IDR0_S1P		SMMU_BIT(1)	/* stage 1 implemented */
#define SMMU_IDR0_TTF		SMMU_GENMASK(3, 2)	/* table formats */
#define SMMU_IDR0_TTF_AA64	2ull
#define SMMU_IDR0_COHACC	SMMU_BIT(4)
#define SMMU_IDR0_ATS		SMMU_BIT(10)
#define SMMU_IDR0_ASID16	SMMU_BIT(12)
#define SMMU_IDR0_VMID16	SMMU_BIT(18)
#define SMMU_IDR0_CD2L		SMMU_BIT(19)
#define SMMU_IDR0_TTENDIAN	SMMU_GENMASK(22, 21)
#define SMMU_IDR0_TTENDIAN_LE	2ull
#define SMMU_IDR1_SSIDSIZE	SMMU_GENMASK(10, 6)
#define SMMU_IDR1_SIDSIZE	SMMU_GENMASK(5, 0)
#define SMMU_IDR3_FWB		SMMU_BIT(8)	/* stage-2 forced write-back */
#define SMMU_IDR3_RIL		SMMU_BIT(10)	/* range invalidation */
#define SMMU_IDR5_OAS		SMMU_GENMASK(2, 0)
#define SMMU_IDR5_GRAN4K	SMMU_BIT(4)
#define SMMU_IDR5_GRAN16K	SMMU_BIT(5)
#define SMMU_IDR5_GRAN64K	SMMU_BIT(6)

/* Output address size in bits of an OAS/IPS encoding, 0 if reserved. */
unsigned int smmu_oas_bits(unsigned int oas);

/* ---- Stream Table Entry, words 0-1 (the part the guest owns) --------- */

#define SMMU_STE_0_V		SMMU_BIT(0)
#define SMMU_STE_0_CFG		SMMU_GENMASK(3, 1)
#define SMMU_STE_0_CFG_ABORT	0	/* 0b000: abort every transaction */
#define SMMU_STE_0_CFG_BYPASS	4	/* 0b100: no translation */
#define SMMU_STE_0_CFG_S1	5	/* 0b101: stage 1 only */
#define SMMU_STE_0_CFG_S2	6	/* 0b110: stage 2 only */
#define SMMU_STE_0_CFG_NESTED	7	/* 0b111: stage 1 then stage 2 */
#define SMMU_STE_0_S1FMT	SMMU_GENMASK(5, 4)
#define SMMU_STE_0_S1FMT_LINEAR	0
#define SMMU_STE_0_S1CTXPTR	SMMU_GENMASK(51, 6)
#define SMMU_STE_0_S1CDMAX	SMMU_GENMASK(63, 59)
#define SMMU_STE_1_S1DSS	SMMU_GENMASK(1, 0)
#define SMMU_STE_1_S1CIR	SMMU_GENMASK(3, 2)
#define SMMU_STE_1_S1COR	SMMU_GENMASK(5, 4)
#define SMMU_STE_1_S1CSH	SMMU_GENMASK(7, 6)
#define SMMU_STE_1_S1STALLD	SMMU_BIT(27)
#define SMMU_STE_1_EATS		SMMU_GENMASK(29, 28)
#define SMMU_STE_1_STRW		SMMU_GENMASK(31, 30)
#define SMMU_STE_1_SHCFG	SMMU_GENMASK(45, 44)
/* Cacheability (IR/OR) and shareability (SH) encodings of STE and CD. */
#define SMMU_CACHE_WBRA		1	/* write-back, read-allocate */
#define SMMU_SH_ISH		3	/* inner shareable */

/*
 * Words 0-1 of an STE that translates with stage 1 through the single
 * CD at IPA @cd_ipa (S1Fmt linear, S1CDMax 0: no SubstreamIDs), fetching
 * it write-back cacheable. The guest's view: its STE says "stage 1 only";
 * the host makes it "nested" by adding its stage 2. @cd_ipa must be
 * 64-byte aligned.
 */
void smmu_ste_s1(__le64 ste[2], __u64 cd_ipa);
/* Words 0-1 of a valid STE with Config @cfg and nothing else. */
void smmu_ste_cfg(__le64 ste[2], unsigned int cfg);

/* ---- Context Descriptor (64 bytes) ------------------------------------- */

#define SMMU_CD_SIZE		64
#define SMMU_CD_0_T0SZ		SMMU_GENMASK(5, 0)
#define SMMU_CD_0_TG0		SMMU_GENMASK(7, 6)
#define SMMU_CD_0_TG0_4K	0
#define SMMU_CD_0_IR0		SMMU_GENMASK(9, 8)
#define SMMU_CD_0_OR0		SMMU_GENMASK(11, 10)
#define SMMU_CD_0_SH0		SMMU_GENMASK(13, 12)
#define SMMU_CD_0_EPD0		SMMU_BIT(14)
#define SMMU_CD_0_ENDI		SMMU_BIT(15)
#define SMMU_CD_0_EPD1		SMMU_BIT(30)
#define SMMU_CD_0_V		SMMU_BIT(31)
#define SMMU_CD_0_IPS		SMMU_GENMASK(34, 32)
#define SMMU_CD_0_AFFD		SMMU_BIT(35)
#define SMMU_CD_0_AA64		SMMU_BIT(41)
#define SMMU_CD_0_R		SMMU_BIT(45)
#define SMMU_CD_0_A		SMMU_BIT(46)
#define SMMU_CD_0_ASET		SMMU_BIT(47)
#define SMMU_CD_0_ASID		SMMU_GENMASK(63, 48)
#define SMMU_CD_1_TTB0		SMMU_GENMASK(51, 4)
/* Word 3 is MAIR: attribute index 0 = normal memory, write-back. */
#define SMMU_MAIR_ATTR_WB	0xffull
#define SMMU_MAIR_ATTR_DEVICE	0x04ull
#define SMMU_MAIR_IDX_WB	0
#define SMMU_MAIR_IDX_DEVICE	1

struct smmu_cd_cfg {
	__u16 asid;		/* tags the TLB entries of this CD */
	__u64 ttb0;		/* IPA of the stage-1 root table */
	unsigned int va_bits;	/* 64 - T0SZ: 48 = four levels */
	unsigned int ips;	/* IPA size, an IDR5.OAS encoding */
};

/*
 * A valid AArch64 CD: TTB0 with the 4 KiB granule and @cfg, table walks
 * write-back inner shareable, TTB1 disabled (EPD1), faults recorded (R)
 * and aborted (A), MAIR as above.
 */
void smmu_cd_build(__le64 cd[8], const struct smmu_cd_cfg *cfg);

/* ---- Guest RAM ---------------------------------------------------------- */

/*
 * A block of guest RAM: @size bytes at IPA @ipa, which the VMM keeps at
 * @hva in its own address space (and mapped in the IOAS at @ipa). Pages
 * are handed out in order by smmu_ram_alloc(), never freed.
 */
struct smmu_guest_ram {
	__u8 *hva;
	__u64 ipa;
	__u64 size;
	__u64 used;
};

#define SMMU_PAGE_SIZE		4096ull

void smmu_ram_init(struct smmu_guest_ram *ram, void *hva, __u64 ipa,
		   __u64 size);
/* A zeroed 4 KiB page: its IPA, or 0 when the RAM is used up. */
__u64 smmu_ram_alloc(struct smmu_guest_ram *ram);
/* Where the VMM sees IPA @ipa; NULL if it is not in this RAM. */
void *smmu_ram_hva(struct smmu_guest_ram *ram, __u64 ipa);

/* ---- Stage-1 page tables (VMSAv8-64, 4 KiB granule, 48-bit VA) -------- */

#define SMMU_PTE_VALID		SMMU_BIT(0)
#define SMMU_PTE_TYPE		SMMU_BIT(1)	/* table (L0-2) or page (L3) */
#define SMMU_PTE_ATTRIDX	SMMU_GENMASK(4, 2)
#define SMMU_PTE_AP_UNPRIV	SMMU_BIT(6)	/* AP[1]: EL0 access too */
#define SMMU_PTE_AP_RDONLY	SMMU_BIT(7)	/* AP[2]: read-only */
#define SMMU_PTE_SH		SMMU_GENMASK(9, 8)
#define SMMU_PTE_AF		SMMU_BIT(10)
#define SMMU_PTE_NG		SMMU_BIT(11)
#define SMMU_PTE_ADDR		SMMU_GENMASK(47, 12)
#define SMMU_PTE_XN		SMMU_BIT(54)

#define SMMU_PROT_READ		1u
#define SMMU_PROT_WRITE		2u

/* One stage-1 address space: a root table in guest RAM. */
struct smmu_s1_table {
	struct smmu_guest_ram *ram;
	__u64 root;		/* IPA of the level-0 table: CD.TTB0 */
};

/* Allocate an empty root table. 0 or -ENOMEM. */
int smmu_s1_init(struct smmu_s1_table *t, struct smmu_guest_ram *ram);
/* The level-3 (page) descriptor that maps a 4 KiB page at @ipa. */
__u64 smmu_s1_page_pte(__u64 ipa, unsigned int prot);
/*
 * Map the 4 KiB page at VA @va to IPA @ipa with @prot, creating the
 * intermediate tables. A valid entry already there is replaced: as on any
 * SMMU, the old translation may still be cached until the guest issues a
 * TLBI_NH_VA for @va (which is the point of the invalidation tests).
 * 0, -EINVAL (unaligned or out of range) or -ENOMEM.
 */
int smmu_s1_map(struct smmu_s1_table *t, __u64 va, __u64 ipa,
		unsigned int prot);
/* Remove the page at @va (same caveat). 0 or -ENOENT. */
int smmu_s1_unmap(struct smmu_s1_table *t, __u64 va);
/* The level-3 descriptor of @va, or 0 if there is none. */
__u64 smmu_s1_lookup(struct smmu_s1_table *t, __u64 va);

/* ---- Commands (16 bytes, as in the command queue) --------------------- */

#define SMMU_CMD_0_OP		SMMU_GENMASK(7, 0)
#define SMMU_CMD_PREFETCH_CFG	0x01
#define SMMU_CMD_CFGI_STE	0x03
#define SMMU_CMD_CFGI_ALL	0x04
#define SMMU_CMD_CFGI_CD	0x05
#define SMMU_CMD_CFGI_CD_ALL	0x06
#define SMMU_CMD_TLBI_NH_ALL	0x10
#define SMMU_CMD_TLBI_NH_ASID	0x11
#define SMMU_CMD_TLBI_NH_VA	0x12
#define SMMU_CMD_TLBI_NH_VAA	0x13
#define SMMU_CMD_TLBI_EL2_ALL	0x20
#define SMMU_CMD_TLBI_S12_VMALL	0x28
#define SMMU_CMD_TLBI_S2_IPA	0x2a
#define SMMU_CMD_TLBI_NSNH_ALL	0x30
#define SMMU_CMD_ATC_INV	0x40
#define SMMU_CMD_SYNC		0x46

/* CFGI_*: */
#define SMMU_CMD_0_SSEC		SMMU_BIT(10)
#define SMMU_CMD_0_CFGI_SSID	SMMU_GENMASK(31, 12)
#define SMMU_CMD_0_SID		SMMU_GENMASK(63, 32)
#define SMMU_CMD_1_CFGI_LEAF	SMMU_BIT(0)
/* TLBI_*: */
#define SMMU_CMD_0_TLBI_NUM	SMMU_GENMASK(16, 12)
#define SMMU_CMD_0_TLBI_SCALE	SMMU_GENMASK(24, 20)
#define SMMU_CMD_0_VMID		SMMU_GENMASK(47, 32)
#define SMMU_CMD_0_ASID		SMMU_GENMASK(63, 48)
#define SMMU_CMD_1_TLBI_LEAF	SMMU_BIT(0)
#define SMMU_CMD_1_TLBI_TTL	SMMU_GENMASK(9, 8)
#define SMMU_CMD_1_TLBI_TG	SMMU_GENMASK(11, 10)
#define SMMU_CMD_1_TLBI_ADDR	SMMU_GENMASK(63, 12)

/*
 * The commands a guest issues after changing its stage-1 structures.
 * A guest behind a vSMMU that advertises stage 1 only has no VMID: it
 * writes 0 there, and the host substitutes its own.
 */
/* Drop the TLB entries of page @va in address space @asid. */
void smmu_cmd_tlbi_nh_va(__le64 cmd[2], __u16 asid, __u64 va, bool leaf);
/* Drop every TLB entry of address space @asid. */
void smmu_cmd_tlbi_nh_asid(__le64 cmd[2], __u16 asid);
/* Drop every stage-1 TLB entry (of the VM). */
void smmu_cmd_tlbi_nh_all(__le64 cmd[2]);
/* Drop the cached CD @ssid of stream @sid (the guest's vSID). */
void smmu_cmd_cfgi_cd(__le64 cmd[2], __u32 sid, __u32 ssid, bool leaf);
/* Drop every cached CD of stream @sid. */
void smmu_cmd_cfgi_cd_all(__le64 cmd[2], __u32 sid);
/* Drop the cached STE of stream @sid (the VMM's job, not forwarded). */
void smmu_cmd_cfgi_ste(__le64 cmd[2], __u32 sid, bool leaf);
/* Any other opcode, with no operands. */
void smmu_cmd_op(__le64 cmd[2], unsigned int op);

/* ---- Event records (32 bytes, as in the event queue) ------------------ */

/*
 * What a vSMMU's guest reads from its event queue, and what the VMM gets
 * for it from an IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 vEVENTQ (with the guest's
 * vSID in the StreamID field): the record the SMMU wrote, 4 little-endian
 * 64-bit words. Event IDs a guest's stage-1 configuration can cause, and
 * the fields of the fault records (F_TRANSLATION .. F_PERMISSION).
 */
#define SMMU_EVT_0_ID		SMMU_GENMASK(7, 0)
#define SMMU_EVT_C_BAD_STE	0x04
#define SMMU_EVT_F_STREAM_DISABLED 0x06
#define SMMU_EVT_C_BAD_SUBSTREAMID 0x08
#define SMMU_EVT_C_BAD_CD	0x0a
#define SMMU_EVT_F_TRANSLATION	0x10
#define SMMU_EVT_F_ADDR_SIZE	0x11
#define SMMU_EVT_F_ACCESS	0x12
#define SMMU_EVT_F_PERMISSION	0x13
#define SMMU_EVT_0_SSV		SMMU_BIT(11)
#define SMMU_EVT_0_SSID		SMMU_GENMASK(31, 12)
#define SMMU_EVT_0_SID		SMMU_GENMASK(63, 32)
#define SMMU_EVT_1_STALL	SMMU_BIT(31)
#define SMMU_EVT_1_PNU		SMMU_BIT(33)
#define SMMU_EVT_1_IND		SMMU_BIT(34)
#define SMMU_EVT_1_RNW		SMMU_BIT(35)	/* 1: a read */
#define SMMU_EVT_1_S2		SMMU_BIT(39)	/* the fault is stage 2's */
#define SMMU_EVT_1_CLASS	SMMU_GENMASK(41, 40)
#define SMMU_EVT_CLASS_CD	0	/* fetching the CD */
#define SMMU_EVT_CLASS_TT	1	/* walking the translation tables */
#define SMMU_EVT_CLASS_IN	2	/* translating the input address */
#define SMMU_EVT_2_ADDR		SMMU_GENMASK(63, 0)	/* the input address */
#define SMMU_EVT_3_IPA		SMMU_GENMASK(51, 3)	/* faulting IPA (S2) */

/* A 64-bit store the SMMU sees whole (single-copy atomic). */
static inline void smmu_write64(__le64 *p, __le64 val)
{
	__atomic_store_n(p, val, __ATOMIC_RELEASE);
}

#endif
