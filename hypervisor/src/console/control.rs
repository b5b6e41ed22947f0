//! The control domain's console, as on Xen: dom0's hvc0 talks to the
//! hypervisor's serial line through console_io (no ring), and serial input
//! meant for dom0 is queued here and announced with VIRQ_CONSOLE.
//!
//! Dom0's output is printed as it is, without a `(d0)` prefix (it is the
//! machine's console). Complete lines go out at once; a partial line (a
//! shell prompt) after a short pause, so that rxen's own log lines do not
//! cut dom0's lines in the middle.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use rxen_xen_abi::evtchn::VIRQ_CONSOLE;

use crate::sync::TicketLock;

static PENDING: TicketLock<Vec<u8>> = TicketLock::new(Vec::new());
/// System time of the last write that left a partial line.
static LAST_WRITE: AtomicU64 = AtomicU64::new(0);
/// A partial line is printed after this long without more output.
const PARTIAL_LINE_DELAY_NS: u64 = 30_000_000;
/// Longest line kept before it is printed anyway.
const MAX_LINE: usize = 1024;

static INPUT: TicketLock<VecDeque<u8>> = TicketLock::new(VecDeque::new());
/// Typed bytes kept for dom0 (Xen's serial receive ring is this size).
const INPUT_CAPACITY: usize = 1024;

/// CONSOLEIO_write from dom0.
pub fn write(bytes: &[u8]) {
    let mut pending = PENDING.lock();
    for &b in bytes {
        if b == b'\n' {
            super::print_raw(&pending, true);
            pending.clear();
        } else if b != b'\r' {
            pending.push(b);
            if pending.len() >= MAX_LINE {
                super::print_raw(&pending, true);
                pending.clear();
            }
        }
    }
    LAST_WRITE.store(crate::time::now_ns(), Ordering::Relaxed);
}

/// Prints a partial line now (dom0 waits for input, or it ended).
pub fn flush() {
    let mut pending = PENDING.lock();
    if !pending.is_empty() {
        super::print_raw(&pending, false);
        pending.clear();
    }
}

/// Prints a partial line that has waited long enough (called from the
/// timer path).
pub fn flush_if_idle() {
    let quiet = crate::time::now_ns().saturating_sub(LAST_WRITE.load(Ordering::Relaxed));
    if quiet >= PARTIAL_LINE_DELAY_NS && !PENDING.lock().is_empty() {
        flush();
    }
}

/// Serial input for dom0: queued, then VIRQ_CONSOLE. False if the queue
/// is full (the byte is dropped, as Xen drops it).
pub fn push_input(byte: u8) -> bool {
    {
        let mut input = INPUT.lock();
        if input.len() >= INPUT_CAPACITY {
            return false;
        }
        input.push_back(byte);
    }
    if let Some(dom0) = crate::domain::control() {
        dom0.send_global_virq(VIRQ_CONSOLE);
    }
    true
}

/// CONSOLEIO_read: what was typed, up to `max` bytes.
pub fn read(max: usize) -> Vec<u8> {
    flush();
    let mut input = INPUT.lock();
    let n = max.min(input.len());
    input.drain(..n).collect()
}
