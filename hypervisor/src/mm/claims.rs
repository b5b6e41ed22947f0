//! Memory the toolstack has claimed for domains it is building
//! (XENMEM_claim_pages) and not populated yet: it counts as taken for the
//! next claim and in what the toolstack is told is free.

use core::sync::atomic::{AtomicU64, Ordering};

static OUTSTANDING: AtomicU64 = AtomicU64::new(0);

/// Claims `pages` if that many are free beyond the other claims.
pub fn take(pages: u64) -> bool {
    let (_, free) = super::frames::stats();
    OUTSTANDING
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |claimed| {
            (claimed.saturating_add(pages) <= free).then_some(claimed + pages)
        })
        .is_ok()
}

/// Gives `pages` of claims back (populated, cancelled, or the domain died).
pub fn release(pages: u64) {
    let _ = OUTSTANDING.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
        Some(c.saturating_sub(pages))
    });
}

/// Pages claimed and not yet populated.
pub fn outstanding() -> u64 {
    OUTSTANDING.load(Ordering::SeqCst)
}
