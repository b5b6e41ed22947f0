//! The hypervisor heap (`alloc`): a buddy heap from
//! `buddy_system_allocator`, behind rxen's interrupt-safe ticket lock,
//! on frames from the frame allocator.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use buddy_system_allocator::Heap;
use rxen_frame_alloc::FRAME_SIZE;

use crate::arch::paging;
use crate::sync::TicketLock;

/// 2^10 frames = 4 MiB to start with, and each time it runs out.
const INITIAL_ORDER: u32 = 10;

struct KernelHeap(TicketLock<Heap<32>>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(TicketLock::new(Heap::empty()));

pub fn init() {
    let pa = super::frames::alloc(INITIAL_ORDER).expect("no memory for the hypervisor heap");
    let start = paging::phys_to_virt(pa) as usize;
    // SAFETY: the block is freshly allocated, ours alone, and mapped
    // read-write in the direct map for the life of the hypervisor.
    unsafe {
        HEAP.0
            .lock()
            .init(start, (FRAME_SIZE << INITIAL_ORDER) as usize)
    };
}

/// Bytes of small objects in use and the heap's size (large blocks are
/// the frame allocator's and not counted).
pub fn usage() -> (usize, usize) {
    let heap = HEAP.0.lock();
    (heap.stats_alloc_actual(), heap.stats_total_bytes())
}

/// Allocations this big come straight from the frame allocator (and go
/// back to it when freed), so building a domain — tens of MiB of
/// decompressed kernel — does not need a big heap kept for ever.
const LARGE: usize = 64 * 1024;

/// Buddy order for `layout` when served by whole frames.
fn frame_order(layout: &Layout) -> u32 {
    let frames = layout
        .size()
        .max(layout.align())
        .div_ceil(FRAME_SIZE as usize);
    frames.next_power_of_two().trailing_zeros()
}

// SAFETY: Heap is a correct allocator; the lock serialises all use. Large
// blocks are whole frame-allocator blocks, aligned to their size (so to
// any power of two up to it), returned with the same order.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE {
            return super::frames::alloc(frame_order(&layout))
                .map_or(core::ptr::null_mut(), paging::phys_to_virt);
        }
        let mut heap = self.0.lock();
        if let Ok(p) = heap.alloc(layout) {
            return p.as_ptr();
        }
        // Out of room: one more block, kept for good (small objects of
        // many domains at once outgrow the first).
        let Ok(pa) = super::frames::alloc(INITIAL_ORDER) else {
            return core::ptr::null_mut();
        };
        let start = paging::phys_to_virt(pa) as usize;
        // SAFETY: the block is freshly allocated, ours alone, mapped
        // read-write in the direct map for good.
        unsafe { heap.add_to_heap(start, start + (FRAME_SIZE << INITIAL_ORDER) as usize) };
        heap.alloc(layout)
            .map_or(core::ptr::null_mut(), |p| p.as_ptr())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() >= LARGE {
            super::frames::free(paging::virt_to_phys(ptr), frame_order(&layout));
            return;
        }
        if let Some(ptr) = NonNull::new(ptr) {
            // SAFETY: GlobalAlloc's contract: ptr came from alloc with layout.
            unsafe { self.0.lock().dealloc(ptr, layout) };
        }
    }
}
