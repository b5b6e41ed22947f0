//! Log-dirty bookkeeping: the bitmap behind XEN_DOMCTL_shadow_op's
//! ENABLE_LOGDIRTY, CLEAN, PEEK and OFF, as libxenguest's pre-copy reads
//! it (`../shared/docs/xen-migration-abi.md` §5.2).
//!
//! Bit *n* is guest frame *n*. Marking is lock-free (`&self`): the
//! hypervisor marks from nested page faults on any CPU and from its own
//! writes into guest memory, while the toolstack's CLEAN reads and clears
//! the same words. A frame marked while a CLEAN runs is either in that
//! CLEAN's copy or stays set for the next one: a dirty bit is never lost
//! (the property the tests check), which is the one thing migration needs.
//!
//! `dirty_count` is Xen's: frames whose bit went from clear to set since
//! the last CLEAN (libxenguest's stop decision uses it, not a popcount).

#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const BITS: u64 = 64;

/// The dirty bitmap of one domain while log-dirty is on.
pub struct DirtyLog {
    words: Vec<AtomicU64>,
    frames: u64,
    newly_dirty: AtomicU32,
}

/// What CLEAN and PEEK report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames newly dirtied since the last CLEAN (capped at u32::MAX).
    pub dirty_count: u32,
}

impl DirtyLog {
    /// A log for frames `0..frames`, all clean.
    pub fn new(frames: u64) -> Self {
        let words = frames.div_ceil(BITS) as usize;
        Self {
            words: (0..words).map(|_| AtomicU64::new(0)).collect(),
            frames,
            newly_dirty: AtomicU32::new(0),
        }
    }

    /// Frames the log covers.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Marks `gfn` dirty (frames beyond the log are ignored: they are not
    /// guest RAM the toolstack will ask about). Whether it was clean.
    pub fn mark(&self, gfn: u64) -> bool {
        if gfn >= self.frames {
            return false;
        }
        let bit = 1u64 << (gfn % BITS);
        let old = self.words[(gfn / BITS) as usize].fetch_or(bit, Ordering::SeqCst);
        let newly = old & bit == 0;
        if newly {
            // Saturating: Xen caps the count rather than wrapping it.
            let _ = self
                .newly_dirty
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_add(1));
        }
        newly
    }

    pub fn is_dirty(&self, gfn: u64) -> bool {
        gfn < self.frames
            && self.words[(gfn / BITS) as usize].load(Ordering::SeqCst) & (1 << (gfn % BITS)) != 0
    }

    /// CLEAN (`clean`) or PEEK: the bits of frames `0..pages` into `out`
    /// (little-endian bytes, bit n of byte n/8; frames beyond the log read
    /// as clean; `out` must hold `pages.div_ceil(8)` bytes), the counts,
    /// and for CLEAN the bits cleared and the count zeroed. Each word is
    /// taken and cleared in one atomic step, so a frame marked meanwhile
    /// lands in this copy or in the next.
    pub fn read(&self, pages: u64, clean: bool, out: &mut [u8]) -> Stats {
        let bytes = pages.div_ceil(8) as usize;
        let len = bytes.min(out.len());
        let out = &mut out[..len];
        out.fill(0);
        for (i, word) in self.words.iter().enumerate() {
            let start = i * 8;
            if start >= out.len() {
                break;
            }
            let mask = mask_below(pages, i as u64);
            // CLEAN clears only the bits it hands out.
            let value = if clean {
                word.fetch_and(!mask, Ordering::SeqCst)
            } else {
                word.load(Ordering::SeqCst)
            } & mask;
            let end = (start + 8).min(out.len());
            out[start..end].copy_from_slice(&value.to_le_bytes()[..end - start]);
        }
        let dirty_count = if clean {
            self.newly_dirty.swap(0, Ordering::SeqCst)
        } else {
            self.newly_dirty.load(Ordering::SeqCst)
        };
        Stats { dirty_count }
    }

    /// The dirty frames, lowest first (for the hypervisor to write-protect
    /// again after a CLEAN, or to test).
    pub fn dirty_frames(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.frames).filter(|&g| self.is_dirty(g))
    }
}

/// The bits of word `i` that stand for frames below `pages`.
fn mask_below(pages: u64, i: u64) -> u64 {
    let first = i * BITS;
    if pages <= first {
        0
    } else if pages - first >= BITS {
        u64::MAX
    } else {
        (1u64 << (pages - first)) - 1
    }
}
