//! Grant tables, version 1: a domain's own table (the frames holding its
//! entries, grown on demand, and which of its refs others have pinned)
//! and the maps it holds of other domains' grants.
//!
//! The rules are in the `rxen-grant-table` crate. Here is the mechanism:
//! the entries live in the granter's frames, which the granter writes at
//! will, so the flags word is only ever changed with compare-and-exchange
//! (a racing granter makes the pin fail, never the hypervisor), under the
//! granter's grant lock, which teardown also takes before the frames go.

pub mod ops;

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use rxen_grant_table::{pin_flags, ActiveTable, GrantError, Maptrack, PinPlan};
use rxen_xen_abi::grant::GRANT_ENTRIES_V1_PER_FRAME;
use rxen_xen_abi::{DomId, GrantRef};

use crate::domain::memory::{GuestMemory, MemoryError, PageKind};
use crate::domain::Domain;
use crate::mm::machine;

/// Grant handles per maptrack frame (Xen's 16-byte entries).
const HANDLES_PER_FRAME: u32 = 256;
/// How often a pin retries when the granter keeps changing its entry.
const PIN_RETRIES: usize = 5;

/// A domain's own grant table.
pub struct GrantTable {
    /// Machine addresses of its frames (held by the domain's memory).
    frames: Vec<u64>,
    max_frames: u32,
    active: ActiveTable,
}

impl GrantTable {
    pub fn new(max_frames: u32) -> Self {
        Self {
            frames: Vec::new(),
            max_frames,
            active: ActiveTable::new(),
        }
    }

    pub fn nr_frames(&self) -> u32 {
        self.frames.len() as u32
    }

    pub fn max_frames(&self) -> u32 {
        self.max_frames
    }

    /// Frame `idx`, allocated (zeroed) with the frames before it on first
    /// use, up to the table's limit.
    pub fn frame(&mut self, idx: u32, memory: &mut GuestMemory) -> Result<u64, MemoryError> {
        if idx >= self.max_frames {
            return Err(MemoryError::BadAddress);
        }
        while self.frames.len() as u32 <= idx {
            let pa = memory.alloc_extra()?;
            self.frames.push(pa);
        }
        Ok(self.frames[idx as usize])
    }

    /// How many of its refs others hold pinned (mapped or mid-copy).
    pub fn pinned(&self) -> usize {
        self.active.pinned()
    }

    /// Machine address of entry `gref` (its flags/domid word), if the table
    /// has it.
    fn entry_pa(&self, gref: GrantRef) -> Option<u64> {
        let per = GRANT_ENTRIES_V1_PER_FRAME as u32;
        let frame = self.frames.get((gref / per) as usize)?;
        Some(frame + u64::from(gref % per) * 8)
    }
}

/// The grants a domain maps from others.
pub struct MapperState {
    pub maptrack: Maptrack,
}

impl MapperState {
    pub fn new(maptrack_frames: u32) -> Self {
        Self {
            maptrack: Maptrack::new(maptrack_frames.saturating_mul(HANDLES_PER_FRAME)),
        }
    }
}

/// A pin on one of a granter's pages, holding a reference on its frame.
#[derive(Clone, Copy, Debug)]
pub struct Pinned {
    pub gref: GrantRef,
    /// Machine address of the page.
    pub pa: u64,
    pub readonly: bool,
}

/// Why a pin failed, as a `GNTST_*` status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinError {
    Grant(GrantError),
    /// The granted frame is not the granter's RAM.
    BadPage,
}

impl PinError {
    pub fn status(self) -> i16 {
        match self {
            Self::Grant(e) => e.status(),
            Self::BadPage => rxen_xen_abi::grant::GNTST_BAD_PAGE,
        }
    }
}

impl From<GrantError> for PinError {
    fn from(e: GrantError) -> Self {
        Self::Grant(e)
    }
}

/// Pins `gref` of `granter` for `mapper` (sets GTF_reading, and
/// GTF_writing unless `readonly`) and takes a reference on the frame.
pub fn pin(
    granter: &Domain,
    gref: GrantRef,
    mapper: DomId,
    readonly: bool,
) -> Result<Pinned, PinError> {
    if granter.is_dying() {
        return Err(GrantError::BadEntry.into());
    }
    let mut table = granter.grants.lock();
    let entry = table.entry_pa(gref).ok_or(GrantError::BadRef)?;
    let plan = table.active.plan_pin(gref, mapper, readonly)?;
    let gfn = match plan {
        PinPlan::AlreadyPinned { gfn } => gfn,
        PinPlan::CheckEntry => {
            set_pin_flags(entry, mapper, readonly)?;
            u64::from(machine::atomic_u32(entry + 4).load(Ordering::SeqCst))
        }
    };
    let page = {
        let mut memory = granter.memory.lock();
        if !readonly {
            // The mapper may write it from now on (live migration).
            memory.mark_dirty(gfn);
        }
        memory.lookup_populating(gfn)
    };
    let pa = match page {
        Some(p) if p.kind == PageKind::Ram && crate::mm::pages::get(p.pa, granter.id) => p.pa,
        _ => {
            if plan == PinPlan::CheckEntry {
                // Undo the flags this pin set, as if it never happened.
                table.active.commit_pin(gref, mapper, gfn, readonly);
                let release = table.active.unpin(gref, readonly);
                clear_flags(entry, release.mask());
            }
            return Err(PinError::BadPage);
        }
    };
    table.active.commit_pin(gref, mapper, gfn, readonly);
    Ok(Pinned { gref, pa, readonly })
}

/// The compare-and-exchange of the entry's flags for a first pin.
fn set_pin_flags(entry: u64, mapper: DomId, readonly: bool) -> Result<(), GrantError> {
    let word = machine::atomic_u32(entry);
    for _ in 0..PIN_RETRIES {
        let old = word.load(Ordering::SeqCst);
        let (flags, domid) = (old as u16, (old >> 16) as u16);
        let new_flags = pin_flags(flags, domid, mapper, readonly)?;
        let new = (old & 0xFFFF_0000) | u32::from(new_flags);
        if word
            .compare_exchange(old, new, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return Ok(());
        }
    }
    Err(GrantError::BadEntry)
}

fn clear_flags(entry: u64, mask: u16) {
    if mask != 0 {
        machine::atomic_u32(entry).fetch_and(!u32::from(mask), Ordering::SeqCst);
    }
}

/// Drops a pin taken by [`pin`] and the frame reference with it.
pub fn unpin(granter: &Domain, pinned: Pinned) {
    {
        let mut table = granter.grants.lock();
        let release = table.active.unpin(pinned.gref, pinned.readonly);
        if let Some(entry) = table.entry_pa(pinned.gref) {
            clear_flags(entry, release.mask());
        }
    }
    crate::domain::release_frame(pinned.pa);
}

/// A dying domain: its table's frames are forgotten (they go with its
/// memory), and the pins its own maps hold on others are dropped.
pub fn teardown(dom: &Domain) {
    dom.grants.lock().frames.clear();
    let maps = dom.mapped_grants.lock().maptrack.drain();
    for (_, m) in maps {
        match crate::domain::get(m.granter) {
            Some(granter) if granter.id != dom.id => {
                let mut table = granter.grants.lock();
                let release = table.active.unpin(m.gref, m.readonly);
                if let Some(entry) = table.entry_pa(m.gref) {
                    clear_flags(entry, release.mask());
                }
            }
            _ => {}
        }
        // The p2m entry's reference goes with the mapper's memory.
    }
}
