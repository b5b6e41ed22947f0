//! Event channels, Xen's interrupts: each domain's port table (the
//! `rxen-event-channel` crate decides the binding rules) and the 2-level
//! delivery protocol on the shared_info page (pending and mask bitmaps) and
//! each vCPU's vcpu_info (selector word, upcall flag).
//!
//! Operations on two domains (interdomain binds and closes) lock both port
//! tables, the lower domain id first, so no two CPUs can deadlock; delivery
//! to the peer happens after both locks are dropped.

pub mod fifo;

use core::sync::atomic::{AtomicU64, Ordering};

use rxen_event_channel::fifo::FifoQueues;
use rxen_event_channel::{Binding, Port, PortTable};
use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::vcpu::shared_info;

use crate::domain::Domain;
use crate::mm::machine;
use crate::sync::TicketLockGuard;

/// Ports a domain may use unless created with a lower limit.
pub const DEFAULT_MAX_PORTS: u32 = rxen_event_channel::MAX_PORTS_2L;

/// The word and bit of `index` in the bitmap at machine address `base`.
fn bit(base: u64, index: u32) -> (&'static AtomicU64, u64) {
    (
        machine::atomic_u64(base + u64::from(index / 64) * 8),
        1u64 << (index % 64),
    )
}

impl Domain {
    /// A bitmap of shared_info (pending or mask).
    fn shared_bits(&self, offset: usize) -> u64 {
        self.shared_info_pa + offset as u64
    }

    /// Masks every 2-level port in shared_info. A domain the toolstack
    /// loads with vCPU state before it first runs (sethvmcontext: a
    /// restore, or the start of a new guest) gets this: Linux 6.1 masks all ports when it boots but
    /// not when it resumes in a new domain (it expects the FIFO ABI there),
    /// so without it a port it bound and keeps disabled, its spinlock
    /// kicker, would be delivered and hit a BUG() in the restored guest.
    /// Ports the guest enables it unmasks itself, on boot and on resume.
    pub fn mask_all_ports(&self) {
        let words = shared_info::EVTCHN_BITMAP_SIZE / 8;
        let base = self.shared_bits(shared_info::EVTCHN_MASK);
        for w in 0..words as u64 {
            machine::atomic_u64(base + w * 8).store(u64::MAX, Ordering::SeqCst);
        }
    }

    /// Marks `port` pending and, if it is unmasked, raises an upcall on the
    /// vCPU it is bound to (Xen's 2-level `evtchn_set_pending`). The port
    /// lock is held throughout, so a domain being destroyed (which takes it
    /// before freeing its memory) is never written to.
    pub fn set_pending(&self, port: Port) {
        let events = self.events.lock();
        let Ok(info) = events.get(port) else {
            return;
        };
        if self.is_dying() {
            return;
        }
        if let Some(fifo) = self.fifo.lock().as_mut() {
            let d = fifo.queues.set_pending(&fifo.frames, port, info.vcpu);
            self.deliver(d);
            return;
        }
        let (pending, mask) = bit(self.shared_bits(shared_info::EVTCHN_PENDING), port);
        if pending.fetch_or(mask, Ordering::SeqCst) & mask != 0 {
            return;
        }
        let (masked, mask) = bit(self.shared_bits(shared_info::EVTCHN_MASK), port);
        if masked.load(Ordering::SeqCst) & mask != 0 {
            // Latched until unmasked, but a poller waits even on masked ports.
            self.wake_vcpu(info.vcpu);
            return;
        }
        self.raise_upcall(info.vcpu, port);
    }

    /// Steps 3–5 of delivery: selector bit, upcall flag, notify.
    fn raise_upcall(&self, vcpu: u32, port: Port) {
        let Some(v) = self.vcpu(vcpu) else {
            return;
        };
        let info = v.vcpu_info_pa.load(Ordering::SeqCst);
        // evtchn_pending_sel at offset 8, evtchn_upcall_pending at 0.
        let (sel, mask) = bit(info + 8, port / 64);
        sel.fetch_or(mask, Ordering::SeqCst);
        machine::atomic_u8(info).store(1, Ordering::SeqCst);
        self.wake_vcpu(vcpu);
    }

    fn wake_vcpu(&self, vcpu: u32) {
        if let Some(v) = self.vcpu(vcpu) {
            crate::sched::kick(v);
        }
    }

    /// EVTCHNOP_unmask.
    pub fn unmask(&self, port: Port) -> Result<(), Errno> {
        let events = self.events.lock();
        let info = events.get(port)?;
        if let Some(fifo) = self.fifo.lock().as_mut() {
            let d = fifo.queues.unmask(&fifo.frames, port, info.vcpu);
            self.deliver(d);
            return Ok(());
        }
        let (masked, mask) = bit(self.shared_bits(shared_info::EVTCHN_MASK), port);
        let was = masked.fetch_and(!mask, Ordering::SeqCst);
        let (pending, pmask) = bit(self.shared_bits(shared_info::EVTCHN_PENDING), port);
        if was & mask != 0 && pending.load(Ordering::SeqCst) & pmask != 0 {
            self.raise_upcall(info.vcpu, port);
        }
        Ok(())
    }

    /// Clears `port`'s pending bit, as Xen does when a port is freed: a port
    /// bound again must not fire for an event sent to its last use (Linux's
    /// spinlock kicker treats any delivery as a bug).
    fn clear_pending(&self, port: Port) {
        if let Some(fifo) = self.fifo.lock().as_mut() {
            FifoQueues::clear_pending(&fifo.frames, port);
            fifo.queues.reset_port(port);
            return;
        }
        let (pending, mask) = bit(self.shared_bits(shared_info::EVTCHN_PENDING), port);
        pending.fetch_and(!mask, Ordering::SeqCst);
    }

    /// Whether `port` is masked (for the debug dump).
    fn is_masked(&self, port: Port) -> bool {
        if let Some(fifo) = self.fifo.lock().as_ref() {
            return FifoQueues::is_masked(&fifo.frames, port);
        }
        if port >= rxen_event_channel::MAX_PORTS_2L {
            return false;
        }
        let (masked, mask) = bit(self.shared_bits(shared_info::EVTCHN_MASK), port);
        masked.load(Ordering::SeqCst) & mask != 0
    }

    /// Whether `port` is pending (SCHEDOP_poll checks this, masked or not).
    pub fn is_pending(&self, port: Port) -> bool {
        if let Some(fifo) = self.fifo.lock().as_ref() {
            return FifoQueues::is_pending(&fifo.frames, port);
        }
        if port >= rxen_event_channel::MAX_PORTS_2L {
            return false;
        }
        let (pending, mask) = bit(self.shared_bits(shared_info::EVTCHN_PENDING), port);
        pending.load(Ordering::SeqCst) & mask != 0
    }

    /// Sends per-vCPU VIRQ `virq` to `vcpu` if the guest bound it.
    pub fn send_virq(&self, vcpu: u32, virq: u32) {
        let port = self.events.lock().virq_port(virq, vcpu);
        if let Some(port) = port {
            self.set_pending(port);
        }
    }

    /// Sends global VIRQ `virq` (DOM_EXC, CONSOLE, ...) wherever it is bound.
    pub fn send_global_virq(&self, virq: u32) {
        let port = self.events.lock().global_virq_port(virq);
        if let Some((port, _)) = port {
            self.set_pending(port);
        }
    }
}

/// Debug key 'e': for each vCPU, what event delivery looks like (the
/// upcall flag and selector in its vcpu_info, its VIRQ_TIMER port, its
/// timer): enough to tell a lost event from a guest that ignores one.
pub fn dump() {
    let now = crate::time::now_ns();
    crate::println!("rxen: event delivery:");
    for dom in crate::domain::all() {
        if !dom.shared_info_mapped.load(Ordering::SeqCst) {
            continue;
        }
        let abi = if dom.fifo.lock().is_some() {
            "FIFO"
        } else {
            "2-level"
        };
        crate::println!("rxen:   d{}: {abi} event channels", dom.id);
        for v in dom.vcpus() {
            let info = v.vcpu_info_pa.load(Ordering::SeqCst);
            let upcall = machine::atomic_u8(info).load(Ordering::SeqCst);
            let sel = machine::atomic_u64(info + 8).load(Ordering::SeqCst);
            let deadline = v.timer_deadline.load(Ordering::SeqCst);
            let timer = if deadline == 0 {
                alloc::string::String::from("none")
            } else {
                alloc::format!("{:+} ms", (deadline as i64 - now as i64) / 1_000_000)
            };
            let port = dom
                .events
                .lock()
                .virq_port(rxen_xen_abi::evtchn::VIRQ_TIMER, v.id);
            let (pending, masked) =
                port.map_or((false, false), |p| (dom.is_pending(p), dom.is_masked(p)));
            crate::println!(
                "rxen:   d{}v{} {:?} cpu{}: upcall {} sel {:#x} timer {} timer port {:?} pending {} masked {} apic {}",
                dom.id,
                v.id,
                v.state(),
                v.pcpu.load(Ordering::Relaxed),
                upcall,
                sel,
                timer,
                port,
                u8::from(pending),
                u8::from(masked),
                u8::from(crate::arch::x86_64::exits::lapic_pending(v))
            );
        }
    }
}

/// Both port tables, locked lower domain id first (one lock for a loopback).
enum Pair<'a> {
    Same(TicketLockGuard<'a, PortTable>),
    Two {
        local: TicketLockGuard<'a, PortTable>,
        remote: TicketLockGuard<'a, PortTable>,
    },
}

fn lock_pair<'a>(local: &'a Domain, remote: &'a Domain) -> Pair<'a> {
    if local.id == remote.id {
        return Pair::Same(local.events.lock());
    }
    if local.id < remote.id {
        let l = local.events.lock();
        let r = remote.events.lock();
        Pair::Two {
            local: l,
            remote: r,
        }
    } else {
        let r = remote.events.lock();
        let l = local.events.lock();
        Pair::Two {
            local: l,
            remote: r,
        }
    }
}

/// EVTCHNOP_bind_interdomain: connects a new port of `local` to `remote`'s
/// unbound `remote_port` (which must be reserved for `local`). The new
/// port is marked pending at once, as Xen does ("we may have lost
/// notifications").
pub fn bind_interdomain(local: &Domain, remote: &Domain, remote_port: Port) -> Result<Port, Errno> {
    if remote.is_dying() {
        return Err(errno::ESRCH);
    }
    let port = match lock_pair(local, remote) {
        Pair::Same(mut t) => {
            t.check_bindable(remote_port, local.id)?;
            let port = t.alloc_interdomain(local.id, remote_port)?;
            t.connect(remote_port, local.id, port);
            port
        }
        Pair::Two {
            local: mut l,
            remote: mut r,
        } => {
            r.check_bindable(remote_port, local.id)?;
            let port = l.alloc_interdomain(remote.id, remote_port)?;
            r.connect(remote_port, local.id, port);
            port
        }
    };
    local.clear_pending(port);
    local.set_pending(port);
    Ok(port)
}

/// EVTCHNOP_send on `port` of `dom`.
pub fn send(dom: &Domain, port: Port) -> Result<(), Errno> {
    let info = dom.events.lock().get(port)?;
    match info.binding {
        Binding::Hypervisor => {
            if let Some(console) = &dom.console {
                console.drain(dom.id);
            }
            Ok(())
        }
        Binding::Ipi => {
            dom.set_pending(port);
            Ok(())
        }
        Binding::Interdomain {
            dom: peer,
            port: peer_port,
        } => {
            let target = if peer == dom.id {
                None
            } else {
                crate::domain::get(peer)
            };
            match target {
                Some(d) => d.set_pending(peer_port),
                None if peer == dom.id => dom.set_pending(peer_port),
                None => {}
            }
            Ok(())
        }
        // Xen drops notifications on unbound ports silently.
        Binding::Unbound { .. } => Ok(()),
        Binding::Virq(_) | Binding::Free => Err(errno::EINVAL),
    }
}

/// EVTCHNOP_close: frees `port`; the peer of an interdomain port becomes
/// unbound again (reserved for `dom`) without being told.
pub fn close(dom: &Domain, port: Port) -> Result<(), Errno> {
    let binding = dom.events.lock().get(port)?.binding;
    if let Binding::Interdomain {
        dom: peer,
        port: peer_port,
    } = binding
    {
        let peer_dom = crate::domain::get(peer);
        let peer_ref: &Domain = peer_dom.as_deref().unwrap_or(dom);
        match lock_pair(dom, peer_ref) {
            Pair::Same(mut t) => {
                t.close(port)?;
                if peer == dom.id {
                    t.disconnect(peer_port, dom.id, port);
                }
            }
            Pair::Two {
                mut local,
                mut remote,
            } => {
                local.close(port)?;
                remote.disconnect(peer_port, dom.id, port);
            }
        };
    } else {
        dom.events.lock().close(port)?;
    }
    dom.clear_pending(port);
    Ok(())
}

/// A dying domain's ports all close; its peers' ends become unbound.
pub fn teardown(dom: &Domain) {
    let peers = dom.events.lock().close_all();
    fifo::teardown(dom);
    for (peer, peer_port) in peers {
        if peer == dom.id {
            continue;
        }
        if let Some(p) = crate::domain::get(peer) {
            let mut t = p.events.lock();
            if let Ok(info) = t.get(peer_port) {
                if let Binding::Interdomain { dom: d, port } = info.binding {
                    if d == dom.id {
                        t.disconnect(peer_port, dom.id, port);
                    }
                }
            }
        }
    }
}
