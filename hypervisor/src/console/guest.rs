//! The PV console back-end of boot-time domains: rxen drains each such
//! domain's `xencons_interface` output ring into the hypervisor log, one
//! line at a time, prefixed `(dN)` as Xen does. (Domains the toolstack
//! creates have their console served by `xenconsoled` in dom0.) Also the
//! line buffer every domain's early console (console_io, port 0xE9) goes
//! through.

use alloc::vec::Vec;
use core::sync::atomic::{fence, AtomicBool, AtomicU32, Ordering};

use rxen_xen_abi::console as ring;

use crate::mm::machine;
use crate::sync::TicketLock;

const OUT_SIZE: u32 = 2048;
const IN_SIZE: u32 = 1024;
/// Longest line kept before it is printed anyway.
const MAX_LINE: usize = 512;

/// Bytes of a domain's output until a line is complete, printed as
/// `(dN) text`.
pub struct LineBuffer {
    line: TicketLock<Vec<u8>>,
}

impl LineBuffer {
    pub const fn new() -> Self {
        Self {
            line: TicketLock::new(Vec::new()),
        }
    }

    pub fn write(&self, domid: u16, bytes: &[u8]) {
        let mut line = self.line.lock();
        for &b in bytes {
            push_byte(&mut line, b, domid);
        }
    }
}

impl Default for LineBuffer {
    fn default() -> Self {
        Self::new()
    }
}

pub struct GuestConsole {
    /// Machine address of the ring page.
    ring_pa: u64,
    pub port: u32,
    line: TicketLock<Vec<u8>>,
    /// Set (under the line lock) before the ring page goes back with the
    /// domain's memory: nothing touches it after.
    closed: AtomicBool,
}

impl GuestConsole {
    pub fn new(ring_pa: u64, port: u32) -> Self {
        Self {
            ring_pa,
            port,
            line: TicketLock::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// The domain is being destroyed: the ring is not read or written again.
    pub fn close(&self) {
        let _line = self.line.lock();
        self.closed.store(true, Ordering::SeqCst);
    }

    fn index(&self, offset: usize) -> &'static AtomicU32 {
        machine::atomic_u32(self.ring_pa + offset as u64)
    }

    /// Copies whatever the guest wrote out of the ring into the log.
    /// Garbage indices from the guest only lose its own output.
    pub fn drain(&self, domid: u16) {
        let mut line = self.line.lock();
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let cons = self.index(ring::OUT_CONS).load(Ordering::Acquire);
        let prod = self.index(ring::OUT_PROD).load(Ordering::Acquire);
        fence(Ordering::SeqCst);
        let Some((mut start, mut len)) = ring::ring_pending(cons, prod, OUT_SIZE) else {
            // Impossible indices: skip everything the guest claims.
            self.index(ring::OUT_CONS).store(prod, Ordering::Release);
            return;
        };
        let mut consumed = 0u32;
        while len > 0 {
            for i in 0..len {
                // `start + i` < OUT_SIZE: inside the out[] array.
                let at = self.ring_pa + (ring::OUT as u64) + u64::from(start + i);
                let byte = machine::atomic_u8(at).load(Ordering::Relaxed);
                push_byte(&mut line, byte, domid);
            }
            consumed += len;
            match ring::ring_pending(cons.wrapping_add(consumed), prod, OUT_SIZE) {
                Some((s, l)) => (start, len) = (s, l),
                None => break,
            }
        }
        fence(Ordering::SeqCst);
        self.index(ring::OUT_CONS)
            .store(cons.wrapping_add(consumed), Ordering::Release);
    }

    /// Prints a partial last line (at shutdown).
    pub fn flush(&self, domid: u16) {
        self.drain(domid);
        let mut line = self.line.lock();
        if !line.is_empty() {
            print(&line, domid);
            line.clear();
        }
    }

    /// Queues keyboard input for the guest; false if the ring is full.
    pub fn push_input(&self, byte: u8) -> bool {
        let _line = self.line.lock();
        if self.closed.load(Ordering::SeqCst) {
            return false;
        }
        let cons = self.index(ring::IN_CONS).load(Ordering::Acquire);
        let prod = self.index(ring::IN_PROD).load(Ordering::Acquire);
        if prod.wrapping_sub(cons) >= IN_SIZE {
            return false;
        }
        // Index masked into the 1 KiB in[] array of the ring page.
        let at = self.ring_pa + (ring::IN as u64) + u64::from(prod % IN_SIZE);
        machine::atomic_u8(at).store(byte, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.index(ring::IN_PROD)
            .store(prod.wrapping_add(1), Ordering::Release);
        true
    }
}

fn push_byte(line: &mut Vec<u8>, byte: u8, domid: u16) {
    match byte {
        b'\n' => {
            print(line, domid);
            line.clear();
        }
        b'\r' => {}
        _ => {
            line.push(byte);
            if line.len() >= MAX_LINE {
                print(line, domid);
                line.clear();
            }
        }
    }
}

fn print(line: &[u8], domid: u16) {
    let text = core::str::from_utf8(line).unwrap_or("<non-UTF-8 output>");
    crate::console::print_guest_line(domid, text);
}
