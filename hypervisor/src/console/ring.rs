//! The hypervisor's console ring (Xen's `conring`): the last 64 KiB of
//! rxen's log, which `xl dmesg` reads through XEN_SYSCTL_readconsole.
//!
//! Positions are byte counts since boot, wrapping at 2^32 as Xen's
//! 32-bit `index` does; the ring keeps the bytes from `oldest` to `prod`.

use alloc::vec::Vec;

use crate::sync::TicketLock;

const SIZE: u32 = 64 * 1024;

struct Ring {
    buf: [u8; SIZE as usize],
    /// Position of the next byte written.
    prod: u32,
    /// Position of the oldest byte still readable (moved by `clear`).
    oldest: u32,
}

static RING: TicketLock<Ring> = TicketLock::new(Ring {
    buf: [0; SIZE as usize],
    prod: 0,
    oldest: 0,
});

/// Appends log text.
pub fn append(bytes: &[u8]) {
    let mut r = RING.lock();
    for &b in bytes {
        let at = (r.prod % SIZE) as usize;
        r.buf[at] = b;
        r.prod = r.prod.wrapping_add(1);
    }
    if r.prod.wrapping_sub(r.oldest) > SIZE {
        r.oldest = r.prod.wrapping_sub(SIZE);
    }
}

/// What one XEN_SYSCTL_readconsole call gets: the bytes and the position
/// after them.
pub struct Chunk {
    pub bytes: Vec<u8>,
    pub next_index: u32,
}

/// Xen's semantics: an incremental read continues at `index` if it is
/// still in the ring, else (and for a non-incremental read) starts at the
/// oldest byte; at most `max` bytes; `clear` forgets what was read.
pub fn read(index: u32, incremental: bool, max: u32, clear: bool) -> Chunk {
    let mut r = RING.lock();
    let held = r.prod.wrapping_sub(r.oldest);
    let start = if incremental && index.wrapping_sub(r.oldest) <= held {
        index
    } else {
        r.oldest
    };
    let n = r.prod.wrapping_sub(start).min(max);
    let bytes = (0..n)
        .map(|i| r.buf[(start.wrapping_add(i) % SIZE) as usize])
        .collect();
    let next_index = start.wrapping_add(n);
    if clear {
        r.oldest = next_index;
    }
    Chunk { bytes, next_index }
}
