//! Grant tables, version 1: what the hypervisor decides when one domain
//! maps, copies or unmaps a page another domain granted it
//! (`xen/common/grant_table.c` semantics, our own code).
//!
//! The grant entries themselves live in the granter's memory, where the
//! granter may change them at any moment; the hypervisor reads the
//! `flags`/`domid` word, asks [`pin_flags`] what it must become and writes
//! it with a compare-and-exchange, retrying a few times if the granter
//! raced it. What the hypervisor remembers lives here:
//!
//! * [`ActiveTable`], per granter: which refs are pinned, by whom, how many
//!   read-only and writable pins each has (so `GTF_reading`/`GTF_writing`
//!   are cleared only when the last pin of their kind goes);
//! * [`Maptrack`], per mapper: the handles its maps returned, and what each
//!   one mapped where, so an unmap can be checked and undone.
//!
//! `no_std`, no `unsafe`; nothing here trusts a guest value.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use rxen_xen_abi::grant::{
    GNTST_BAD_GNTREF, GNTST_BAD_HANDLE, GNTST_GENERAL_ERROR, GNTST_NO_SPACE, GTF_PERMIT_ACCESS,
    GTF_READING, GTF_READONLY, GTF_SUB_PAGE, GTF_TYPE_MASK, GTF_WRITING,
};
use rxen_xen_abi::{DomId, GrantHandle, GrantRef};

/// Why a grant operation failed; each maps to a `GNTST_*` status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantError {
    /// The entry does not permit this mapper, or not this kind of access.
    BadEntry,
    /// The ref is beyond the table.
    BadRef,
    /// Already pinned by another domain.
    OtherMapper,
    /// The handle names no mapping.
    BadHandle,
    /// No maptrack handle left.
    NoSpace,
}

impl GrantError {
    /// The `GNTST_*` value reported to the guest.
    pub fn status(self) -> i16 {
        match self {
            Self::BadEntry | Self::OtherMapper => GNTST_GENERAL_ERROR,
            Self::BadRef => GNTST_BAD_GNTREF,
            Self::BadHandle => GNTST_BAD_HANDLE,
            Self::NoSpace => GNTST_NO_SPACE,
        }
    }
}

/// The flags a v1 entry must get for a new pin of `mapper`, or why it
/// cannot be pinned: the entry must be `GTF_permit_access` (and not a
/// sub-page grant) naming `mapper`, and a writable pin needs an entry that
/// is not `GTF_readonly`. `GTF_reading` is always set, `GTF_writing` for a
/// writable pin.
pub fn pin_flags(
    flags: u16,
    domid: DomId,
    mapper: DomId,
    readonly: bool,
) -> Result<u16, GrantError> {
    if flags & (GTF_TYPE_MASK | GTF_SUB_PAGE) != GTF_PERMIT_ACCESS || domid != mapper {
        return Err(GrantError::BadEntry);
    }
    if !readonly && flags & GTF_READONLY != 0 {
        return Err(GrantError::BadEntry);
    }
    Ok(flags | GTF_READING | if readonly { 0 } else { GTF_WRITING })
}

/// One pinned grant of a granter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Active {
    /// The only domain holding pins on it.
    pub mapper: DomId,
    /// The granter's frame the entry named when it was first pinned.
    pub gfn: u64,
    /// Read-only pins (maps and copies).
    pub readers: u32,
    /// Writable pins.
    pub writers: u32,
}

/// What the hypervisor must do to the entry before a pin is committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinPlan {
    /// First pin of this kind: check the entry with [`pin_flags`] and
    /// write the result.
    CheckEntry,
    /// Already pinned compatibly: the entry's flags stay as they are and
    /// the frame is the one already pinned.
    AlreadyPinned {
        /// The frame pinned before.
        gfn: u64,
    },
}

/// Flags to clear in the entry after an unpin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Release {
    /// The last writable pin went: clear `GTF_writing`.
    pub clear_writing: bool,
    /// The last pin went: clear `GTF_reading`.
    pub clear_reading: bool,
}

impl Release {
    /// The bits to clear.
    pub fn mask(self) -> u16 {
        (if self.clear_writing { GTF_WRITING } else { 0 })
            | (if self.clear_reading { GTF_READING } else { 0 })
    }
}

/// A granter's pinned entries.
#[derive(Clone, Debug, Default)]
pub struct ActiveTable {
    pins: BTreeMap<GrantRef, Active>,
}

impl ActiveTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// The frame `gref` is pinned on, if it is.
    pub fn pinned_gfn(&self, gref: GrantRef) -> Option<u64> {
        self.pins.get(&gref).map(|a| a.gfn)
    }

    /// Whether `mapper` may pin `gref` (`readonly` or not) and what must
    /// happen to the entry first.
    pub fn plan_pin(
        &self,
        gref: GrantRef,
        mapper: DomId,
        readonly: bool,
    ) -> Result<PinPlan, GrantError> {
        match self.pins.get(&gref) {
            None => Ok(PinPlan::CheckEntry),
            Some(a) if a.mapper != mapper => Err(GrantError::OtherMapper),
            // A first writable pin must check the entry again (it may be
            // read-only) and set GTF_writing.
            Some(a) if !readonly && a.writers == 0 => Ok(PinPlan::CheckEntry),
            Some(a) => Ok(PinPlan::AlreadyPinned { gfn: a.gfn }),
        }
    }

    /// Records a pin the caller has checked (and whose entry it updated).
    pub fn commit_pin(&mut self, gref: GrantRef, mapper: DomId, gfn: u64, readonly: bool) {
        let a = self.pins.entry(gref).or_insert(Active {
            mapper,
            gfn,
            readers: 0,
            writers: 0,
        });
        if readonly {
            a.readers += 1;
        } else {
            a.writers += 1;
        }
    }

    /// Drops one pin; says which entry flags to clear. Unknown pins change
    /// nothing.
    pub fn unpin(&mut self, gref: GrantRef, readonly: bool) -> Release {
        let Some(a) = self.pins.get_mut(&gref) else {
            return Release::default();
        };
        let count = if readonly {
            &mut a.readers
        } else {
            &mut a.writers
        };
        if *count == 0 {
            return Release::default();
        }
        *count -= 1;
        let release = Release {
            clear_writing: !readonly && a.writers == 0,
            clear_reading: a.readers == 0 && a.writers == 0,
        };
        if release.clear_reading {
            self.pins.remove(&gref);
        }
        release
    }

    /// The pin state of `gref`.
    pub fn get(&self, gref: GrantRef) -> Option<Active> {
        self.pins.get(&gref).copied()
    }

    /// Refs pinned now.
    pub fn pinned(&self) -> usize {
        self.pins.len()
    }
}

/// What one map did, as the mapper's maptrack remembers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The granting domain.
    pub granter: DomId,
    /// The ref in its table.
    pub gref: GrantRef,
    /// Where in the mapper's physical address space it was mapped.
    pub host_gfn: u64,
    /// The machine frame mapped there.
    pub mfn: u64,
    /// A read-only map.
    pub readonly: bool,
}

/// A mapper's handles.
#[derive(Clone, Debug)]
pub struct Maptrack {
    slots: Vec<Option<Mapping>>,
    free: Vec<GrantHandle>,
    limit: u32,
    in_use: usize,
}

impl Maptrack {
    /// A maptrack with at most `limit` handles.
    pub fn new(limit: u32) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            limit,
            in_use: 0,
        }
    }

    /// A handle for `mapping`.
    pub fn insert(&mut self, mapping: Mapping) -> Result<GrantHandle, GrantError> {
        let handle = match self.free.pop() {
            Some(h) => h,
            None if (self.slots.len() as u64) < u64::from(self.limit) => {
                self.slots.push(None);
                (self.slots.len() - 1) as GrantHandle
            }
            None => return Err(GrantError::NoSpace),
        };
        self.slots[handle as usize] = Some(mapping);
        self.in_use += 1;
        Ok(handle)
    }

    /// The mapping behind `handle`.
    pub fn get(&self, handle: GrantHandle) -> Result<Mapping, GrantError> {
        self.slots
            .get(handle as usize)
            .copied()
            .flatten()
            .ok_or(GrantError::BadHandle)
    }

    /// Forgets `handle`, returning its mapping.
    pub fn remove(&mut self, handle: GrantHandle) -> Result<Mapping, GrantError> {
        let m = self.get(handle)?;
        self.slots[handle as usize] = None;
        self.free.push(handle);
        self.in_use -= 1;
        Ok(m)
    }

    /// Every live mapping with its handle (teardown of a dying mapper).
    pub fn drain(&mut self) -> Vec<(GrantHandle, Mapping)> {
        let all = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(h, m)| m.map(|m| (h as GrantHandle, m)))
            .collect();
        self.slots.clear();
        self.free.clear();
        self.in_use = 0;
        all
    }

    /// Handles in use.
    pub fn in_use(&self) -> usize {
        self.in_use
    }
}

/// `GNTST_bad_gntref` helper for callers that bound-check refs themselves.
pub const BAD_GNTREF: i16 = GNTST_BAD_GNTREF;
/// `GNTST_bad_handle`.
pub const BAD_HANDLE: i16 = GNTST_BAD_HANDLE;

#[cfg(test)]
mod tests;
