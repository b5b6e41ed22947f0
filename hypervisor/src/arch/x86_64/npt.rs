//! Nested page tables: a domain's guest-physical → machine map (its p2m),
//! walked by the CPU on every guest memory access. 4-level, 4 KiB leaves.
//! Entries carry the User bit because SVM walks nested tables as user
//! accesses.

use super::paging::phys_to_virt;

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const USER: u64 = 1 << 2;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
/// Guest-physical addresses rxen maps stay below 2^48 (4-level tables).
pub const GPA_LIMIT: u64 = 1 << 48;

pub struct NestedPageTable {
    root: u64,
}

/// Guest memory permissions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    ReadWrite,
    ReadOnly,
}

fn entries(table_pa: u64) -> *mut u64 {
    phys_to_virt(table_pa) as *mut u64
}

impl NestedPageTable {
    /// `root` must be a zeroed frame owned by the domain.
    pub fn new(root: u64) -> Self {
        Self { root }
    }

    /// The value for the VMCB's nested CR3.
    pub fn root(&self) -> u64 {
        self.root
    }

    /// Maps the 4 KiB page at `gpa` to machine frame `hpa`, replacing any
    /// previous mapping; new table frames come from `table_frame` (zeroed).
    /// Returns the machine frame that was mapped there before, if any.
    pub fn map(
        &mut self,
        gpa: u64,
        hpa: u64,
        access: Access,
        table_frame: &mut dyn FnMut() -> Option<u64>,
    ) -> Result<Option<u64>, NptError> {
        if gpa >= GPA_LIMIT || gpa & 0xfff != 0 || hpa & 0xfff != 0 {
            return Err(NptError::BadAddress);
        }
        let mut table = self.root;
        for level in (1..4).rev() {
            let index = ((gpa >> (12 + 9 * level)) & 0x1ff) as usize;
            // SAFETY: `table` is a table frame of this NPT (direct-mapped),
            // `index` < 512; the domain's NPT lock serialises writers.
            let entry = unsafe { &mut *entries(table).add(index) };
            if *entry & PRESENT == 0 {
                let frame = table_frame().ok_or(NptError::NoMemory)?;
                *entry = frame | PRESENT | WRITABLE | USER;
            }
            table = *entry & ADDR_MASK;
        }
        let index = ((gpa >> 12) & 0x1ff) as usize;
        let flags = PRESENT | USER | if access == Access::ReadWrite { WRITABLE } else { 0 };
        // SAFETY: as above, the leaf table.
        let entry = unsafe { &mut *entries(table).add(index) };
        let old = (*entry & PRESENT != 0).then_some(*entry & ADDR_MASK);
        *entry = hpa | flags;
        Ok(old)
    }

    /// The machine address behind `gpa` and whether it is writable.
    pub fn translate(&self, gpa: u64) -> Option<(u64, Access)> {
        if gpa >= GPA_LIMIT {
            return None;
        }
        let mut table = self.root;
        for level in (0..4).rev() {
            let index = ((gpa >> (12 + 9 * level)) & 0x1ff) as usize;
            // SAFETY: reads of this NPT's direct-mapped table frames.
            let entry = unsafe { *entries(table).add(index) };
            if entry & PRESENT == 0 {
                return None;
            }
            if level == 0 {
                let access = if entry & WRITABLE != 0 { Access::ReadWrite } else { Access::ReadOnly };
                return Some(((entry & ADDR_MASK) | (gpa & 0xfff), access));
            }
            table = entry & ADDR_MASK;
        }
        None
    }

    /// Removes the mapping of `gpa`; returns the machine frame it had.
    pub fn unmap(&mut self, gpa: u64) -> Option<u64> {
        let (hpa, _) = self.translate(gpa & !0xfff)?;
        let mut table = self.root;
        for level in (1..4).rev() {
            let index = ((gpa >> (12 + 9 * level)) & 0x1ff) as usize;
            // SAFETY: the path exists (translate succeeded).
            table = unsafe { *entries(table).add(index) } & ADDR_MASK;
        }
        // SAFETY: the leaf entry of a present mapping.
        unsafe { *entries(table).add(((gpa >> 12) & 0x1ff) as usize) = 0 };
        Some(hpa & ADDR_MASK)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NptError {
    BadAddress,
    NoMemory,
}
