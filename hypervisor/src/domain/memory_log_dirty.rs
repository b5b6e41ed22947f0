//! Log-dirty mode of a domain's p2m, for live migration: its RAM is
//! write-protected in the nested page table; the guest's first write to a
//! page faults, is recorded in the domain's `DirtyLog` and the page made
//! writable again; the hypervisor's own writes into the guest are recorded
//! as they happen; CLEAN hands the record out and protects the RAM again.
//! (The bookkeeping itself is the `rxen-log-dirty` crate.)

use rxen_log_dirty::{DirtyLog, Stats};

use super::{GuestMemory, MemoryError, PageKind, PAGE};
use crate::arch::npt::Access;

impl GuestMemory {
    pub fn log_dirty_on(&self) -> bool {
        self.dirty.is_some()
    }

    /// ENABLE_LOGDIRTY: every RAM frame clean and write-protected (the
    /// caller flushes the TLBs). Busy if it is on already (Xen's -EINVAL
    /// says the same: libxc then turns it off and on). 2 MiB pages are
    /// split first, so that a write dirties 4 KiB, not 2 MiB, and pre-copy
    /// converges; where a split finds no memory, the 2 MiB page stays and
    /// a write to it dirties all of it (coarser, never wrong).
    pub fn log_dirty_enable(&mut self) -> Result<(), MemoryError> {
        if self.dirty.is_some() {
            return Err(MemoryError::Busy);
        }
        let mut huge = alloc::vec::Vec::new();
        self.npt.for_each_leaf(&mut |leaf| {
            if leaf.order != 0 && PageKind::from_tag(leaf.tag) == PageKind::Ram {
                huge.push(leaf.gpa);
            }
        });
        let tables = &mut self.tables;
        for gpa in huge {
            let _ = self.npt.split_2m(gpa, &mut || super::table_frame(tables));
        }
        self.dirty = Some(DirtyLog::new(self.max_gfn + 1));
        self.npt.set_writable_tagged(PageKind::Ram as u8, false);
        Ok(())
    }

    /// OFF: RAM writable again, the record dropped (the caller flushes).
    pub fn log_dirty_disable(&mut self) {
        if self.dirty.take().is_some() {
            self.npt.set_writable_tagged(PageKind::Ram as u8, true);
        }
    }

    /// CLEAN (`clean`) or PEEK of frames `0..pages` into `out`. At the last
    /// pass (`final_pass`, the domain suspended) every RAM frame someone
    /// else holds (a back-end's or the toolstack's mapping, a vcpu_info
    /// page rxen writes) counts as dirty too. After a CLEAN the RAM is
    /// protected again (the caller flushes).
    pub fn log_dirty_read(
        &mut self,
        pages: u64,
        clean: bool,
        final_pass: bool,
        out: &mut [u8],
    ) -> Option<Stats> {
        if final_pass {
            self.mark_shared_ram();
        }
        let stats = self.dirty.as_ref()?.read(pages, clean, out);
        if clean {
            self.npt.set_writable_tagged(PageKind::Ram as u8, false);
        }
        Some(stats)
    }

    fn mark_shared_ram(&self) {
        let Some(dirty) = &self.dirty else { return };
        self.npt.for_each_leaf(&mut |leaf| {
            if PageKind::from_tag(leaf.tag) != PageKind::Ram {
                return;
            }
            for i in 0..1u64 << leaf.order {
                if crate::mm::pages::references(leaf.hpa + i * PAGE) > 1 {
                    dirty.mark((leaf.gpa >> 12) + i);
                }
            }
        });
    }

    /// Records a write by the hypervisor (or a back-end's grant) to `gfn`.
    pub fn mark_dirty(&self, gfn: u64) {
        if let Some(dirty) = &self.dirty {
            dirty.mark(gfn);
        }
    }

    /// Records the frames of `len` bytes written at `gpa`.
    pub(super) fn mark_dirty_range(&self, gpa: u64, len: u64) {
        if self.dirty.is_some() && len != 0 {
            for gfn in gpa / PAGE..=(gpa + len - 1) / PAGE {
                self.mark_dirty(gfn);
            }
        }
    }

    /// A nested page fault on a write: if it hit RAM log-dirty protects,
    /// the frames are recorded (all 512 of a 2 MiB page) and the page is
    /// writable again. Whether it was that, or such a page another vCPU
    /// made writable first (the guest then runs on; the caller flushes,
    /// as the old read-only translation may be cached).
    pub fn log_dirty_fault(&mut self, gfn: u64) -> bool {
        let Some(dirty) = &self.dirty else {
            return false;
        };
        let Some(leaf) = self.npt.lookup(gfn * PAGE) else {
            return false;
        };
        if PageKind::from_tag(leaf.tag) != PageKind::Ram {
            return false;
        }
        if leaf.access == Access::ReadWrite {
            // Another vCPU made it writable first; this one's translation
            // was stale.
            return true;
        }
        let first = ((gfn * PAGE) & !((PAGE << leaf.order) - 1)) / PAGE;
        for g in first..first + (1 << leaf.order) {
            dirty.mark(g);
        }
        self.npt.set_writable(gfn * PAGE, true);
        true
    }
}
