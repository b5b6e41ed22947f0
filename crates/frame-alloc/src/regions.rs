//! Memory-map arithmetic for boot: which frames may the allocator use?
//!
//! Firmware maps are messy: entries come unsorted, may overlap or touch, and
//! need not be page aligned. Reservations (the hypervisor image, boot
//! modules, low memory, the allocator's own metadata) must never be handed
//! out. [`free_frame_ranges`] turns both lists into sorted, disjoint,
//! page-aligned [`FrameRange`]s, rounding RAM *inward* (a partial page is not
//! usable) and reservations *outward* (a partial page is still taken). It
//! runs before any heap exists, so results go into a fixed-capacity
//! [`heapless::Vec`].

use core::fmt;

use heapless::Vec;

use crate::frame::{Frame, FrameRange, FRAME_SIZE};

/// Capacity of the range lists; firmware maps rarely exceed a few dozen
/// entries.
pub const MAX_RANGES: usize = 128;

/// The free frame ranges produced by [`free_frame_ranges`].
pub type FreeRanges = Vec<FrameRange, MAX_RANGES>;

/// A half-open byte range `[start, end)` of physical addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl ByteRange {
    /// The bytes `[start, end)`; empty when `end <= start`.
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }

    /// `len` bytes from `start`. The end saturates at `u64::MAX` so a bogus
    /// firmware entry cannot wrap around to low memory.
    pub const fn from_start_len(start: u64, len: u64) -> Self {
        Self {
            start,
            end: start.saturating_add(len),
        }
    }

    /// Whether the range holds no bytes.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The frames wholly inside the range (rounds inward).
    pub const fn frames_inside(&self) -> FrameRange {
        let first = self.start.div_ceil(FRAME_SIZE);
        let end = self.end / FRAME_SIZE;
        FrameRange::from_numbers(first, end)
    }

    /// The frames the range touches at all (rounds outward).
    pub const fn frames_touched(&self) -> FrameRange {
        if self.is_empty() {
            return FrameRange::new(Frame::new(0), 0);
        }
        FrameRange::from_numbers(self.start / FRAME_SIZE, self.end.div_ceil(FRAME_SIZE))
    }
}

/// Why [`free_frame_ranges`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionError {
    /// More than [`MAX_RANGES`] disjoint ranges would be needed.
    TooManyRanges,
}

impl fmt::Display for RegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyRanges => write!(f, "memory map needs more than {MAX_RANGES} ranges"),
        }
    }
}

/// The page-aligned frame ranges that are RAM and not reserved, sorted by
/// start and disjoint (ranges never touch: touching RAM is merged first).
///
/// RAM ranges are merged as byte ranges *before* rounding, so two unaligned
/// entries that together cover a page still yield that page. Empty or
/// inverted input ranges are ignored.
pub fn free_frame_ranges(
    ram: impl IntoIterator<Item = ByteRange>,
    reserved: impl IntoIterator<Item = ByteRange>,
) -> Result<FreeRanges, RegionError> {
    let mut merged: Vec<ByteRange, MAX_RANGES> = Vec::new();
    for range in ram {
        insert_merged(&mut merged, range)?;
    }

    let mut free = FreeRanges::new();
    for range in &merged {
        let frames = range.frames_inside();
        if !frames.is_empty() {
            // `merged` has at most MAX_RANGES entries, so this cannot fail;
            // report rather than assume.
            free.push(frames).map_err(|_| RegionError::TooManyRanges)?;
        }
    }

    for range in reserved {
        subtract(&mut free, range.frames_touched())?;
    }
    Ok(free)
}

/// Inserts `new` into the sorted list of disjoint, non-touching byte ranges,
/// merging it with every range it overlaps or touches.
fn insert_merged(
    list: &mut Vec<ByteRange, MAX_RANGES>,
    mut new: ByteRange,
) -> Result<(), RegionError> {
    if new.is_empty() {
        return Ok(());
    }
    // First range that ends at or after the new start (overlaps or touches).
    let first = list
        .iter()
        .position(|r| r.end >= new.start)
        .unwrap_or(list.len());
    let mut last = first;
    while last < list.len() && list[last].start <= new.end {
        new.start = new.start.min(list[last].start);
        new.end = new.end.max(list[last].end);
        last += 1;
    }
    if last == first {
        list.insert(first, new)
            .map_err(|_| RegionError::TooManyRanges)
    } else {
        list[first] = new;
        for _ in first + 1..last {
            list.remove(first + 1);
        }
        Ok(())
    }
}

/// Removes the frames of `cut` from the sorted, disjoint list, splitting a
/// range in two when `cut` falls strictly inside it.
fn subtract(list: &mut FreeRanges, cut: FrameRange) -> Result<(), RegionError> {
    if cut.is_empty() {
        return Ok(());
    }
    let (cut_start, cut_end) = (cut.start.number(), cut.end());
    let mut i = 0;
    while i < list.len() {
        let r = list[i];
        let (start, end) = (r.start.number(), r.end());
        if end <= cut_start || start >= cut_end {
            i += 1;
            continue;
        }
        let below = FrameRange::from_numbers(start, cut_start.max(start));
        let above = FrameRange::from_numbers(cut_end.min(end), end);
        match (below.is_empty(), above.is_empty()) {
            (true, true) => {
                list.remove(i);
            }
            (false, true) => {
                list[i] = below;
                i += 1;
            }
            (true, false) => {
                list[i] = above;
                i += 1;
            }
            (false, false) => {
                list[i] = below;
                list.insert(i + 1, above)
                    .map_err(|_| RegionError::TooManyRanges)?;
                i += 2;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::vec::Vec as StdVec;

    use proptest::prelude::*;

    use super::*;

    const K: u64 = 4096;

    fn b(start: u64, end: u64) -> ByteRange {
        ByteRange::new(start, end)
    }

    fn frames(list: &FreeRanges) -> StdVec<(u64, u64)> {
        list.iter().map(|r| (r.start.number(), r.end())).collect()
    }

    fn run(ram: &[ByteRange], reserved: &[ByteRange]) -> StdVec<(u64, u64)> {
        frames(&free_frame_ranges(ram.iter().copied(), reserved.iter().copied()).unwrap())
    }

    #[test]
    fn aligned_ram_without_reservations() {
        assert_eq!(run(&[b(0, 16 * K)], &[]), [(0, 16)]);
    }

    #[test]
    fn unaligned_edges_round_inward() {
        assert_eq!(run(&[b(K + 1, 5 * K - 1)], &[]), [(2, 4)]);
        // Less than one whole page: nothing.
        assert_eq!(run(&[b(K + 1, 2 * K + 5)], &[]), []);
    }

    #[test]
    fn reservations_round_outward_and_split() {
        assert_eq!(
            run(&[b(0, 16 * K)], &[b(4 * K + 1, 6 * K + 1)]),
            [(0, 4), (7, 16)]
        );
        assert_eq!(run(&[b(0, 16 * K)], &[b(0, 1)]), [(1, 16)]);
        assert_eq!(run(&[b(0, 16 * K)], &[b(15 * K, 100 * K)]), [(0, 15)]);
    }

    #[test]
    fn overlapping_unsorted_ram_merges() {
        let ram = [
            b(8 * K, 12 * K),
            b(0, 4 * K),
            b(3 * K, 9 * K),
            b(20 * K, 24 * K),
        ];
        assert_eq!(run(&ram, &[]), [(0, 12), (20, 24)]);
    }

    #[test]
    fn touching_unaligned_ram_keeps_the_shared_page() {
        // Neither entry alone covers page 1, together they do.
        assert_eq!(run(&[b(K + 0x800, 3 * K), b(0, K + 0x800)], &[]), [(0, 3)]);
    }

    #[test]
    fn empty_results() {
        assert_eq!(run(&[], &[]), []);
        assert_eq!(run(&[b(0, 8 * K)], &[b(0, 8 * K)]), []);
        assert_eq!(run(&[b(5, 5), b(9, 3)], &[]), []);
        assert_eq!(run(&[b(0, 8 * K)], &[b(0, u64::MAX)]), []);
    }

    #[test]
    fn reservation_spanning_several_ranges() {
        let ram = [b(0, 4 * K), b(8 * K, 12 * K), b(16 * K, 20 * K)];
        assert_eq!(run(&ram, &[b(2 * K, 17 * K)]), [(0, 2), (17, 20)]);
    }

    #[test]
    fn huge_addresses_do_not_overflow() {
        let top = ByteRange::from_start_len(u64::MAX - 3 * K, 10 * K);
        assert_eq!(top.end, u64::MAX);
        let r = free_frame_ranges([top], [b(u64::MAX - 1, u64::MAX)]).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].count, 2);
    }

    #[test]
    fn too_many_ranges_is_an_error() {
        let ram = (0..=MAX_RANGES as u64).map(|i| b(2 * i * K, (2 * i + 1) * K));
        assert_eq!(free_frame_ranges(ram, []), Err(RegionError::TooManyRanges));
        // Splitting by reservations can overflow too.
        let cuts = (0..MAX_RANGES as u64).map(|i| b((2 * i + 1) * K, (2 * i + 2) * K));
        assert_eq!(
            free_frame_ranges([b(0, 1 << 40)], cuts),
            Err(RegionError::TooManyRanges)
        );
    }

    /// Reference model: the set of usable frames, computed page by page.
    fn model(ram: &[ByteRange], reserved: &[ByteRange]) -> BTreeSet<u64> {
        let mut usable = BTreeSet::new();
        for f in 0..128u64 {
            let (lo, hi) = (f * K, (f + 1) * K);
            // A page is RAM if the union of RAM covers it.
            let mut covered = lo;
            let mut progress = true;
            while progress && covered < hi {
                progress = false;
                for r in ram {
                    if r.start <= covered && r.end > covered {
                        covered = r.end;
                        progress = true;
                    }
                }
            }
            let reserved_hit = reserved
                .iter()
                .any(|r| !r.is_empty() && r.start < hi && r.end > lo);
            if covered >= hi && !reserved_hit {
                usable.insert(f);
            }
        }
        usable
    }

    fn byte_range() -> impl Strategy<Value = ByteRange> {
        (0u64..64 * K, 0u64..16 * K).prop_map(|(s, l)| ByteRange::from_start_len(s, l))
    }

    proptest! {
        #[test]
        fn matches_page_by_page_model(
            ram in proptest::collection::vec(byte_range(), 0..10),
            reserved in proptest::collection::vec(byte_range(), 0..6),
        ) {
            let out = free_frame_ranges(ram.iter().copied(), reserved.iter().copied()).unwrap();
            let got: BTreeSet<u64> = out.iter().flat_map(|r| r.start.number()..r.end()).collect();
            prop_assert_eq!(&got, &model(&ram, &reserved));
            // Sorted, non-empty, disjoint.
            for w in out.windows(2) {
                prop_assert!(w[0].end() <= w[1].start.number());
            }
            prop_assert!(out.iter().all(|r| !r.is_empty()));
        }
    }
}
