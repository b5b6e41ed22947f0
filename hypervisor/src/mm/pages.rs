//! Who holds each machine frame given to a domain, and how many references
//! to it exist (Xen's `page_info`, in 4 bytes per frame).
//!
//! A frame handed to a domain starts with one reference, its owner's.
//! Another domain that maps it (a foreign map by the toolstack, a grant map
//! by a back-end) takes one more, and gives it back when it unmaps. The
//! frame goes back to the allocator when the last reference goes, whoever
//! drops it: a domain that dies while dom0 still maps some of its pages
//! leaves exactly those pages alive, and a page a guest balloons out while
//! a back-end still uses it cannot be handed to someone else.
//!
//! Frames are always freed one at a time (order 0); blocks are split when
//! they are given out.

use core::sync::atomic::{AtomicU32, Ordering};

use rxen_frame_alloc::FRAME_SIZE;
use rxen_xen_abi::DomId;

use super::frames;

/// Owner (high 16 bits) and reference count (low 16 bits) per frame.
static TABLE: spin::Once<&'static [AtomicU32]> = spin::Once::new();

/// Frames each domain id holds (allocated for it and not yet freed), so
/// that a dying domain knows when its last frame is gone.
static HELD: [AtomicU32; 0x7FF0] = [const { AtomicU32::new(0) }; 0x7FF0];

/// More references than this are refused (a mapper that maps one frame
/// 65 535 times is refused the next map, not allowed to wrap the count).
const MAX_REFS: u32 = 0xFFFF;

/// Sets up the table for frames `0..max_frame`, in memory from the frame
/// allocator.
pub fn init(max_frame: u64) {
    let bytes = (max_frame as usize) * 4;
    let frames_needed = (bytes as u64).div_ceil(FRAME_SIZE).max(1);
    let order = 64 - (frames_needed - 1).leading_zeros();
    let pa = frames::alloc_zeroed(order).expect("memory for the frame reference table");
    TABLE.call_once(|| super::machine::zeroed_u32_array(pa, max_frame as usize));
    log::info!(
        "frame references: {} KiB for {} frames",
        (FRAME_SIZE << order) >> 10,
        max_frame
    );
}

fn slot(pa: u64) -> Option<&'static AtomicU32> {
    TABLE.get()?.get((pa / FRAME_SIZE) as usize)
}

fn pack(owner: DomId, refs: u32) -> u32 {
    (u32::from(owner) << 16) | refs
}

/// Allocates 2^`order` frames for `owner`, each with one reference (the
/// owner's) and freeable on its own. Not zeroed.
pub fn alloc_for(owner: DomId, order: u32) -> Option<u64> {
    let pa = frames::alloc_split(order)?;
    if let Some(held) = HELD.get(usize::from(owner)) {
        held.fetch_add(1 << order, Ordering::SeqCst);
    }
    for i in 0..(1u64 << order) {
        if let Some(s) = slot(pa + i * FRAME_SIZE) {
            s.store(pack(owner, 1), Ordering::SeqCst);
        }
    }
    Some(pa)
}

/// One frame for `owner`, zeroed.
pub fn alloc_zeroed_for(owner: DomId) -> Option<u64> {
    let pa = alloc_for(owner, 0)?;
    super::machine::zero(pa, FRAME_SIZE as usize);
    Some(pa)
}

/// Takes a reference on the frame at `pa` if it is held by `owner` (a
/// frame already on its way back to the allocator, or someone else's, is
/// refused).
pub fn get(pa: u64, owner: DomId) -> bool {
    let Some(s) = slot(pa) else {
        return false;
    };
    s.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
        let refs = v & 0xFFFF;
        (refs != 0 && refs < MAX_REFS && (v >> 16) as DomId == owner).then_some(v + 1)
    })
    .is_ok()
}

/// Drops a reference; frees the frame when it was the last one and then
/// returns its owner (so a dying owner can count its last frames).
pub fn put(pa: u64) -> Option<DomId> {
    let s = slot(pa)?;
    let before = s
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
            (v & 0xFFFF != 0).then_some(v - 1)
        })
        .ok()?;
    if before & 0xFFFF != 1 {
        return None;
    }
    let owner = (before >> 16) as DomId;
    frames::free(pa & !(FRAME_SIZE - 1), 0);
    if let Some(held) = HELD.get(usize::from(owner)) {
        held.fetch_sub(1, Ordering::SeqCst);
    }
    Some(owner)
}

/// References on the frame at `pa` (its owner's p2m entry is one).
pub fn references(pa: u64) -> u32 {
    slot(pa).map_or(0, |s| s.load(Ordering::SeqCst) & 0xFFFF)
}

/// Frames `owner` holds (its own, wherever they are mapped or referenced).
pub fn held_by(owner: DomId) -> u32 {
    HELD.get(usize::from(owner))
        .map_or(0, |h| h.load(Ordering::SeqCst))
}
