//! The frames behind a domain's populate-on-demand cache (the bookkeeping
//! is `rxen_pod::PodBook`): 2 MiB blocks and single pages the domain holds
//! but has not mapped, each kept on a stack threaded through the frames
//! themselves (the first word of each holds the next), so that a cache of
//! gigabytes costs the hypervisor's heap nothing. A frame is zeroed when it
//! leaves the cache for the guest.

use core::sync::atomic::Ordering;

use crate::mm::{machine, pages};

use super::DomId;

/// Pages in a block, and its order.
pub const BLOCK_PAGES: u64 = rxen_pod::BLOCK_PAGES;
pub const BLOCK_ORDER: u32 = 9;
const PAGE: u64 = 4096;
/// No frame (machine address 0 is never a domain's).
const NONE: u64 = 0;

/// A stack of frames linked through their first word.
#[derive(Default)]
struct Stack {
    head: u64,
    len: u64,
}

impl Stack {
    fn push(&mut self, pa: u64) {
        machine::atomic_u64(pa).store(self.head, Ordering::Relaxed);
        self.head = pa;
        self.len += 1;
    }

    fn pop(&mut self) -> Option<u64> {
        if self.head == NONE {
            return None;
        }
        let pa = self.head;
        self.head = machine::atomic_u64(pa).load(Ordering::Relaxed);
        self.len -= 1;
        Some(pa)
    }
}

#[derive(Default)]
pub struct PodCache {
    blocks: Stack,
    pages: Stack,
}

impl PodCache {
    /// Pages held, blocks and single pages together.
    pub fn pages(&self) -> u64 {
        self.blocks.len * BLOCK_PAGES + self.pages.len
    }

    pub fn has_block(&self) -> bool {
        self.blocks.len > 0
    }

    /// Grows the cache by `count` pages for `owner` (blocks while at least
    /// a block is wanted); false if the machine ran out, with what could be
    /// had kept.
    pub fn grow(&mut self, owner: DomId, count: u64) -> bool {
        let mut left = count;
        while left > 0 {
            if left >= BLOCK_PAGES {
                // The buddy allocator aligns a block to its size.
                if let Some(pa) = pages::alloc_for(owner, BLOCK_ORDER) {
                    self.blocks.push(pa);
                    left -= BLOCK_PAGES;
                    continue;
                }
                // Fragmented: single pages will do.
            }
            let Some(pa) = pages::alloc_for(owner, 0) else {
                return false;
            };
            self.pages.push(pa);
            left -= 1;
        }
        true
    }

    /// Takes a zeroed 2 MiB block.
    pub fn take_block(&mut self) -> Option<u64> {
        let pa = self.blocks.pop()?;
        machine::zero(pa, (BLOCK_PAGES * PAGE) as usize);
        Some(pa)
    }

    /// Takes a zeroed page (splitting a block if no single page is left).
    pub fn take_page(&mut self) -> Option<u64> {
        if self.pages.len == 0 {
            let block = self.blocks.pop()?;
            for i in (0..BLOCK_PAGES).rev() {
                self.pages.push(block + i * PAGE);
            }
        }
        let pa = self.pages.pop()?;
        machine::zero(pa, PAGE as usize);
        Some(pa)
    }

    /// Gives `count` pages back to the machine (fewer if it holds fewer).
    pub fn shrink(&mut self, count: u64) {
        for _ in 0..count {
            if self.pages.len == 0 {
                let Some(block) = self.blocks.pop() else {
                    return;
                };
                for i in 0..BLOCK_PAGES {
                    self.pages.push(block + i * PAGE);
                }
            }
            if let Some(pa) = self.pages.pop() {
                super::release_frame(pa);
            }
        }
    }

    /// Gives everything back (the domain is being torn down).
    pub fn release_all(&mut self) {
        let all = self.pages();
        self.shrink(all);
    }
}
