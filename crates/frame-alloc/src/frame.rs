//! Typed physical frame numbers, so byte addresses and frame numbers are
//! never confused at the allocator's boundary.

use core::fmt;

/// log2 of the frame size.
pub const FRAME_SHIFT: u32 = 12;
/// Size of one physical frame in bytes (4 KiB).
pub const FRAME_SIZE: u64 = 1 << FRAME_SHIFT;

/// A physical frame number (physical address / 4096).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Frame(u64);

impl Frame {
    /// The frame with number `number`.
    pub const fn new(number: u64) -> Self {
        Self(number)
    }

    /// The frame that contains byte address `addr` (rounds down).
    pub const fn containing(addr: u64) -> Self {
        Self(addr >> FRAME_SHIFT)
    }

    /// The frame starting exactly at `addr`, or `None` if `addr` is not
    /// frame aligned.
    pub const fn from_addr(addr: u64) -> Option<Self> {
        if addr.is_multiple_of(FRAME_SIZE) {
            Some(Self(addr >> FRAME_SHIFT))
        } else {
            None
        }
    }

    /// The frame number.
    pub const fn number(self) -> u64 {
        self.0
    }

    /// The physical byte address of the first byte of the frame.
    ///
    /// Frame numbers come from at most 52-bit physical addresses, so the
    /// shift cannot lose bits for any frame the allocator hands out.
    pub const fn addr(self) -> u64 {
        self.0 << FRAME_SHIFT
    }

    /// Whether the frame is aligned to a block of `2^order` frames.
    pub const fn is_aligned(self, order: u32) -> bool {
        order >= 64 || self.0 & ((1u64 << order) - 1) == 0
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Frame({:#x})", self.0)
    }
}

/// A run of `count` consecutive frames starting at `start`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRange {
    /// First frame of the run.
    pub start: Frame,
    /// Number of frames in the run.
    pub count: u64,
}

impl FrameRange {
    /// The run of `count` frames starting at `start`.
    pub const fn new(start: Frame, count: u64) -> Self {
        Self { start, count }
    }

    /// The frames `[start, end)` by frame number; empty if `end <= start`.
    pub const fn from_numbers(start: u64, end: u64) -> Self {
        Self {
            start: Frame(start),
            count: end.saturating_sub(start),
        }
    }

    /// One past the last frame number (saturating, so a range near the top
    /// of the number space never wraps).
    pub const fn end(&self) -> u64 {
        self.start.0.saturating_add(self.count)
    }

    /// Whether the run holds no frames.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether `frame` lies inside the run.
    pub const fn contains(&self, frame: Frame) -> bool {
        frame.0 >= self.start.0 && frame.0 < self.end()
    }

    /// Size of the run in bytes (saturating).
    pub const fn bytes(&self) -> u64 {
        self.count.saturating_mul(FRAME_SIZE)
    }
}

impl fmt::Debug for FrameRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FrameRange({:#x}..{:#x})", self.start.0, self.end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_addresses() {
        assert_eq!(Frame::new(3).addr(), 0x3000);
        assert_eq!(Frame::containing(0x3fff), Frame::new(3));
        assert_eq!(Frame::from_addr(0x3000), Some(Frame::new(3)));
        assert_eq!(Frame::from_addr(0x3001), None);
    }

    #[test]
    fn alignment() {
        assert!(Frame::new(0).is_aligned(18));
        assert!(Frame::new(8).is_aligned(3));
        assert!(!Frame::new(8).is_aligned(4));
        assert!(Frame::new(0).is_aligned(64));
    }

    #[test]
    fn ranges() {
        let r = FrameRange::from_numbers(4, 10);
        assert_eq!(r.count, 6);
        assert_eq!(r.end(), 10);
        assert!(r.contains(Frame::new(4)) && r.contains(Frame::new(9)));
        assert!(!r.contains(Frame::new(10)) && !r.contains(Frame::new(3)));
        assert_eq!(r.bytes(), 6 * 4096);
        assert!(FrameRange::from_numbers(10, 4).is_empty());
        assert_eq!(FrameRange::new(Frame::new(u64::MAX), 5).end(), u64::MAX);
    }
}
