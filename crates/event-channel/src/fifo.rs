//! The FIFO event-channel ABI's queues (`event_channel.h`, FIFO part):
//! what the hypervisor does when a port becomes pending or is unmasked.
//!
//! The guest owns the memory: one 32-bit *event word* per port (in pages it
//! hands over with `EVTCHNOP_expand_array`) and, per vCPU, a *control
//! block* (`EVTCHNOP_init_control`) with a `ready` bitmap and the head of
//! each of its 16 priority queues. A queue is a chain of event words linked
//! through their LINK fields. The hypervisor appends at the tail, which
//! only it knows; the guest consumes from the head, clearing LINKED with a
//! compare-and-swap, so every step here that touches a word the guest may
//! be changing is atomic too.
//!
//! The memory is reached through [`FifoMemory`], so the same logic runs on
//! guest frames in the hypervisor and on plain arrays in the host tests.
//! Every call is made under the domain's port lock: the private state
//! (tails, each port's last queue) needs no lock of its own.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::Port;

/// Event word bits.
pub const PENDING: u32 = 1 << 31;
pub const MASKED: u32 = 1 << 30;
pub const LINKED: u32 = 1 << 29;
/// Set by Xen while it changes a word's link; rxen never holds a word busy
/// (its updates are single compare-and-swaps), so it only preserves it.
pub const BUSY: u32 = 1 << 28;
/// Width of the LINK field (returned by `EVTCHNOP_init_control`).
pub const LINK_BITS: u8 = 17;
pub const LINK_MASK: u32 = (1 << LINK_BITS) - 1;

/// Queues per vCPU, one per priority; 0 is the highest.
pub const MAX_QUEUES: usize = 16;
pub const PRIORITY_MAX: u32 = 0;
pub const PRIORITY_DEFAULT: u32 = 7;
pub const PRIORITY_MIN: u32 = 15;

/// Event words in one 4 KiB event-array page.
pub const WORDS_PER_PAGE: u32 = 4096 / 4;
/// Ports the FIFO ABI can name (the LINK field's range).
pub const MAX_PORTS: u32 = 1 << LINK_BITS;
/// Pages an event array may have.
pub const MAX_ARRAY_PAGES: u32 = MAX_PORTS / WORDS_PER_PAGE;

/// `struct evtchn_fifo_control_block`: `ready` at 0, `head[16]` from 8.
pub const CONTROL_BLOCK_SIZE: u32 = 8 + 4 * MAX_QUEUES as u32;

/// The guest memory the queues live in.
pub trait FifoMemory {
    /// `port`'s event word, if an event-array page holds it.
    fn event_word(&self, port: Port) -> Option<&AtomicU32>;
    /// The `ready` bitmap of `vcpu`'s control block, if it registered one.
    fn ready(&self, vcpu: u32) -> Option<&AtomicU32>;
    /// `head[queue]` of `vcpu`'s control block, if it registered one.
    fn head(&self, vcpu: u32, queue: usize) -> Option<&AtomicU32>;
}

/// What the caller must do after a port changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Nothing: the event was already queued, or it has nowhere to go.
    None,
    /// The port is masked: only a vCPU polling it wants waking.
    Wake(u32),
    /// A queue of `vcpu` went from empty to ready: raise its upcall.
    Upcall(u32),
}

/// Errors of the FIFO set-up calls, as Xen answers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FifoError {
    /// A bad offset, vCPU or priority (`-EINVAL`).
    Invalid,
    /// This vCPU already has a control block (`-EINVAL` in Xen too).
    AlreadyRegistered,
    /// The event array is full (`-ENOSPC`).
    ArrayFull,
}

/// Where a port's event was last queued, so that moving it to another
/// queue (a new priority or vCPU) cannot leave a stale tail behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LastQueue {
    vcpu: u32,
    queue: u8,
}

/// One port's FIFO settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PortQueue {
    priority: u8,
    last: LastQueue,
}

impl PortQueue {
    const DEFAULT: Self = Self {
        priority: PRIORITY_DEFAULT as u8,
        last: LastQueue {
            vcpu: 0,
            queue: PRIORITY_DEFAULT as u8,
        },
    };
}

/// The hypervisor's private half of a domain's FIFO queues.
#[derive(Clone, Debug)]
pub struct FifoQueues {
    /// Per vCPU: whether it registered a control block, and each queue's
    /// tail (0: empty; port 0 is never used).
    vcpus: Vec<(bool, [Port; MAX_QUEUES])>,
    ports: Vec<PortQueue>,
    array_pages: u32,
}

impl FifoQueues {
    pub fn new(nr_vcpus: u32) -> Self {
        Self {
            vcpus: alloc::vec![(false, [0; MAX_QUEUES]); nr_vcpus as usize],
            ports: Vec::new(),
            array_pages: 0,
        }
    }

    /// Checks an `EVTCHNOP_init_control` for `vcpu` with the block at
    /// `offset` in its frame, and records it; the caller maps the block.
    /// Its queues start empty, as the guest cleared the block.
    pub fn init_control(&mut self, vcpu: u32, offset: u32) -> Result<(), FifoError> {
        // Xen: inside the page, 8-byte aligned.
        if offset > 4096 - CONTROL_BLOCK_SIZE || !offset.is_multiple_of(8) {
            return Err(FifoError::Invalid);
        }
        let entry = self
            .vcpus
            .get_mut(vcpu as usize)
            .ok_or(FifoError::Invalid)?;
        if entry.0 {
            return Err(FifoError::AlreadyRegistered);
        }
        *entry = (true, [0; MAX_QUEUES]);
        Ok(())
    }

    /// Whether `vcpu` registered a control block.
    pub fn has_control(&self, vcpu: u32) -> bool {
        self.vcpus.get(vcpu as usize).is_some_and(|v| v.0)
    }

    /// Checks an `EVTCHNOP_expand_array` and counts the page; returns the
    /// first port it holds (the caller maps the page there).
    pub fn expand_array(&mut self) -> Result<Port, FifoError> {
        if self.array_pages >= MAX_ARRAY_PAGES {
            return Err(FifoError::ArrayFull);
        }
        let first = self.array_pages * WORDS_PER_PAGE;
        self.array_pages += 1;
        Ok(first)
    }

    /// Ports the event array holds.
    pub fn ports_backed(&self) -> u32 {
        self.array_pages * WORDS_PER_PAGE
    }

    fn port(&self, port: Port) -> PortQueue {
        self.ports
            .get(port as usize)
            .copied()
            .unwrap_or(PortQueue::DEFAULT)
    }

    fn port_mut(&mut self, port: Port) -> &mut PortQueue {
        let i = port as usize;
        if self.ports.len() <= i {
            self.ports.resize(i + 1, PortQueue::DEFAULT);
        }
        &mut self.ports[i]
    }

    /// `EVTCHNOP_set_priority`: takes effect the next time the port is
    /// queued (an event already queued is delivered at its old priority).
    pub fn set_priority(&mut self, port: Port, priority: u32) -> Result<(), FifoError> {
        if priority > PRIORITY_MIN || port >= MAX_PORTS {
            return Err(FifoError::Invalid);
        }
        self.port_mut(port).priority = priority as u8;
        Ok(())
    }

    /// A port was freed: the next binding starts at the default priority.
    /// Its word keeps whatever LINKED says; the guest skips an event that
    /// is no longer pending.
    pub fn reset_port(&mut self, port: Port) {
        if let Some(p) = self.ports.get_mut(port as usize) {
            p.priority = PRIORITY_DEFAULT as u8;
        }
    }

    /// `port` (notifying `vcpu`) became pending.
    pub fn set_pending(&mut self, mem: &impl FifoMemory, port: Port, vcpu: u32) -> Delivery {
        let Some(word) = mem.event_word(port) else {
            // No page for it: the guest cannot have unmasked it.
            return Delivery::None;
        };
        let was = word.fetch_or(PENDING, Ordering::SeqCst);
        if was & MASKED != 0 {
            return Delivery::Wake(vcpu);
        }
        if was & LINKED != 0 {
            return Delivery::None;
        }
        self.link(mem, word, port, vcpu)
    }

    /// `EVTCHNOP_unmask` (the guest found the port pending as it cleared
    /// MASKED, or lost a race doing so): queue it if it is pending.
    pub fn unmask(&mut self, mem: &impl FifoMemory, port: Port, vcpu: u32) -> Delivery {
        let Some(word) = mem.event_word(port) else {
            return Delivery::None;
        };
        let w = word.fetch_and(!MASKED, Ordering::SeqCst);
        if w & PENDING == 0 || w & LINKED != 0 {
            return Delivery::None;
        }
        self.link(mem, word, port, vcpu)
    }

    /// Whether `port` is pending (masked or not).
    pub fn is_pending(mem: &impl FifoMemory, port: Port) -> bool {
        mem.event_word(port)
            .is_some_and(|w| w.load(Ordering::SeqCst) & PENDING != 0)
    }

    /// Whether `port` is masked (a port without a word counts as masked:
    /// nothing can be delivered on it).
    pub fn is_masked(mem: &impl FifoMemory, port: Port) -> bool {
        mem.event_word(port)
            .is_none_or(|w| w.load(Ordering::SeqCst) & MASKED != 0)
    }

    /// Clears PENDING (a port being freed).
    pub fn clear_pending(mem: &impl FifoMemory, port: Port) {
        if let Some(w) = mem.event_word(port) {
            w.fetch_and(!PENDING, Ordering::SeqCst);
        }
    }

    /// Appends `port` to its queue on `vcpu`.
    fn link(&mut self, mem: &impl FifoMemory, word: &AtomicU32, port: Port, vcpu: u32) -> Delivery {
        let Some(&(true, _)) = self.vcpus.get(vcpu as usize) else {
            // No control block yet: nothing to queue on (Xen drops it too).
            return Delivery::None;
        };
        if word.fetch_or(LINKED, Ordering::SeqCst) & LINKED != 0 {
            return Delivery::None;
        }
        let settings = self.port(port);
        let queue = usize::from(settings.priority);
        // The port was consumed off its last queue. If it was that queue's
        // tail, the queue is empty now: appending to it must not go through
        // this port's word, which is about to be linked elsewhere (or here).
        let last = settings.last;
        if let Some(tails) = self.vcpus.get_mut(last.vcpu as usize) {
            let t = &mut tails.1[usize::from(last.queue)];
            if *t == port {
                *t = 0;
            }
        }
        self.port_mut(port).last = LastQueue {
            vcpu,
            queue: queue as u8,
        };
        let tail = self.vcpus[vcpu as usize].1[queue];
        let appended = tail != 0 && mem.event_word(tail).is_some_and(|t| set_link(t, port));
        if !appended {
            if let Some(head) = mem.head(vcpu, queue) {
                head.store(port, Ordering::SeqCst);
            }
        }
        self.vcpus[vcpu as usize].1[queue] = port;
        if appended {
            return Delivery::None;
        }
        let bit = 1u32 << queue;
        match mem.ready(vcpu) {
            Some(ready) if ready.fetch_or(bit, Ordering::SeqCst) & bit == 0 => {
                Delivery::Upcall(vcpu)
            }
            _ => Delivery::None,
        }
    }
}

/// Points `tail`'s LINK at `port` if the guest has not consumed it yet
/// (LINKED still set); false if the queue ran empty meanwhile.
fn set_link(tail: &AtomicU32, port: Port) -> bool {
    let mut w = tail.load(Ordering::SeqCst);
    loop {
        if w & LINKED == 0 {
            return false;
        }
        let new = (w & !LINK_MASK) | (port & LINK_MASK);
        match tail.compare_exchange(w, new, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return true,
            Err(now) => w = now,
        }
    }
}

#[cfg(test)]
#[path = "fifo_tests.rs"]
mod tests;
