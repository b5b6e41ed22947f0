//! Populate-on-demand (PoD): what libxl builds a PVH or HVM domain with
//! when its `maxmem` is above its `memory`. The guest's memory map shows
//! `maxmem` of RAM, but only `memory` is backed: the toolstack marks the
//! frames as PoD entries (`XENMEM_populate_physmap` with
//! `XENMEMF_populate_on_demand`) and sets a target (`XENMEM_set_pod_target`)
//! that the hypervisor meets by holding a *cache* of pages. A guest that
//! touches a PoD entry gets a page from the cache there; the guest's balloon
//! driver gives back what it may not keep, entries and pages alike, until
//! the domain holds its target.
//!
//! This crate is the bookkeeping, Xen's rules (`xen/arch/x86/mm/p2m-pod.c`
//! semantics, our own code); the hypervisor holds the actual frames:
//!
//! * the domain's pages (Xen's `tot_pages`) are the populated ones plus the
//!   cache;
//! * the target asks for `target - populated` pages of cache, at most
//!   `entries` once the guest has pages (while it is being built, the
//!   toolstack sets the target before it marks the entries); a lower target
//!   leaves the cache alone, for the balloon driver to meet;
//! * a page the guest gives back while it owes more entries than the cache
//!   holds stays with the domain, in the cache (its `tot_pages` does not
//!   move until the books balance); a cache above the entries left is
//!   given back;
//! * a touch populates 2 MiB at once when the aligned 2 MiB around it are
//!   all entries and the cache has a block that size, else one page.
//!
//! `no_std`, no `unsafe`; nothing here trusts a guest value.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::BTreeMap;

/// Pages in a 2 MiB block.
pub const BLOCK_PAGES: u64 = 512;

/// A domain's PoD entries and its cache's size.
#[derive(Debug, Default, Clone)]
pub struct PodBook {
    /// Disjoint ranges of entries: first frame -> one past the last.
    ranges: BTreeMap<u64, u64>,
    entries: u64,
    cache: u64,
}

/// What a touch of a frame should populate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touch {
    /// Not a PoD entry: the fault is the guest's own.
    NotPod,
    /// Populate `count` frames from `first` (a 2 MiB block or one page).
    Populate { first: u64, count: u64 },
    /// An entry, but the cache is empty: Xen crashes the domain.
    CacheEmpty,
}

impl PodBook {
    pub const fn new() -> Self {
        Self {
            ranges: BTreeMap::new(),
            entries: 0,
            cache: 0,
        }
    }

    /// Frames marked PoD and not yet populated (Xen's `entry_count`).
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Pages held to back them (Xen's `pod.count`).
    pub fn cache(&self) -> u64 {
        self.cache
    }

    /// The range holding `gfn`, if one does.
    fn range_of(&self, gfn: u64) -> Option<(u64, u64)> {
        let (&start, &end) = self.ranges.range(..=gfn).next_back()?;
        (gfn < end).then_some((start, end))
    }

    pub fn contains(&self, gfn: u64) -> bool {
        self.range_of(gfn).is_some()
    }

    /// Whether every frame of [first, first + count) is an entry.
    pub fn covers(&self, first: u64, count: u64) -> bool {
        count == 0
            || self
                .range_of(first)
                .is_some_and(|(_, end)| first.saturating_add(count) <= end)
    }

    /// Whether any frame of [first, first + count) is an entry.
    pub fn overlaps(&self, first: u64, count: u64) -> bool {
        if count == 0 {
            return false;
        }
        let end = first.saturating_add(count);
        self.range_of(first).is_some() || self.ranges.range(first..end).next().is_some()
    }

    /// Marks [first, first + count) as entries; false (and nothing marked)
    /// if one of them already is.
    pub fn mark(&mut self, first: u64, count: u64) -> bool {
        let Some(end) = first.checked_add(count) else {
            return false;
        };
        if count == 0 || self.overlaps(first, count) {
            return count == 0;
        }
        // Joined to a neighbour that ends or starts exactly here, so that
        // a toolstack marking extent after extent leaves one range.
        let mut start = first;
        let mut stop = end;
        if let Some((s, e)) = self
            .ranges
            .range(..first)
            .next_back()
            .map(|(&s, &e)| (s, e))
        {
            if e == first {
                start = s;
            }
        }
        if let Some(e) = self.ranges.remove(&end) {
            stop = e;
        }
        self.ranges.insert(start, stop);
        self.entries += count;
        true
    }

    /// Removes whatever entries [first, first + count) holds (populated,
    /// given back, or mapped over); returns how many there were.
    pub fn forget(&mut self, first: u64, count: u64) -> u64 {
        if count == 0 {
            return 0;
        }
        let end = first.saturating_add(count);
        let mut forgotten = 0;
        while let Some((s, e)) = self.first_overlap(first, end) {
            self.ranges.remove(&s);
            if s < first {
                self.ranges.insert(s, first);
            }
            if e > end {
                self.ranges.insert(end, e);
            }
            forgotten += e.min(end) - s.max(first);
        }
        self.entries -= forgotten;
        forgotten
    }

    fn first_overlap(&self, first: u64, end: u64) -> Option<(u64, u64)> {
        if let Some(r) = self.range_of(first) {
            return Some(r);
        }
        self.ranges.range(first..end).next().map(|(&s, &e)| (s, e))
    }

    /// What a guest touch of `gfn` populates, given whether the cache holds
    /// a whole 2 MiB block.
    pub fn touch(&self, gfn: u64, cache_has_block: bool) -> Touch {
        if !self.contains(gfn) {
            return Touch::NotPod;
        }
        let block = gfn - gfn % BLOCK_PAGES;
        if cache_has_block && self.cache >= BLOCK_PAGES && self.covers(block, BLOCK_PAGES) {
            return Touch::Populate {
                first: block,
                count: BLOCK_PAGES,
            };
        }
        if self.cache == 0 {
            return Touch::CacheEmpty;
        }
        Touch::Populate {
            first: gfn,
            count: 1,
        }
    }

    /// Records that [first, first + count) got pages from the cache.
    pub fn populated(&mut self, first: u64, count: u64) {
        let n = self.forget(first, count);
        self.cache -= n.min(self.cache);
    }

    /// How big the cache should be for `target` pages in all when
    /// `populated` are populated (XENMEM_set_pod_target), or `None` to
    /// leave it: a domain with pages and no entries has no PoD; a target
    /// below what the domain holds is the balloon driver's to meet (the
    /// cache never shrinks here); while the domain is being built (nothing
    /// populated yet) the cache takes the whole target, entries or not;
    /// after that, never more than the entries it may have to back.
    pub fn cache_goal(&self, target: u64, populated: u64) -> Option<u64> {
        if populated > 0 && self.entries == 0 {
            return None;
        }
        if target < populated + self.cache {
            return None;
        }
        let mut goal = target - populated;
        if populated > 0 {
            goal = goal.min(self.entries);
        }
        Some(goal.max(self.cache))
    }

    /// The cache now holds `pages`.
    pub fn set_cache(&mut self, pages: u64) {
        self.cache = pages;
    }

    /// A populated page was given back: whether the domain keeps a page for
    /// it in the cache (it still owes more entries than the cache holds).
    pub fn page_returned(&mut self) -> bool {
        let keep = self.entries > self.cache;
        if keep {
            self.cache += 1;
        }
        keep
    }

    /// Cache pages beyond the entries left, to give back.
    pub fn excess(&self) -> u64 {
        self.cache.saturating_sub(self.entries)
    }
}

#[cfg(test)]
mod tests;
