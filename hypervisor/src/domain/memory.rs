//! A domain's memory: its p2m (the nested page table), what each mapped
//! page is, and the frames the domain holds.
//!
//! Every frame of a domain's RAM and of its other pages (shared_info, grant
//! frames, vCPU state) carries one reference held by the domain
//! (`mm::pages`). A p2m entry is one of:
//!
//! * **RAM**: the domain's own frame, counted in its pages (`tot_pages`);
//! * **foreign**: another domain's frame mapped by the toolstack (privcmd);
//!   the entry holds a reference on it;
//! * **grant**: a frame another domain granted; holds a reference;
//! * **shared**: one of the domain's own non-RAM frames (shared_info, a
//!   grant-table frame) placed in its address space at its request.
//!
//! A domain built with `maxmem` above `memory` also has populate-on-demand
//! entries: frames that are RAM in its memory map but get a page (from its
//! PoD cache, `pod_cache`) only when first touched (a nested page fault,
//! or a foreign map while the toolstack loads the kernel); see `rxen_pod`.
//!
//! Entries that are removed are handed back to the caller, who releases
//! them only after the domain's vCPUs have dropped their translations
//! (`Domain::flush_tlbs`), so no vCPU can reach a frame after it was freed.

#[path = "memory_log_dirty.rs"]
mod log_dirty;

use alloc::vec::Vec;

use rxen_pod::{PodBook, Touch};

use crate::arch::npt::{Access, NestedPageTable};
use crate::mm::{frames, pages};

use super::pod_cache::{PodCache, BLOCK_ORDER as POD_BLOCK_ORDER, BLOCK_PAGES as POD_BLOCK_PAGES};
use super::DomId;

pub const PAGE: u64 = 4096;
/// The most a domain may hold beyond its RAM (page tables and the pages
/// it maps in: shared_info, grant frames, foreign maps' tables). A guest
/// remapping frames all over its address space hits this instead of
/// exhausting the hypervisor. The control domain maps whole guests while
/// building them and gets more.
const MAX_OVERHEAD: u64 = 4 << 20;
const MAX_OVERHEAD_CONTROL: u64 = 64 << 20;
/// RAM is allocated in 2 MiB blocks where alignment allows (fewer
/// allocator calls, contiguous memory, one p2m entry), 4 KiB frames
/// elsewhere.
const BIG_ORDER: u32 = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryError {
    OutOfMemory,
    BadAddress,
    /// The page is taken (a foreign or grant entry is never replaced).
    Busy,
    /// The domain may not hold more pages.
    OverLimit,
}

/// What a p2m entry maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PageKind {
    Ram = 0,
    Foreign = 1,
    Grant = 2,
    Shared = 3,
}

impl PageKind {
    fn from_tag(tag: u8) -> Self {
        match tag {
            1 => Self::Foreign,
            2 => Self::Grant,
            3 => Self::Shared,
            _ => Self::Ram,
        }
    }

    /// Whether the entry holds its own reference on the frame.
    pub fn holds_reference(self) -> bool {
        matches!(self, Self::Ram | Self::Foreign | Self::Grant)
    }
}

/// One 4 KiB page of the p2m.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// Machine address of the frame.
    pub pa: u64,
    pub kind: PageKind,
    pub writable: bool,
}

impl Page {
    /// Drops the reference this entry held, if it held one (after the
    /// TLB flush that made it unreachable).
    pub fn release(self) {
        if self.kind.holds_reference() {
            super::release_frame(self.pa);
        }
    }
}

pub struct GuestMemory {
    owner: DomId,
    npt: NestedPageTable,
    /// Frames of the nested page table (the hypervisor's, not refcounted).
    tables: Vec<u64>,
    /// The domain's frames that are not RAM (shared_info, grant frames,
    /// VMCBs, ...), one reference each.
    extra: Vec<u64>,
    ram_pages: u64,
    max_pages: u64,
    max_gfn: u64,
    control: bool,
    /// Populate-on-demand entries and the cache's size ...
    pod: PodBook,
    /// ... and the cache's frames.
    pod_cache: PodCache,
    /// While log-dirty is on (live migration): the frames written.
    dirty: Option<rxen_log_dirty::DirtyLog>,
}

impl GuestMemory {
    pub fn new(owner: DomId, max_pages: u64) -> Result<Self, MemoryError> {
        let root = frames::alloc_zeroed(0).map_err(|_| MemoryError::OutOfMemory)?;
        Ok(Self {
            owner,
            npt: NestedPageTable::new(root),
            tables: alloc::vec![root],
            extra: Vec::new(),
            ram_pages: 0,
            max_pages,
            max_gfn: 0,
            control: owner == 0,
            pod: PodBook::new(),
            pod_cache: PodCache::default(),
            dirty: None,
        })
    }

    /// Holds nothing (what a destroyed domain keeps).
    pub fn empty() -> Self {
        Self {
            owner: 0,
            npt: NestedPageTable::new(0),
            tables: Vec::new(),
            extra: Vec::new(),
            ram_pages: 0,
            max_pages: 0,
            max_gfn: 0,
            control: false,
            pod: PodBook::new(),
            pod_cache: PodCache::default(),
            dirty: None,
        }
    }

    pub fn npt_root(&self) -> u64 {
        self.npt.root()
    }

    /// Pages of RAM the domain has (Xen's `tot_pages`): mapped, and held
    /// in its populate-on-demand cache.
    pub fn ram_pages(&self) -> u64 {
        self.ram_pages + self.pod_cache.pages()
    }

    pub fn ram_bytes(&self) -> u64 {
        self.ram_pages * PAGE
    }

    /// Most RAM pages the domain may have (Xen's `max_pages`).
    pub fn max_pages(&self) -> u64 {
        self.max_pages
    }

    pub fn set_max_pages(&mut self, pages: u64) {
        self.max_pages = pages;
    }

    /// Highest guest frame that was ever mapped (XENMEM_maximum_gpfn).
    pub fn max_gfn(&self) -> u64 {
        self.max_gfn
    }

    fn note_gfn(&mut self, gfn: u64) {
        self.max_gfn = self.max_gfn.max(gfn);
    }

    /// Bytes held beyond the guest's RAM: nested page tables and the
    /// domain's other frames.
    pub fn overhead_bytes(&self) -> u64 {
        (self.tables.len() + self.extra.len()) as u64 * PAGE
    }

    fn check_overhead(&self) -> Result<(), MemoryError> {
        let limit = if self.control {
            MAX_OVERHEAD_CONTROL
        } else {
            MAX_OVERHEAD
        };
        if self.overhead_bytes() > limit {
            Err(MemoryError::OutOfMemory)
        } else {
            Ok(())
        }
    }

    /// The page at guest frame `gfn`.
    pub fn lookup(&self, gfn: u64) -> Option<Page> {
        let leaf = self.npt.lookup(gfn.checked_mul(PAGE)?)?;
        Some(Page {
            pa: leaf.hpa,
            kind: PageKind::from_tag(leaf.tag),
            writable: leaf.access == Access::ReadWrite,
        })
    }

    /// Machine address behind guest-physical `gpa`.
    pub fn translate(&self, gpa: u64) -> Option<u64> {
        self.npt.translate(gpa).map(|(pa, _)| pa)
    }

    /// Machine address behind `gpa`, only if the guest may write there
    /// (RAM log-dirty protects counts: the write about to be made is
    /// recorded).
    pub fn translate_writable(&self, gpa: u64) -> Option<u64> {
        match self.npt.lookup(gpa)? {
            leaf if leaf.access == Access::ReadWrite => Some(leaf.hpa),
            leaf if self.log_dirty_on() && PageKind::from_tag(leaf.tag) == PageKind::Ram => {
                self.mark_dirty(gpa / PAGE);
                Some(leaf.hpa)
            }
            _ => None,
        }
    }

    /// Whether guest frames [gfn, gfn + count) are all unmapped.
    pub fn is_hole(&self, gfn: u64, count: u64) -> bool {
        (gfn..gfn.saturating_add(count)).all(|g| self.lookup(g).is_none())
    }

    /// Backs 2^`order` guest frames at `gfn` (aligned, all unmapped) with
    /// fresh zeroed RAM (XENMEM_populate_physmap). Orders above 2 MiB are
    /// refused: the toolstack then asks again in smaller pieces.
    pub fn populate(&mut self, gfn: u64, order: u32) -> Result<(), MemoryError> {
        let count = 1u64 << order;
        if order > BIG_ORDER || !gfn.is_multiple_of(count) {
            return Err(MemoryError::BadAddress);
        }
        if self.ram_pages() + count > self.max_pages {
            return Err(MemoryError::OverLimit);
        }
        if !self.is_hole(gfn, count) {
            return Err(MemoryError::Busy);
        }
        let pa = pages::alloc_for(self.owner, order).ok_or(MemoryError::OutOfMemory)?;
        // Populated over populate-on-demand entries: they are no more.
        self.pod.forget(gfn, count);
        crate::mm::machine::zero(pa, (PAGE << order) as usize);
        self.map_ram(gfn * PAGE, pa, order)
    }

    /// Maps 2^order fresh RAM frames at `pa` (which the domain holds) at
    /// guest-physical `gpa`; on failure the frames go back.
    fn map_ram(&mut self, gpa: u64, pa: u64, order: u32) -> Result<(), MemoryError> {
        let result = if order == BIG_ORDER {
            self.map_2m(gpa, pa)
        } else {
            (0..1u64 << order).try_for_each(|i| {
                self.map_tagged(
                    gpa + i * PAGE,
                    pa + i * PAGE,
                    Access::ReadWrite,
                    PageKind::Ram,
                )
            })
        };
        match result {
            Ok(()) => {
                self.ram_pages += 1 << order;
                self.note_gfn((gpa >> 12) + (1 << order) - 1);
                // New memory under log-dirty: writable, so recorded now.
                self.mark_dirty_range(gpa, PAGE << order);
                Ok(())
            }
            Err(e) => {
                // Unmap whatever got mapped, then give every frame back.
                for i in 0..1u64 << order {
                    let _ = self.npt.unmap(gpa + i * PAGE, &mut || None);
                    super::release_frame(pa + i * PAGE);
                }
                Err(e)
            }
        }
    }

    /// Backs guest-physical [start, end) with fresh RAM *not yet zeroed*:
    /// the caller must zero the returned (machine address, length) blocks
    /// (through `mm::scrub`) before the guest runs. For the builder of
    /// boot-time domains.
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
            let pa = pages::alloc_for(self.owner, order).ok_or(MemoryError::OutOfMemory)?;
            self.map_ram(gpa, pa, order)?;
            blocks.push((pa, (PAGE << order) as usize));
            gpa += PAGE << order;
        }
        Ok(blocks)
    }

    /// Removes the entry at `gfn` and returns it, for the caller to
    /// [`Page::release`] after flushing the domain's TLBs.
    pub fn remove(&mut self, gfn: u64) -> Result<Option<Page>, MemoryError> {
        let gpa = gfn.checked_mul(PAGE).ok_or(MemoryError::BadAddress)?;
        let tables = &mut self.tables;
        let leaf = self
            .npt
            .unmap(gpa, &mut || table_frame(tables))
            .map_err(npt_error)?;
        let Some(leaf) = leaf else {
            self.pod.forget(gfn, 1);
            return Ok(None);
        };
        let page = Page {
            pa: leaf.hpa,
            kind: PageKind::from_tag(leaf.tag),
            writable: leaf.access == Access::ReadWrite,
        };
        if page.kind == PageKind::Ram {
            self.ram_pages -= 1;
        }
        Ok(Some(page))
    }

    /// Maps `pa` at `gfn` as `kind` (the caller holds the reference a
    /// foreign or grant entry keeps). Whatever RAM or shared page was there
    /// is returned for the caller to release; a foreign or grant entry is
    /// never replaced.
    pub fn insert(
        &mut self,
        gfn: u64,
        pa: u64,
        kind: PageKind,
        writable: bool,
    ) -> Result<Option<Page>, MemoryError> {
        if kind == PageKind::Ram {
            return Err(MemoryError::BadAddress);
        }
        self.check_overhead()?;
        let old = self.lookup(gfn);
        if old.is_some_and(|p| matches!(p.kind, PageKind::Foreign | PageKind::Grant)) {
            return Err(MemoryError::Busy);
        }
        let gpa = gfn.checked_mul(PAGE).ok_or(MemoryError::BadAddress)?;
        let access = if writable {
            Access::ReadWrite
        } else {
            Access::ReadOnly
        };
        let old = match old {
            Some(_) => self.remove(gfn)?,
            None => None,
        };
        self.pod.forget(gfn, 1);
        self.map_tagged(gpa, pa, access, kind)?;
        self.note_gfn(gfn);
        Ok(old)
    }

    /// Moves the RAM page at `from` to the hole at `to` (XENMAPSPACE_gmfn).
    pub fn relocate_ram(&mut self, from: u64, to: u64) -> Result<(), MemoryError> {
        match self.lookup(from) {
            Some(p) if p.kind == PageKind::Ram => {}
            _ => return Err(MemoryError::BadAddress),
        }
        let gpa = to.checked_mul(PAGE).ok_or(MemoryError::BadAddress)?;
        let page = self.remove(from)?.ok_or(MemoryError::BadAddress)?;
        self.pod.forget(to, 1);
        if let Err(e) = self.map_tagged(gpa, page.pa, Access::ReadWrite, PageKind::Ram) {
            // Back where it was (its table exists, so this cannot fail).
            let _ = self.map_tagged(from * PAGE, page.pa, Access::ReadWrite, PageKind::Ram);
            self.ram_pages += 1;
            return Err(e);
        }
        self.ram_pages += 1;
        self.note_gfn(to);
        Ok(())
    }

    /// A zeroed frame the domain holds but has not mapped (yet).
    pub fn alloc_extra(&mut self) -> Result<u64, MemoryError> {
        self.check_overhead()?;
        let pa = pages::alloc_zeroed_for(self.owner).ok_or(MemoryError::OutOfMemory)?;
        self.extra.push(pa);
        Ok(pa)
    }

    /// Marks 2^`order` guest frames at `gfn` (aligned, unmapped) as
    /// populate-on-demand entries (XENMEM_populate_physmap with
    /// XENMEMF_populate_on_demand).
    pub fn mark_pod(&mut self, gfn: u64, order: u32) -> Result<(), MemoryError> {
        let count = 1u64 << order;
        let last = gfn.checked_add(count - 1).ok_or(MemoryError::BadAddress)?;
        if !gfn.is_multiple_of(count) || last.checked_mul(PAGE).is_none() {
            return Err(MemoryError::BadAddress);
        }
        // Entries are not pages: what the domain holds (its populated
        // pages and the cache) is what max_pages bounds, as on Xen, where
        // libxl sets max_pages to `memory` for such a domain.
        if !self.is_hole(gfn, count) || !self.pod.mark(gfn, count) {
            return Err(MemoryError::Busy);
        }
        self.note_gfn(last);
        Ok(())
    }

    pub fn pod_entries(&self) -> u64 {
        self.pod.entries()
    }

    pub fn pod_cache_pages(&self) -> u64 {
        self.pod_cache.pages()
    }

    pub fn is_pod(&self, gfn: u64) -> bool {
        self.pod.contains(gfn)
    }

    /// XENMEM_set_pod_target: grows the cache so that the domain holds
    /// `target` pages (Xen's rules: `PodBook::cache_goal`).
    /// Returns the pages the cache grew by.
    pub fn set_pod_target(&mut self, target: u64) -> Result<u64, MemoryError> {
        let have = self.pod_cache.pages();
        let Some(goal) = self.pod.cache_goal(target, self.ram_pages) else {
            return Ok(0);
        };
        let grown = self.pod_cache.grow(self.owner, goal.saturating_sub(have));
        self.pod.set_cache(self.pod_cache.pages());
        if grown {
            Ok(self.pod_cache.pages() - have)
        } else {
            Err(MemoryError::OutOfMemory)
        }
    }

    /// A populated page went back (decrease_reservation): while the domain
    /// owes more entries than its cache holds, it keeps a page in the cache
    /// for it.
    pub fn pod_page_returned(&mut self) {
        if self.pod.page_returned() && !self.pod_cache.grow(self.owner, 1) {
            self.pod.set_cache(self.pod_cache.pages());
        }
    }

    /// Gives back cache pages beyond the entries left.
    pub fn pod_trim(&mut self) {
        self.pod_cache.shrink(self.pod.excess());
        self.pod.set_cache(self.pod_cache.pages());
    }

    /// A touch of guest frame `gfn` (a nested page fault, a foreign map):
    /// if it is a populate-on-demand entry, backs it (and, when it can, the
    /// 2 MiB around it) from the cache. Ok(false): not an entry.
    pub fn pod_touch(&mut self, gfn: u64) -> Result<bool, MemoryError> {
        let (first, count) = match self.pod.touch(gfn, self.pod_cache.has_block()) {
            Touch::NotPod => return Ok(false),
            Touch::CacheEmpty => return Err(MemoryError::OutOfMemory),
            Touch::Populate { first, count } => (first, count),
        };
        let (pa, order) = if count == POD_BLOCK_PAGES {
            (self.pod_cache.take_block(), POD_BLOCK_ORDER)
        } else {
            (self.pod_cache.take_page(), 0)
        };
        let pa = pa.ok_or(MemoryError::OutOfMemory)?;
        self.pod.populated(first, count);
        let mapped = self.map_ram(first * PAGE, pa, order);
        self.pod.set_cache(self.pod_cache.pages());
        mapped.map(|()| true)
    }

    /// The page at `gfn`, backed first if it is a populate-on-demand entry
    /// (for foreign and grant maps of it).
    pub fn lookup_populating(&mut self, gfn: u64) -> Option<Page> {
        if self.lookup(gfn).is_none() {
            self.pod_touch(gfn).ok()?;
        }
        self.lookup(gfn)
    }

    fn map_tagged(
        &mut self,
        gpa: u64,
        pa: u64,
        access: Access,
        kind: PageKind,
    ) -> Result<(), MemoryError> {
        let tables = &mut self.tables;
        self.npt
            .map(gpa, pa, access, kind as u8, &mut || table_frame(tables))
            .map_err(npt_error)
    }

    fn map_2m(&mut self, gpa: u64, pa: u64) -> Result<(), MemoryError> {
        let tables = &mut self.tables;
        self.npt
            .map_2m(gpa, pa, Access::ReadWrite, &mut || table_frame(tables))
            .map_err(npt_error)
    }

    /// Copies `data` into guest-physical memory at `gpa` (page by page).
    pub fn write(&self, mut gpa: u64, mut data: &[u8]) -> Result<(), MemoryError> {
        self.mark_dirty_range(gpa, data.len() as u64);
        while !data.is_empty() {
            let pa = self.translate(gpa).ok_or(MemoryError::BadAddress)?;
            let n = ((PAGE - gpa % PAGE) as usize).min(data.len());
            // Inside one page this domain holds a reference on.
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

    /// Lets go of everything: the table frames go back at once, and every
    /// reference the domain held (its frames, the frames its foreign and
    /// grant entries point at) is dropped; frames others still map stay
    /// alive until they let go.
    fn release_all(&mut self) {
        let mut refs = Vec::new();
        self.npt.for_each_leaf(&mut |leaf| {
            if PageKind::from_tag(leaf.tag).holds_reference() {
                let base = leaf.hpa & !((PAGE << leaf.order) - 1);
                refs.extend((0..1u64 << leaf.order).map(|i| base + i * PAGE));
            }
        });
        refs.append(&mut self.extra);
        for t in self.tables.drain(..) {
            frames::free(t, 0);
        }
        self.npt = NestedPageTable::new(0);
        self.ram_pages = 0;
        self.pod_cache.release_all();
        self.pod = PodBook::new();
        for pa in refs {
            super::release_frame(pa);
        }
    }
}

/// A zeroed frame for a nested page table, held by the domain.
fn table_frame(tables: &mut Vec<u64>) -> Option<u64> {
    let frame = frames::alloc_zeroed(0).ok()?;
    tables.push(frame);
    Some(frame)
}

fn npt_error(e: crate::arch::npt::NptError) -> MemoryError {
    match e {
        crate::arch::npt::NptError::NoMemory => MemoryError::OutOfMemory,
        crate::arch::npt::NptError::BadAddress => MemoryError::BadAddress,
    }
}

impl Drop for GuestMemory {
    /// Every reference goes back (see `release_all`).
    fn drop(&mut self) {
        self.release_all();
    }
}
