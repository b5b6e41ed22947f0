//! Walking a guest's own page tables: hypercall arguments are guest
//! *virtual* addresses, which rxen must translate to guest-physical ones
//! before it can reach them through the domain's p2m.

use super::vcpu::PagingState;

const CR0_PG: u64 = 1 << 31;
const CR0_WP: u64 = 1 << 16;
const RW: u64 = 1 << 1;
const CR4_PSE: u64 = 1 << 4;
const CR4_PAE: u64 = 1 << 5;
const CR4_LA57: u64 = 1 << 12;
const EFER_LMA: u64 = 1 << 10;
const PRESENT: u64 = 1;
const HUGE: u64 = 1 << 7;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// What the hypervisor is about to do at a guest virtual address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    /// Refused on a page the guest mapped read-only (with CR0.WP set, as
    /// the guest's own kernel would be).
    Write,
}

/// Translates `gva` to a guest-physical address, reading the guest's page
/// tables with `read_u64` / `read_u32` (guest-physical reads; `None` if the
/// address is not guest memory). `None` means "the guest itself could not
/// access it that way": not mapped, non-canonical, or read-only for a write.
pub fn translate(
    paging: PagingState,
    gva: u64,
    access: Access,
    read_u64: &dyn Fn(u64) -> Option<u64>,
    read_u32: &dyn Fn(u64) -> Option<u32>,
) -> Option<u64> {
    if paging.cr0 & CR0_PG == 0 {
        return Some(gva & 0xFFFF_FFFF);
    }
    let (gpa, writable) = if paging.efer & EFER_LMA != 0 {
        let levels = if paging.cr4 & CR4_LA57 != 0 { 5 } else { 4 };
        if !canonical(gva, levels) {
            return None;
        }
        walk_long(paging.cr3 & ADDR_MASK, gva, levels, read_u64)?
    } else if paging.cr4 & CR4_PAE != 0 {
        let pdpte = read_u64((paging.cr3 & 0xFFFF_FFE0) + ((gva >> 30) & 3) * 8)?;
        if pdpte & PRESENT == 0 {
            return None;
        }
        walk_long(pdpte & ADDR_MASK, gva, 2, read_u64)?
    } else {
        walk_32bit(paging, gva, read_u32)?
    };
    if access == Access::Write && !writable && paging.cr0 & CR0_WP != 0 {
        return None;
    }
    Some(gpa)
}

/// Whether `gva` is canonical: bits above the top translated bit copy it.
fn canonical(gva: u64, levels: u32) -> bool {
    let bits = 12 + 9 * levels; // 48 or 57
    let top = (gva as i64) >> (bits - 1);
    top == 0 || top == -1
}

/// 64-bit-entry tables with `levels` levels below `table`: the address
/// and whether every level allows writing.
fn walk_long(
    mut table: u64,
    gva: u64,
    levels: u32,
    read_u64: &dyn Fn(u64) -> Option<u64>,
) -> Option<(u64, bool)> {
    let mut writable = true;
    for level in (0..levels).rev() {
        let shift = 12 + 9 * level;
        let entry = read_u64(table + ((gva >> shift) & 0x1ff) * 8)?;
        if entry & PRESENT == 0 {
            return None;
        }
        writable &= entry & RW != 0;
        // 1 GiB and 2 MiB pages end the walk early.
        if level > 0 && level < 3 && entry & HUGE != 0 {
            let page_mask = (1u64 << shift) - 1;
            return Some((
                (entry & ADDR_MASK & !page_mask) | (gva & page_mask),
                writable,
            ));
        }
        table = entry & ADDR_MASK;
    }
    Some((table | (gva & 0xfff), writable))
}

fn walk_32bit(
    paging: PagingState,
    gva: u64,
    read_u32: &dyn Fn(u64) -> Option<u32>,
) -> Option<(u64, bool)> {
    let gva = gva & 0xFFFF_FFFF;
    let pde = u64::from(read_u32((paging.cr3 & 0xFFFF_F000) + (gva >> 22) * 4)?);
    if pde & PRESENT == 0 {
        return None;
    }
    if paging.cr4 & CR4_PSE != 0 && pde & HUGE != 0 {
        return Some(((pde & 0xFFC0_0000) | (gva & 0x3F_FFFF), pde & RW != 0));
    }
    let pte = u64::from(read_u32((pde & 0xFFFF_F000) + ((gva >> 12) & 0x3ff) * 4)?);
    if pte & PRESENT == 0 {
        return None;
    }
    Some(((pte & 0xFFFF_F000) | (gva & 0xfff), pde & pte & RW != 0))
}
