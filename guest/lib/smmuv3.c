// SPDX-License-Identifier: GPL-2.0
/*
 * smmuv3.c: guest-side SMMUv3 structure builders (smmuv3.h).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "smmuv3.h"

unsigned int smmu_oas_bits(unsigned int oas)
{
	static const unsigned char bits[] = { 32, 36, 40, 42, 44, 48, 52 };

	return oas < sizeof(bits) ? bits[oas] : 0;
}

/* ---- STE ---------------------------------------------------------------- */

void smmu_ste_cfg(__le64 ste[2], unsigned int cfg)
{
	ste[0] = htole64(SMMU_STE_0_V | SMMU_FIELD(SMMU_STE_0_CFG, cfg));
	ste[1] = 0;
}

void smmu_ste_s1(__le64 ste[2], __u64 cd_ipa)
{
	/*
	 * Word 0: valid, stage 1 translates, one CD (S1CDMax = 0, so S1Fmt
	 * "linear" and S1DSS do not matter), the CD's IPA.
	 * Word 1: how the SMMU fetches the CD: write-back, inner shareable,
	 * the same attributes as the guest's RAM. (The host forces its own
	 * stage-2 attributes on top, see IDR3.FWB.)
	 */
	ste[0] = htole64(SMMU_STE_0_V |
			 SMMU_FIELD(SMMU_STE_0_CFG, SMMU_STE_0_CFG_S1) |
			 SMMU_FIELD(SMMU_STE_0_S1FMT, SMMU_STE_0_S1FMT_LINEAR) |
			 (cd_ipa & SMMU_STE_0_S1CTXPTR) |
			 SMMU_FIELD(SMMU_STE_0_S1CDMAX, 0));
	ste[1] = htole64(SMMU_FIELD(SMMU_STE_1_S1CIR, SMMU_CACHE_WBRA) |
			 SMMU_FIELD(SMMU_STE_1_S1COR, SMMU_CACHE_WBRA) |
			 SMMU_FIELD(SMMU_STE_1_S1CSH, SMMU_SH_ISH));
}

/* ---- CD ----------------------------------------------------------------- */

void smmu_cd_build(__le64 cd[8], const struct smmu_cd_cfg *cfg)
{
	memset(cd, 0, SMMU_CD_SIZE);
	/*
	 * Word 0, TTB0's walk: T0SZ = 64 - VA bits, 4 KiB granule, table
	 * walks write-back inner shareable. TTB1 is not used (EPD1): a
	 * device's addresses are all "low". AA64: VMSAv8-64 tables. R:
	 * record faults in the event queue; A: abort a faulting transaction
	 * (the only termination model QEMU and most SMMUs have). ASET = 0:
	 * the ASID is shared with the CPU's, which matters only with
	 * broadcast TLB maintenance.
	 */
	cd[0] = htole64(SMMU_FIELD(SMMU_CD_0_T0SZ, 64 - cfg->va_bits) |
			SMMU_FIELD(SMMU_CD_0_TG0, SMMU_CD_0_TG0_4K) |
			SMMU_FIELD(SMMU_CD_0_IR0, SMMU_CACHE_WBRA) |
			SMMU_FIELD(SMMU_CD_0_OR0, SMMU_CACHE_WBRA) |
			SMMU_FIELD(SMMU_CD_0_SH0, SMMU_SH_ISH) |
			SMMU_CD_0_EPD1 | SMMU_CD_0_V |
			SMMU_FIELD(SMMU_CD_0_IPS, cfg->ips) |
			SMMU_CD_0_AA64 | SMMU_CD_0_R | SMMU_CD_0_A |
			SMMU_FIELD(SMMU_CD_0_ASID, cfg->asid));
	cd[1] = htole64(cfg->ttb0 & SMMU_CD_1_TTB0);
	cd[3] = htole64(SMMU_MAIR_ATTR_WB << (8 * SMMU_MAIR_IDX_WB) |
			SMMU_MAIR_ATTR_DEVICE << (8 * SMMU_MAIR_IDX_DEVICE));
}

/* ---- guest RAM ---------------------------------------------------------- */

void smmu_ram_init(struct smmu_guest_ram *ram, void *hva, __u64 ipa,
		   __u64 size)
{
	ram->hva = hva;
	ram->ipa = ipa;
	ram->size = size;
	ram->used = 0;
}

__u64 smmu_ram_alloc(struct smmu_guest_ram *ram)
{
	__u64 ipa;

	if (ram->size - ram->used < SMMU_PAGE_SIZE)
		return 0;
	ipa = ram->ipa + ram->used;
	ram->used += SMMU_PAGE_SIZE;
	memset(smmu_ram_hva(ram, ipa), 0, SMMU_PAGE_SIZE);
	return ipa;
}

void *smmu_ram_hva(struct smmu_guest_ram *ram, __u64 ipa)
{
	if (ipa < ram->ipa || ipa - ram->ipa >= ram->size)
		return NULL;
	return ram->hva + (ipa - ram->ipa);
}

/* ---- stage-1 tables ----------------------------------------------------- */

/*
 * 4 KiB granule, 48-bit VA: four levels of 512 entries, each level
 * resolving 9 bits of the VA: level 0 bits 47:39 ... level 3 bits 20:12.
 */
#define S1_LEVELS	4
#define S1_VA_BITS	48

static unsigned int s1_index(__u64 va, int level)
{
	return (va >> (12 + 9 * (3 - level))) & 511;
}

int smmu_s1_init(struct smmu_s1_table *t, struct smmu_guest_ram *ram)
{
	t->ram = ram;
	t->root = smmu_ram_alloc(ram);
	if (!t->root) {
		errno = ENOMEM;
		return -ENOMEM;
	}
	return 0;
}

__u64 smmu_s1_page_pte(__u64 ipa, unsigned int prot)
{
	/*
	 * A page: normal write-back memory (MAIR index 0), inner shareable,
	 * accessed (AF = 1: QEMU, like most SMMUs, does not set it in
	 * hardware and faults instead), not global (nG = 1: the entry is
	 * tagged with the CD's ASID, so a CD with another ASID cannot hit
	 * it), never executable. AP: EL0 and EL1 may access (a device's
	 * accesses are unprivileged unless the STE says otherwise),
	 * read-only unless @prot has SMMU_PROT_WRITE.
	 */
	__u64 pte = SMMU_PTE_VALID | SMMU_PTE_TYPE |
		    SMMU_FIELD(SMMU_PTE_ATTRIDX, SMMU_MAIR_IDX_WB) |
		    SMMU_PTE_AP_UNPRIV |
		    SMMU_FIELD(SMMU_PTE_SH, SMMU_SH_ISH) |
		    SMMU_PTE_AF | SMMU_PTE_NG | SMMU_PTE_XN |
		    (ipa & SMMU_PTE_ADDR);

	if (!(prot & SMMU_PROT_WRITE))
		pte |= SMMU_PTE_AP_RDONLY;
	return pte;
}

/*
 * The level-3 entry of @va, creating the tables on the way if @create.
 * NULL if a table is missing (and not @create) or guest RAM ran out.
 */
static __le64 *s1_walk(struct smmu_s1_table *t, __u64 va, bool create)
{
	__u64 table = t->root;
	int level;

	for (level = 0; level < S1_LEVELS - 1; level++) {
		__le64 *entry = (__le64 *)smmu_ram_hva(t->ram, table) +
				s1_index(va, level);
		__u64 desc = le64toh(*entry);

		if (!(desc & SMMU_PTE_VALID)) {
			__u64 next;

			if (!create)
				return NULL;
			next = smmu_ram_alloc(t->ram);
			if (!next)
				return NULL;
			/*
			 * A table descriptor: valid + type, the next table's
			 * IPA. Its attribute bits (APTable, ...) are 0: no
			 * restriction beyond the leaf's.
			 */
			desc = SMMU_PTE_VALID | SMMU_PTE_TYPE |
			       (next & SMMU_PTE_ADDR);
			smmu_write64(entry, htole64(desc));
		}
		table = desc & SMMU_PTE_ADDR;
	}
	return (__le64 *)smmu_ram_hva(t->ram, table) + s1_index(va, 3);
}

int smmu_s1_map(struct smmu_s1_table *t, __u64 va, __u64 ipa,
		unsigned int prot)
{
	__le64 *pte;

	if ((va | ipa) & (SMMU_PAGE_SIZE - 1) || va >> S1_VA_BITS) {
		errno = EINVAL;
		return -EINVAL;
	}
	pte = s1_walk(t, va, true);
	if (!pte) {
		errno = ENOMEM;
		return -ENOMEM;
	}
	smmu_write64(pte, htole64(smmu_s1_page_pte(ipa, prot)));
	return 0;
}

int smmu_s1_unmap(struct smmu_s1_table *t, __u64 va)
{
	__le64 *pte = s1_walk(t, va, false);

	if (!pte || !(le64toh(*pte) & SMMU_PTE_VALID)) {
		errno = ENOENT;
		return -ENOENT;
	}
	smmu_write64(pte, 0);
	return 0;
}

__u64 smmu_s1_lookup(struct smmu_s1_table *t, __u64 va)
{
	__le64 *pte = s1_walk(t, va, false);

	return pte ? le64toh(*pte) : 0;
}

/* ---- commands ------------------------------------------------------------ */

void smmu_cmd_op(__le64 cmd[2], unsigned int op)
{
	cmd[0] = htole64(SMMU_FIELD(SMMU_CMD_0_OP, op));
	cmd[1] = 0;
}

void smmu_cmd_tlbi_nh_va(__le64 cmd[2], __u16 asid, __u64 va, bool leaf)
{
	/*
	 * No range (NUM = SCALE = TG = 0: one page of the CD's granule),
	 * TTL = 0 (the level of the entry is not known), VMID = 0 (the
	 * host puts the VM's there). LEAF: only the last-level entry
	 * changed, cached table entries may stay.
	 */
	cmd[0] = htole64(SMMU_FIELD(SMMU_CMD_0_OP, SMMU_CMD_TLBI_NH_VA) |
			 SMMU_FIELD(SMMU_CMD_0_ASID, asid));
	cmd[1] = htole64((va & SMMU_CMD_1_TLBI_ADDR) |
			 (leaf ? SMMU_CMD_1_TLBI_LEAF : 0));
}

void smmu_cmd_tlbi_nh_asid(__le64 cmd[2], __u16 asid)
{
	cmd[0] = htole64(SMMU_FIELD(SMMU_CMD_0_OP, SMMU_CMD_TLBI_NH_ASID) |
			 SMMU_FIELD(SMMU_CMD_0_ASID, asid));
	cmd[1] = 0;
}

void smmu_cmd_tlbi_nh_all(__le64 cmd[2])
{
	smmu_cmd_op(cmd, SMMU_CMD_TLBI_NH_ALL);
}

void smmu_cmd_cfgi_cd(__le64 cmd[2], __u32 sid, __u32 ssid, bool leaf)
{
	cmd[0] = htole64(SMMU_FIELD(SMMU_CMD_0_OP, SMMU_CMD_CFGI_CD) |
			 SMMU_FIELD(SMMU_CMD_0_CFGI_SSID, ssid) |
			 SMMU_FIELD(SMMU_CMD_0_SID, sid));
	cmd[1] = htole64(leaf ? SMMU_CMD_1_CFGI_LEAF : 0);
}

void smmu_cmd_cfgi_cd_all(__le64 cmd[2], __u32 sid)
{
	cmd[0] = htole64(SMMU_FIELD(SMMU_CMD_0_OP, SMMU_CMD_CFGI_CD_ALL) |
			 SMMU_FIELD(SMMU_CMD_0_SID, sid));
	cmd[1] = 0;
}

void smmu_cmd_cfgi_ste(__le64 cmd[2], __u32 sid, bool leaf)
{
	cmd[0] = htole64(SMMU_FIELD(SMMU_CMD_0_OP, SMMU_CMD_CFGI_STE) |
			 SMMU_FIELD(SMMU_CMD_0_SID, sid));
	cmd[1] = htole64(leaf ? SMMU_CMD_1_CFGI_LEAF : 0);
}
