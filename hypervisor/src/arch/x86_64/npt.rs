//! Nested page tables: a domain's guest-physical → machine map (its p2m),
//! walked by the CPU on every guest memory access. 4-level, 4 KiB and
//! 2 MiB leaves. Entries carry the User bit because SVM walks nested
//! tables as user accesses. Each leaf also carries a 3-bit software tag
//! in bits 9–11, which the CPU ignores: generic code records there what
//! kind of page the entry maps (its own RAM, another domain's frame, ...).

use super::paging::phys_to_virt;

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const USER: u64 = 1 << 2;
const HUGE: u64 = 1 << 7;
const HUGE_2M: u64 = 2 << 20;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
const TAG_SHIFT: u32 = 9;
const TAG_MASK: u64 = 7 << TAG_SHIFT;
/// Largest software tag a leaf can carry.
pub const MAX_TAG: u8 = 7;
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
    /// previous mapping (a 2 MiB mapping around it is split first); new
    /// table frames come from `table_frame` (zeroed).
    pub fn map(
        &mut self,
        gpa: u64,
        hpa: u64,
        access: Access,
        tag: u8,
        table_frame: &mut dyn FnMut() -> Option<u64>,
    ) -> Result<(), NptError> {
        if gpa >= GPA_LIMIT
            || gpa & 0xfff != 0
            || hpa & 0xfff != 0
            || tag > MAX_TAG
            || self.root == 0
        {
            return Err(NptError::BadAddress);
        }
        let table = self.walk_to(gpa, 0, table_frame)?;
        // SAFETY: `table` is this NPT's leaf table (direct-mapped); the
        // domain's memory lock serialises writers.
        unsafe { *entries(table).add(index(gpa, 0)) = hpa | leaf_flags(access, tag) };
        Ok(())
    }

    /// Removes the 4 KiB mapping at `gpa` (splitting a 2 MiB page around
    /// it first) and returns what it mapped; `None` if nothing was there.
    pub fn unmap(
        &mut self,
        gpa: u64,
        table_frame: &mut dyn FnMut() -> Option<u64>,
    ) -> Result<Option<Leaf>, NptError> {
        if gpa >= GPA_LIMIT || gpa & 0xfff != 0 {
            return Err(NptError::BadAddress);
        }
        if self.translate(gpa).is_none() {
            return Ok(None);
        }
        let table = self.walk_to(gpa, 0, table_frame)?;
        // SAFETY: as in map.
        let entry = unsafe { &mut *entries(table).add(index(gpa, 0)) };
        let old = *entry;
        *entry = 0;
        Ok(Some(leaf_of(old, gpa, 0)))
    }

    /// Calls `f` for every leaf (4 KiB or 2 MiB), in address order.
    pub fn for_each_leaf(&self, f: &mut dyn FnMut(Leaf)) {
        if self.root != 0 {
            walk_leaves(self.root, 3, 0, f);
        }
    }

    /// Sets whether the leaf (4 KiB or 2 MiB) mapping `gpa` is writable;
    /// the leaf as it was. The caller flushes the guest's TLBs.
    pub fn set_writable(&mut self, gpa: u64, writable: bool) -> Option<Leaf> {
        if gpa >= GPA_LIMIT || self.root == 0 {
            return None;
        }
        let mut table = self.root;
        for level in (0..4).rev() {
            // SAFETY: this NPT's direct-mapped table frames; the domain's
            // memory lock serialises writers.
            let entry = unsafe { &mut *entries(table).add(index(gpa, level)) };
            if *entry & PRESENT == 0 {
                return None;
            }
            if level == 0 || *entry & HUGE != 0 {
                let old = leaf_of(*entry, gpa, level);
                *entry = if writable {
                    *entry | WRITABLE
                } else {
                    *entry & !WRITABLE
                };
                return Some(old);
            }
            table = *entry & ADDR_MASK;
        }
        None
    }

    /// Splits the 2 MiB leaf around `gpa`, if there is one, into 512 4 KiB
    /// leaves with the same mapping (new table frames from `table_frame`).
    pub fn split_2m(
        &mut self,
        gpa: u64,
        table_frame: &mut dyn FnMut() -> Option<u64>,
    ) -> Result<(), NptError> {
        if gpa >= GPA_LIMIT || self.root == 0 {
            return Err(NptError::BadAddress);
        }
        self.walk_to(gpa & !(HUGE_2M - 1), 0, table_frame)
            .map(|_| ())
    }

    /// Sets the write permission of every leaf carrying software tag `tag`
    /// (a domain's RAM, for log-dirty). The caller flushes the TLBs.
    pub fn set_writable_tagged(&mut self, tag: u8, writable: bool) {
        if self.root != 0 {
            set_writable_leaves(self.root, 3, tag, writable);
        }
    }

    /// Maps the 2 MiB page at `gpa` to the 2 MiB machine block at `hpa`.
    pub fn map_2m(
        &mut self,
        gpa: u64,
        hpa: u64,
        access: Access,
        table_frame: &mut dyn FnMut() -> Option<u64>,
    ) -> Result<(), NptError> {
        if gpa >= GPA_LIMIT
            || !gpa.is_multiple_of(HUGE_2M)
            || !hpa.is_multiple_of(HUGE_2M)
            || self.root == 0
        {
            return Err(NptError::BadAddress);
        }
        let table = self.walk_to(gpa, 1, table_frame)?;
        // SAFETY: as in map, one level up.
        unsafe { *entries(table).add(index(gpa, 1)) = hpa | leaf_flags(access, 0) | HUGE };
        Ok(())
    }

    /// The table at `level` (0 = leaf table) covering `gpa`, creating
    /// tables and splitting 2 MiB pages on the way.
    fn walk_to(
        &mut self,
        gpa: u64,
        level: u32,
        table_frame: &mut dyn FnMut() -> Option<u64>,
    ) -> Result<u64, NptError> {
        let mut table = self.root;
        for l in (level + 1..4).rev() {
            // SAFETY: `table` is a table frame of this NPT (direct-mapped).
            let entry = unsafe { &mut *entries(table).add(index(gpa, l)) };
            if *entry & PRESENT == 0 {
                let frame = table_frame().ok_or(NptError::NoMemory)?;
                *entry = frame | PRESENT | WRITABLE | USER;
            } else if *entry & HUGE != 0 {
                *entry = split(*entry, table_frame)?;
            }
            table = *entry & ADDR_MASK;
        }
        Ok(table)
    }

    /// The machine address behind `gpa` and whether it is writable.
    pub fn translate(&self, gpa: u64) -> Option<(u64, Access)> {
        self.lookup(gpa).map(|leaf| (leaf.hpa, leaf.access))
    }

    /// The leaf mapping `gpa`, with `hpa` the machine address of `gpa`
    /// itself (not of the page start).
    pub fn lookup(&self, gpa: u64) -> Option<Leaf> {
        if gpa >= GPA_LIMIT || self.root == 0 {
            return None;
        }
        let mut table = self.root;
        for level in (0..4).rev() {
            // SAFETY: reads of this NPT's direct-mapped table frames.
            let entry = unsafe { *entries(table).add(index(gpa, level)) };
            if entry & PRESENT == 0 {
                return None;
            }
            if level == 0 || entry & HUGE != 0 {
                return Some(leaf_of(entry, gpa, level));
            }
            table = entry & ADDR_MASK;
        }
        None
    }
}

fn index(gpa: u64, level: u32) -> usize {
    ((gpa >> (12 + 9 * level)) & 0x1ff) as usize
}

fn leaf_flags(access: Access, tag: u8) -> u64 {
    PRESENT
        | USER
        | (u64::from(tag) << TAG_SHIFT)
        | if access == Access::ReadWrite {
            WRITABLE
        } else {
            0
        }
}

/// One mapping of a nested page table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// Guest-physical address (of the page start, for walks).
    pub gpa: u64,
    /// Machine address (of `gpa`).
    pub hpa: u64,
    pub access: Access,
    /// The software tag given to `map`.
    pub tag: u8,
    /// 0 for 4 KiB, 9 for 2 MiB.
    pub order: u32,
}

fn leaf_of(entry: u64, gpa: u64, level: u32) -> Leaf {
    let access = if entry & WRITABLE != 0 {
        Access::ReadWrite
    } else {
        Access::ReadOnly
    };
    let page_mask = (1u64 << (12 + 9 * level)) - 1;
    Leaf {
        gpa,
        hpa: (entry & ADDR_MASK & !page_mask) | (gpa & page_mask),
        access,
        tag: ((entry & TAG_MASK) >> TAG_SHIFT) as u8,
        order: 9 * level,
    }
}

fn walk_leaves(table: u64, level: u32, base: u64, f: &mut dyn FnMut(Leaf)) {
    for i in 0..512u64 {
        // SAFETY: reads of this NPT's direct-mapped table frames.
        let entry = unsafe { *entries(table).add(i as usize) };
        if entry & PRESENT == 0 {
            continue;
        }
        let gpa = base | (i << (12 + 9 * level));
        if level == 0 || entry & HUGE != 0 {
            f(leaf_of(entry, gpa, level));
        } else {
            walk_leaves(entry & ADDR_MASK, level - 1, gpa, f);
        }
    }
}

fn set_writable_leaves(table: u64, level: u32, tag: u8, writable: bool) {
    for i in 0..512usize {
        // SAFETY: this NPT's direct-mapped table frames, under the
        // domain's memory lock.
        let entry = unsafe { &mut *entries(table).add(i) };
        if *entry & PRESENT == 0 {
            continue;
        }
        if level == 0 || *entry & HUGE != 0 {
            if ((*entry & TAG_MASK) >> TAG_SHIFT) as u8 == tag {
                *entry = if writable {
                    *entry | WRITABLE
                } else {
                    *entry & !WRITABLE
                };
            }
        } else {
            set_writable_leaves(*entry & ADDR_MASK, level - 1, tag, writable);
        }
    }
}

/// Replaces a 2 MiB leaf by a table of 512 4 KiB leaves with the same
/// mapping and permissions; returns the new directory entry.
fn split(huge: u64, table_frame: &mut dyn FnMut() -> Option<u64>) -> Result<u64, NptError> {
    let table = table_frame().ok_or(NptError::NoMemory)?;
    let base = huge & ADDR_MASK & !(HUGE_2M - 1);
    let flags = huge & (PRESENT | WRITABLE | USER | TAG_MASK);
    for i in 0..512u64 {
        // SAFETY: the fresh table frame (direct-mapped), 512 entries.
        unsafe { *entries(table).add(i as usize) = (base + i * 4096) | flags };
    }
    Ok(table | PRESENT | WRITABLE | USER)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NptError {
    BadAddress,
    NoMemory,
}
