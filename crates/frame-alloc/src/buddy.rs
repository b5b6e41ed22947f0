//! Binary buddy allocator over physical frames.
//!
//! Why this design: the hypervisor needs frames before it has a heap, so all
//! state lives in one caller-provided byte slice ([`metadata_bytes`] long)
//! instead of `alloc` collections. And because the allocator must not touch
//! the memory it manages (that would need `unsafe` and a mapping), free lists
//! are not threaded through the free frames themselves; they are doubly
//! linked lists of frame numbers kept in the metadata:
//!
//! ```text
//! metadata = next[max_frame] : u32 | prev[max_frame] : u32 | state[max_frame] : u8
//! ```
//!
//! That is 9 bytes per 4 KiB frame (0.22 % of RAM: 144 MiB for 64 GiB) and
//! gives O(1) list insertion and removal, so `alloc` and `free` cost
//! O(`MAX_ORDER`) regardless of memory size. Only the first frame of a block
//! ("head") has meaningful links; `state` records for each head whether the
//! block is free or allocated and its order, which is what finding a buddy
//! and checking a `free` needs.

use core::fmt;

use crate::frame::{Frame, FrameRange};

/// Largest block order: 2^18 frames = 1 GiB, the largest page size nested
/// paging can map, so guests can be backed by 1 GiB superpages.
pub const MAX_ORDER: u32 = 18;

/// Number of distinct orders (`0..=MAX_ORDER`).
const ORDERS: usize = MAX_ORDER as usize + 1;

/// Frame numbers are stored as `u32` with `u32::MAX` meaning "none", so at
/// most `u32::MAX` frames (16 TiB) can be managed.
pub const MAX_FRAMES: u64 = u32::MAX as u64;

/// Sentinel for "no frame" in the free-list links.
const NIL: u32 = u32::MAX;

/// Bytes of metadata per frame: `next` + `prev` links (u32 each) + state.
const BYTES_PER_FRAME: usize = 4 + 4 + 1;

// State byte encoding. A frame outside any handed-in range is 0.
const _: () = assert!(MAX_ORDER < 0x20);
/// The frame was handed in by `add_free_range` (belongs to some block).
const MANAGED: u8 = 0x80;
/// The frame heads a free block; the low bits hold its order.
const FREE_HEAD: u8 = 0x40;
/// The frame heads an allocated block; the low bits hold its order
/// (`MAX_ORDER` fits in the remaining five bits).
const USED_HEAD: u8 = 0x20;

/// How many bytes of metadata [`FrameAllocator::new`] needs to manage frames
/// `0..frames`. The hypervisor carves this much out of RAM at boot.
///
/// Saturates at `usize::MAX` instead of overflowing on absurd inputs.
pub const fn metadata_bytes(frames: u64) -> usize {
    if frames > usize::MAX as u64 / BYTES_PER_FRAME as u64 {
        usize::MAX
    } else {
        frames as usize * BYTES_PER_FRAME
    }
}

/// Why an allocator operation failed. No operation panics on bad input;
/// each reports one of these instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// No free block of the requested order (or larger) is left.
    OutOfMemory,
    /// The order exceeds [`MAX_ORDER`].
    InvalidOrder,
    /// A frame or range lies at or beyond the allocator's `max_frame`.
    OutOfRange,
    /// The frame is not aligned to a block of the given order.
    Misaligned,
    /// `free` of a block that is not currently allocated with that order
    /// (a double free, a wrong order, or a frame that was never allocated).
    NotAllocated,
    /// `add_free_range` overlaps frames that were already handed in.
    AlreadyManaged,
    /// The metadata slice is shorter than [`metadata_bytes`]`(max_frame)`.
    MetadataTooSmall {
        /// Bytes required.
        needed: usize,
    },
    /// `max_frame` exceeds [`MAX_FRAMES`].
    TooManyFrames,
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfMemory => f.write_str("out of memory"),
            Self::InvalidOrder => write!(f, "order larger than {MAX_ORDER}"),
            Self::OutOfRange => f.write_str("frame beyond the managed range"),
            Self::Misaligned => f.write_str("frame not aligned to its order"),
            Self::NotAllocated => f.write_str("block is not allocated with this order"),
            Self::AlreadyManaged => f.write_str("range overlaps memory already added"),
            Self::MetadataTooSmall { needed } => {
                write!(
                    f,
                    "frame allocator metadata too small ({needed} bytes needed)"
                )
            }
            Self::TooManyFrames => write!(f, "more than {MAX_FRAMES} frames"),
        }
    }
}

/// Buddy allocator for frames `0..max_frame`, with its bookkeeping in
/// borrowed metadata (see the module documentation).
pub struct FrameAllocator<'m> {
    /// `next` links of the free lists, one native-endian u32 per frame.
    next: &'m mut [u8],
    /// `prev` links of the free lists, one native-endian u32 per frame.
    prev: &'m mut [u8],
    /// One state byte per frame (`MANAGED`, `FREE_HEAD`, `USED_HEAD` | order).
    state: &'m mut [u8],
    /// First frame of each order's free list, or `NIL`.
    heads: [u32; ORDERS],
    /// Number of free blocks on each order's list.
    free_blocks: [u64; ORDERS],
    /// Frames handed in with `add_free_range`.
    total: u64,
    /// Frames currently free.
    free: u64,
    /// One past the highest manageable frame number.
    max_frame: u64,
}

impl fmt::Debug for FrameAllocator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameAllocator")
            .field("max_frame", &self.max_frame)
            .field("total", &self.total)
            .field("free", &self.free)
            .field("free_blocks", &self.free_blocks)
            .finish_non_exhaustive()
    }
}

impl<'m> FrameAllocator<'m> {
    /// An empty allocator able to manage frames `0..max_frame`, using
    /// `metadata` (at least [`metadata_bytes`]`(max_frame)` bytes, any
    /// alignment; extra bytes are left untouched) for its bookkeeping.
    ///
    /// Initialisation writes one state byte per frame; the links need no
    /// initialisation because they are only read for free-block heads.
    pub fn new(metadata: &'m mut [u8], max_frame: u64) -> Result<Self, AllocError> {
        if max_frame > MAX_FRAMES {
            return Err(AllocError::TooManyFrames);
        }
        let needed = metadata_bytes(max_frame);
        if metadata.len() < needed {
            return Err(AllocError::MetadataTooSmall { needed });
        }
        // max_frame <= u32::MAX and metadata.len() >= 9 * max_frame, so this
        // conversion is lossless.
        let frames = needed / BYTES_PER_FRAME;
        let (next, rest) = metadata.split_at_mut(frames * 4);
        let (prev, rest) = rest.split_at_mut(frames * 4);
        let (state, _) = rest.split_at_mut(frames);
        state.fill(0);
        Ok(Self {
            next,
            prev,
            state,
            heads: [NIL; ORDERS],
            free_blocks: [0; ORDERS],
            total: 0,
            free: 0,
            max_frame,
        })
    }

    /// Hands the frames of `range` to the allocator as free memory.
    ///
    /// The range is split into the largest naturally aligned blocks it
    /// contains, and each block coalesces with free neighbours, so adding
    /// adjacent ranges one by one yields the same blocks as adding their
    /// union. Fails without changing anything if the range reaches beyond
    /// `max_frame` or overlaps frames added before.
    pub fn add_free_range(&mut self, range: FrameRange) -> Result<(), AllocError> {
        let start = range.start.number();
        let end = start
            .checked_add(range.count)
            .ok_or(AllocError::OutOfRange)?;
        if end > self.max_frame {
            return Err(AllocError::OutOfRange);
        }
        // Bounded by max_frame <= u32::MAX, so the indices fit in usize.
        let span = start as usize..end as usize;
        if self.state[span.clone()].iter().any(|&s| s != 0) {
            return Err(AllocError::AlreadyManaged);
        }
        self.state[span].fill(MANAGED);

        let mut frame = start;
        while frame < end {
            let order = largest_block_order(frame, end - frame);
            self.insert_free_block(frame as u32, order);
            frame += 1 << order;
        }
        self.total += range.count;
        self.free += range.count;
        Ok(())
    }

    /// Allocates `2^order` contiguous frames aligned to `2^order` frames and
    /// returns the first. Splits a larger block when no block of exactly
    /// that order is free.
    pub fn alloc(&mut self, order: u32) -> Result<Frame, AllocError> {
        if order > MAX_ORDER {
            return Err(AllocError::InvalidOrder);
        }
        let mut found = (order..=MAX_ORDER)
            .find(|&k| self.heads[k as usize] != NIL)
            .ok_or(AllocError::OutOfMemory)?;
        let frame = self.heads[found as usize];
        self.unlink(frame, found);
        // Give back the upper halves until the block has the wanted size.
        while found > order {
            found -= 1;
            let upper = frame + (1 << found);
            self.push(upper, found);
        }
        self.state[frame as usize] = MANAGED | USED_HEAD | order as u8;
        self.free -= 1 << order;
        Ok(Frame::new(u64::from(frame)))
    }

    /// Returns a block obtained from [`alloc`](Self::alloc) with the same
    /// `order`, merging it with its buddy as far as possible.
    ///
    /// A double free, a wrong order or a frame that was never allocated is
    /// detected (the block head's state must say "allocated, this order") and
    /// reported as [`AllocError::NotAllocated`], leaving the allocator as it
    /// was.
    pub fn free(&mut self, frame: Frame, order: u32) -> Result<(), AllocError> {
        if order > MAX_ORDER {
            return Err(AllocError::InvalidOrder);
        }
        let number = frame.number();
        if number >= self.max_frame {
            return Err(AllocError::OutOfRange);
        }
        if !frame.is_aligned(order) {
            return Err(AllocError::Misaligned);
        }
        if self.state[number as usize] != MANAGED | USED_HEAD | order as u8 {
            return Err(AllocError::NotAllocated);
        }
        self.insert_free_block(number as u32, order);
        self.free += 1 << order;
        Ok(())
    }

    /// Turns an allocated block of `order` into `2^order` allocated blocks
    /// of order 0, so that each frame can later be freed on its own (a
    /// guest's RAM arrives in 2 MiB blocks but goes back page by page when
    /// it balloons or when other domains still map some of its pages).
    ///
    /// Fails like [`free`](Self::free) if the block is not allocated with
    /// that order, leaving the allocator as it was.
    pub fn split(&mut self, frame: Frame, order: u32) -> Result<(), AllocError> {
        if order > MAX_ORDER {
            return Err(AllocError::InvalidOrder);
        }
        let number = frame.number();
        if number >= self.max_frame {
            return Err(AllocError::OutOfRange);
        }
        if !frame.is_aligned(order) {
            return Err(AllocError::Misaligned);
        }
        if self.state[number as usize] != MANAGED | USED_HEAD | order as u8 {
            return Err(AllocError::NotAllocated);
        }
        // Aligned and allocated, so the whole block lies below max_frame.
        let span = number as usize..(number + (1 << order)) as usize;
        self.state[span].fill(MANAGED | USED_HEAD);
        Ok(())
    }

    /// Frames currently free.
    pub fn free_frames(&self) -> u64 {
        self.free
    }

    /// Frames handed in with [`add_free_range`](Self::add_free_range),
    /// whether free or allocated.
    pub fn total_frames(&self) -> u64 {
        self.total
    }

    /// One past the highest frame number this allocator can manage.
    pub fn max_frame(&self) -> u64 {
        self.max_frame
    }

    /// Number of free blocks of exactly `order` (0 for orders above
    /// [`MAX_ORDER`]); useful for diagnostics and fragmentation reports.
    pub fn free_blocks(&self, order: u32) -> u64 {
        self.free_blocks.get(order as usize).copied().unwrap_or(0)
    }

    /// The largest order for which [`alloc`](Self::alloc) would succeed.
    pub fn largest_free_order(&self) -> Option<u32> {
        (0..=MAX_ORDER)
            .rev()
            .find(|&k| self.heads[k as usize] != NIL)
    }

    /// Puts the block `frame` of `order` on the free lists, first merging it
    /// with its buddy for as long as the buddy is a free block of the same
    /// order. The caller has checked that the block belongs to it.
    fn insert_free_block(&mut self, mut frame: u32, mut order: u32) {
        self.state[frame as usize] = MANAGED;
        while order < MAX_ORDER {
            let buddy = frame ^ (1 << order);
            if u64::from(buddy) >= self.max_frame
                || self.state[buddy as usize] != MANAGED | FREE_HEAD | order as u8
            {
                break;
            }
            self.unlink(buddy, order);
            self.state[buddy as usize] = MANAGED;
            frame = frame.min(buddy);
            order += 1;
        }
        self.push(frame, order);
    }

    /// Makes `frame` the head of a free block of `order` at the front of its
    /// list.
    fn push(&mut self, frame: u32, order: u32) {
        let head = self.heads[order as usize];
        set_link(self.next, frame, head);
        set_link(self.prev, frame, NIL);
        if head != NIL {
            set_link(self.prev, head, frame);
        }
        self.heads[order as usize] = frame;
        self.free_blocks[order as usize] += 1;
        self.state[frame as usize] = MANAGED | FREE_HEAD | order as u8;
    }

    /// Removes the free block headed by `frame` from the list of `order`.
    /// Its state byte is left for the caller to overwrite.
    fn unlink(&mut self, frame: u32, order: u32) {
        let next = link(self.next, frame);
        let prev = link(self.prev, frame);
        if prev == NIL {
            self.heads[order as usize] = next;
        } else {
            set_link(self.next, prev, next);
        }
        if next != NIL {
            set_link(self.prev, next, prev);
        }
        self.free_blocks[order as usize] -= 1;
    }

    /// Walks every free list and checks the allocator's internal invariants;
    /// the property tests call this after each step.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let mut free = 0;
        for order in 0..=MAX_ORDER {
            let mut blocks = 0;
            let mut prev = NIL;
            let mut frame = self.heads[order as usize];
            while frame != NIL {
                assert_eq!(link(self.prev, frame), prev, "broken prev link");
                assert_eq!(
                    self.state[frame as usize],
                    MANAGED | FREE_HEAD | order as u8,
                    "list member {frame} has wrong state"
                );
                assert!(Frame::new(u64::from(frame)).is_aligned(order));
                blocks += 1;
                prev = frame;
                frame = link(self.next, frame);
            }
            assert_eq!(blocks, self.free_blocks[order as usize]);
            free += blocks << order;
        }
        assert_eq!(free, self.free, "free frame count out of sync");
    }
}

/// The order of the largest naturally aligned block starting at `frame` that
/// fits in `remaining` frames (capped at `MAX_ORDER`).
fn largest_block_order(frame: u64, remaining: u64) -> u32 {
    let by_alignment = frame.trailing_zeros(); // 64 for frame 0
    let by_size = remaining.ilog2(); // remaining > 0 here
    by_alignment.min(by_size).min(MAX_ORDER)
}

/// Reads the u32 link of `frame` from a link array.
fn link(links: &[u8], frame: u32) -> u32 {
    let i = frame as usize * 4;
    let b = &links[i..i + 4];
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

/// Writes the u32 link of `frame` into a link array.
fn set_link(links: &mut [u8], frame: u32, value: u32) {
    let i = frame as usize * 4;
    links[i..i + 4].copy_from_slice(&value.to_ne_bytes());
}

#[cfg(test)]
mod tests;
