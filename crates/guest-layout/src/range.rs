//! Half-open ranges of guest physical addresses.

use core::fmt;

/// The guest physical addresses `start..end` (half-open). `Copy`, unlike
/// `core::ops::Range`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GpaRange {
    /// First address in the range.
    pub start: u64,
    /// First address after the range.
    pub end: u64,
}

impl GpaRange {
    /// The range `start..end`.
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }

    /// Number of bytes in the range (0 if `end <= start`).
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the range holds no address.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether `addr` lies in the range.
    pub const fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    /// Whether `other` lies entirely within this range (an empty `other`
    /// counts if its start does).
    pub const fn covers(&self, other: &GpaRange) -> bool {
        self.start <= other.start && other.end <= self.end && other.start <= other.end
    }

    /// Whether the two ranges share an address.
    pub const fn overlaps(&self, other: &GpaRange) -> bool {
        !self.is_empty() && !other.is_empty() && self.start < other.end && other.start < self.end
    }
}

impl fmt::Display for GpaRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}..{:#x}", self.start, self.end)
    }
}
