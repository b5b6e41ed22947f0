//! A domain's memory: its p2m (the nested page table) and every machine
//! frame it holds, so that all of them go back to the frame allocator when
//! it dies. No machine frame is ever mapped into two domains.

use alloc::vec::Vec;

use crate::arch::npt::{Access, NestedPageTable};
use crate::mm::frames;

pub const PAGE: u64 = 4096;
/// The most a domain may hold beyond its RAM (page tables and the pages
/// it maps in: shared_info, grant frames). A guest remapping frames all over
/// its address space hits this instead of exhausting the hypervisor.
const MAX_OVERHEAD: u64 = 4 << 20;
/// RAM is allocated in 2 MiB blocks where alignment allows (fewer
/// allocator calls, contiguous memory), 4 KiB frames elsewhere.
const BIG_ORDER: u32 = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryError {
    OutOfMemory,
    BadAddress,
}

pub struct GuestMemory {
    npt: NestedPageTable,
    /// (machine address, order) of every allocation this domain holds,
    /// including NPT table frames.
    owned: Vec<(u64, u32)>,
    /// Bytes of guest RAM populated.
    ram_bytes: u64,
}

impl GuestMemory {
    pub fn new() -> Result<Self, MemoryError> {
        let root = frames::alloc_zeroed(0).map_err(|_| MemoryError::OutOfMemory)?;
        Ok(Self {
            npt: NestedPageTable::new(root),
            owned: alloc::vec![(root, 0)],
            ram_bytes: 0,
        })
    }

    /// Holds nothing (what a destroyed domain keeps).
    pub fn empty() -> Self {
        Self {
            npt: NestedPageTable::new(0),
            owned: Vec::new(),
            ram_bytes: 0,
        }
    }

    pub fn npt_root(&self) -> u64 {
        self.npt.root()
    }

    pub fn ram_bytes(&self) -> u64 {
        self.ram_bytes
    }

    /// Backs guest-physical [start, end) with fresh RAM *not yet zeroed*:
    /// the caller must zero the returned (machine address, length) blocks
    /// (through `mm::scrub`) before the guest runs.
    pub fn populate_unzeroed(
        &mut self,
        start: u64,
        end: u64,
    ) -> Result<Vec<(u64, usize)>, MemoryError> {
        let mut blocks = Vec::new();
        let mut gpa = start;
        while gpa < end {
            let big = 1u64 << (BIG_ORDER + 12);
            let order = if gpa.is_multiple_of(big) && end - gpa >= big {
                BIG_ORDER
            } else {
                0
            };
            let pa = frames::alloc(order).map_err(|_| MemoryError::OutOfMemory)?;
            self.owned.push((pa, order));
            blocks.push((pa, (PAGE << order) as usize));
            if order == BIG_ORDER {
                self.map_2m(gpa, pa)?;
            } else {
                self.map(gpa, pa, Access::ReadWrite)?;
            }
            gpa += PAGE << order;
            self.ram_bytes += PAGE << order;
        }
        Ok(blocks)
    }

    /// A zeroed frame owned by the domain but not (yet) mapped anywhere.
    pub fn alloc_frame(&mut self) -> Result<u64, MemoryError> {
        if self.overhead_bytes() > MAX_OVERHEAD {
            return Err(MemoryError::OutOfMemory);
        }
        let pa = frames::alloc_zeroed(0).map_err(|_| MemoryError::OutOfMemory)?;
        self.owned.push((pa, 0));
        Ok(pa)
    }

    /// Maps machine page `pa` (which the domain owns) at `gpa`.
    pub fn map(&mut self, gpa: u64, pa: u64, access: Access) -> Result<(), MemoryError> {
        if self.overhead_bytes() > MAX_OVERHEAD {
            return Err(MemoryError::OutOfMemory);
        }
        let owned = &mut self.owned;
        self.npt
            .map(gpa, pa, access, &mut || table_frame(owned))
            .map_err(npt_error)
    }

    /// Maps a 2 MiB block of RAM with one nested-table entry (fewer table
    /// frames per domain, fewer TLB misses).
    fn map_2m(&mut self, gpa: u64, pa: u64) -> Result<(), MemoryError> {
        let owned = &mut self.owned;
        self.npt
            .map_2m(gpa, pa, Access::ReadWrite, &mut || table_frame(owned))
            .map_err(npt_error)
    }

    /// Machine address behind guest-physical `gpa`.
    pub fn translate(&self, gpa: u64) -> Option<u64> {
        self.npt.translate(gpa).map(|(pa, _)| pa)
    }

    /// Machine address behind `gpa`, only if the guest may write there.
    pub fn translate_writable(&self, gpa: u64) -> Option<u64> {
        match self.npt.translate(gpa) {
            Some((pa, Access::ReadWrite)) => Some(pa),
            _ => None,
        }
    }

    /// Copies `data` into guest-physical memory at `gpa` (page by page).
    pub fn write(&self, mut gpa: u64, mut data: &[u8]) -> Result<(), MemoryError> {
        while !data.is_empty() {
            let pa = self.translate(gpa).ok_or(MemoryError::BadAddress)?;
            let n = ((PAGE - gpa % PAGE) as usize).min(data.len());
            // Inside one page of a frame this domain owns.
            crate::mm::machine::write(pa, &data[..n]);
            data = &data[n..];
            gpa += n as u64;
        }
        Ok(())
    }

    /// Copies guest-physical memory at `gpa` into `buf`.
    pub fn read(&self, mut gpa: u64, mut buf: &mut [u8]) -> Result<(), MemoryError> {
        while !buf.is_empty() {
            let pa = self.translate(gpa).ok_or(MemoryError::BadAddress)?;
            let n = ((PAGE - gpa % PAGE) as usize).min(buf.len());
            crate::mm::machine::read(pa, &mut buf[..n]);
            buf = &mut buf[n..];
            gpa += n as u64;
        }
        Ok(())
    }

    pub fn read_u64(&self, gpa: u64) -> Option<u64> {
        let mut b = [0u8; 8];
        self.read(gpa, &mut b).ok()?;
        Some(u64::from_le_bytes(b))
    }

    pub fn read_u32(&self, gpa: u64) -> Option<u32> {
        let mut b = [0u8; 4];
        self.read(gpa, &mut b).ok()?;
        Some(u32::from_le_bytes(b))
    }

    /// Bytes held beyond the guest's RAM: nested page tables, VMCBs,
    /// FPU areas, shared_info, console ring, ACPI tables, grant frames.
    pub fn overhead_bytes(&self) -> u64 {
        let held: u64 = self.owned.iter().map(|(_, order)| PAGE << order).sum();
        held.saturating_sub(self.ram_bytes)
    }
}

/// A zeroed frame for a nested page table, held by the domain.
fn table_frame(owned: &mut Vec<(u64, u32)>) -> Option<u64> {
    let frame = frames::alloc_zeroed(0).ok()?;
    owned.push((frame, 0));
    Some(frame)
}

fn npt_error(e: crate::arch::npt::NptError) -> MemoryError {
    match e {
        crate::arch::npt::NptError::NoMemory => MemoryError::OutOfMemory,
        crate::arch::npt::NptError::BadAddress => MemoryError::BadAddress,
    }
}

impl Drop for GuestMemory {
    /// Every frame goes back to the allocator.
    fn drop(&mut self) {
        for (pa, order) in self.owned.drain(..) {
            frames::free(pa, order);
        }
    }
}
