//! The global physical frame allocator (a buddy allocator from
//! `rxen-frame-alloc`, behind a ticket lock).

use rxen_frame_alloc::{AllocError, Frame, FrameAllocator, FrameRange, FRAME_SIZE};

use crate::arch::paging::{self, TableFrames};
use crate::sync::TicketLock;

static FRAMES: TicketLock<Option<FrameAllocator<'static>>> = TicketLock::new(None);

/// Creates the allocator over `metadata` and hands it every free range
/// except the frames early boot already used.
pub fn init(
    metadata: &'static mut [u8],
    max_frame: u64,
    free: impl Iterator<Item = FrameRange>,
    used_early: FrameRange,
) {
    let mut allocator = FrameAllocator::new(metadata, max_frame)
        .expect("frame allocator metadata is sized for max_frame");
    for range in free {
        for part in subtract(range, used_early) {
            if !part.is_empty() {
                allocator
                    .add_free_range(part)
                    .expect("free ranges lie below max_frame");
            }
        }
    }
    *FRAMES.lock() = Some(allocator);
}

/// `range` without `hole` (at most two pieces).
fn subtract(range: FrameRange, hole: FrameRange) -> [FrameRange; 2] {
    let start = range.start.number();
    let end = range.end();
    let before = FrameRange::from_numbers(start, hole.start.number().clamp(start, end));
    let after = FrameRange::from_numbers(hole.end().clamp(start, end), end);
    [before, after]
}

/// 2^order contiguous frames; returns the physical address.
pub fn alloc(order: u32) -> Result<u64, AllocError> {
    let mut frames = FRAMES.lock();
    let allocator = frames.as_mut().ok_or(AllocError::OutOfMemory)?;
    allocator.alloc(order).map(Frame::addr)
}

/// 2^order frames, zero-filled.
pub fn alloc_zeroed(order: u32) -> Result<u64, AllocError> {
    let pa = alloc(order)?;
    // SAFETY: freshly allocated frames, ours alone, in the direct map.
    unsafe { paging::zero_phys(pa, (FRAME_SIZE << order) as usize) };
    Ok(pa)
}

/// 2^order contiguous frames, each freeable on its own with `free(.., 0)`.
pub fn alloc_split(order: u32) -> Option<u64> {
    let mut frames = FRAMES.lock();
    let allocator = frames.as_mut()?;
    let frame = allocator.alloc(order).ok()?;
    allocator
        .split(frame, order)
        .expect("a block just allocated with this order splits");
    Some(frame.addr())
}

/// One past the highest frame number the allocator manages.
pub fn max_frame() -> u64 {
    FRAMES.lock().as_ref().map_or(0, |a| a.max_frame())
}

pub fn free(pa: u64, order: u32) {
    let mut frames = FRAMES.lock();
    if let Some(allocator) = frames.as_mut() {
        if let Err(e) = allocator.free(Frame::containing(pa), order) {
            log::error!("frame free of {pa:#x} (order {order}) refused: {e:?}");
        }
    }
}

/// (frames managed, frames free).
pub fn stats() -> (u64, u64) {
    FRAMES
        .lock()
        .as_ref()
        .map_or((0, 0), |a| (a.total_frames(), a.free_frames()))
}

/// Zeroed single frames for page tables and stacks.
pub struct ZeroedFrames;

impl TableFrames for ZeroedFrames {
    fn frame(&mut self) -> Option<u64> {
        alloc_zeroed(0).ok()
    }
}
