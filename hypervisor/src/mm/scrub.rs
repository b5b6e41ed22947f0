//! Zeroing memory for a new domain on every CPU that has nothing better to
//! do. A domain's RAM must be zeroed before it runs (no data may leak from
//! a previous owner), and under emulation that costs as much as loading its
//! kernel: the builder posts the blocks here, decompresses the kernel while
//! idle CPUs zero, then helps with what is left and waits for the rest.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch::paging;
use crate::sync::TicketLock;

static JOBS: TicketLock<Vec<(u64, usize)>> = TicketLock::new(Vec::new());
/// Blocks posted and not yet finished (taken ones included).
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Queues `blocks` (machine address, length) for zeroing and wakes the
/// other CPUs (idle ones pick the work up).
pub fn post(blocks: &[(u64, usize)]) {
    if blocks.is_empty() {
        return;
    }
    PENDING.fetch_add(blocks.len(), Ordering::SeqCst);
    JOBS.lock().extend_from_slice(blocks);
    crate::sched::wake_idle_cpus();
}

/// Zeroes queued blocks until none is left; returns whether it did any.
pub fn help() -> bool {
    let mut did = false;
    while let Some((pa, len)) = JOBS.lock().pop() {
        // SAFETY: posted blocks are freshly allocated frames owned by a
        // domain being built, which nothing else touches until `finish`.
        unsafe { paging::zero_phys(pa, len) };
        PENDING.fetch_sub(1, Ordering::SeqCst);
        did = true;
    }
    did
}

/// Helps until every posted block is zeroed.
pub fn finish() {
    help();
    while PENDING.load(Ordering::SeqCst) != 0 {
        core::hint::spin_loop();
    }
}
