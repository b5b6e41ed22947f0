//! Event channels, Xen's interrupts: a per-domain table of ports and the
//! 2-level delivery protocol on the shared_info page (pending and mask
//! bitmaps) and each vCPU's vcpu_info (selector word, upcall flag).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::vcpu::shared_info;

use crate::domain::{self as super_domain, Domain};
use crate::mm::machine;

/// Ports of the 2-level ABI on 64-bit guests.
pub const MAX_PORTS: u32 = 4096;
/// VIRQs a vCPU can bind.
pub const NR_VIRQS: u32 = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    Free,
    /// Waiting for `remote` to bind it.
    Unbound {
        remote: u16,
    },
    Virq {
        virq: u32,
    },
    Ipi,
    /// Served by rxen itself (the PV console backend).
    Hypervisor,
}

#[derive(Clone, Copy, Debug)]
struct Port {
    binding: Binding,
    vcpu: u32,
}

pub struct EventChannels {
    ports: Vec<Port>,
}

impl EventChannels {
    pub fn new() -> Self {
        // Port 0 is never valid.
        Self {
            ports: alloc::vec![Port {
                binding: Binding::Hypervisor,
                vcpu: 0
            }],
        }
    }

    fn alloc(&mut self, binding: Binding, vcpu: u32) -> Result<u32, Errno> {
        if let Some(i) = self
            .ports
            .iter()
            .skip(1)
            .position(|p| p.binding == Binding::Free)
        {
            self.ports[i + 1] = Port { binding, vcpu };
            return Ok(i as u32 + 1);
        }
        if self.ports.len() as u32 >= MAX_PORTS {
            return Err(errno::ENOSPC);
        }
        self.ports.push(Port { binding, vcpu });
        Ok(self.ports.len() as u32 - 1)
    }

    pub fn bind_virq(&mut self, virq: u32, vcpu: u32) -> Result<u32, Errno> {
        if virq >= NR_VIRQS {
            return Err(errno::EINVAL);
        }
        if self.virq_port(vcpu, virq).is_some() {
            return Err(errno::EEXIST);
        }
        self.alloc(Binding::Virq { virq }, vcpu)
    }

    pub fn bind_ipi(&mut self, vcpu: u32) -> Result<u32, Errno> {
        self.alloc(Binding::Ipi, vcpu)
    }

    pub fn alloc_unbound(&mut self, remote: u16) -> Result<u32, Errno> {
        self.alloc(Binding::Unbound { remote }, 0)
    }

    /// A port whose other end is rxen (the console).
    pub fn alloc_hypervisor(&mut self) -> Result<u32, Errno> {
        self.alloc(Binding::Hypervisor, 0)
    }

    pub fn binding(&self, port: u32) -> Result<(Binding, u32), Errno> {
        match self.ports.get(port as usize) {
            Some(p) if port != 0 && p.binding != Binding::Free => Ok((p.binding, p.vcpu)),
            _ => Err(errno::EINVAL),
        }
    }

    pub fn close(&mut self, port: u32) -> Result<(), Errno> {
        self.binding(port)?;
        if self.ports[port as usize].binding == Binding::Hypervisor {
            return Err(errno::EINVAL);
        }
        self.ports[port as usize] = Port {
            binding: Binding::Free,
            vcpu: 0,
        };
        Ok(())
    }

    /// Moves notifications of `port` to `vcpu` (unbound ports only, as Xen
    /// allows for interdomain/unbound; VIRQ and IPI ports stay put).
    pub fn bind_vcpu(&mut self, port: u32, vcpu: u32) -> Result<(), Errno> {
        let (binding, _) = self.binding(port)?;
        match binding {
            Binding::Unbound { .. } | Binding::Hypervisor => {
                self.ports[port as usize].vcpu = vcpu;
                Ok(())
            }
            _ => Err(errno::EINVAL),
        }
    }

    pub fn virq_port(&self, vcpu: u32, virq: u32) -> Option<u32> {
        self.ports
            .iter()
            .position(|p| p.binding == Binding::Virq { virq } && p.vcpu == vcpu)
            .map(|i| i as u32)
    }
}

impl Default for EventChannels {
    fn default() -> Self {
        Self::new()
    }
}

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

    /// Marks `port` pending and, if it is unmasked, raises an upcall on the
    /// vCPU it is bound to (Xen's 2-level `evtchn_set_pending`). The events
    /// lock is held throughout, so a domain being destroyed (which takes
    /// it before freeing its memory) is never written to.
    pub fn set_pending(&self, port: u32) {
        let events = self.events.lock();
        let Ok((_, vcpu)) = events.binding(port) else {
            return;
        };
        if self.state() == super_domain::DomainState::Destroyed {
            return;
        }
        let (pending, mask) = bit(self.shared_bits(shared_info::EVTCHN_PENDING), port);
        if pending.fetch_or(mask, Ordering::SeqCst) & mask != 0 {
            return;
        }
        let (masked, mask) = bit(self.shared_bits(shared_info::EVTCHN_MASK), port);
        if masked.load(Ordering::SeqCst) & mask != 0 {
            // Latched until unmasked, but a poller waits even on masked ports.
            self.wake_vcpu(vcpu);
            return;
        }
        self.raise_upcall(vcpu, port);
    }

    /// Steps 3–5 of delivery: selector bit, upcall flag, notify.
    fn raise_upcall(&self, vcpu: u32, port: u32) {
        let Some(v) = self.vcpus.get(vcpu as usize) else {
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
        if let Some(v) = self.vcpus.get(vcpu as usize) {
            crate::sched::kick(v);
        }
    }

    /// EVTCHNOP_unmask.
    pub fn unmask(&self, port: u32) -> Result<(), Errno> {
        let events = self.events.lock();
        let (_, vcpu) = events.binding(port)?;
        let (masked, mask) = bit(self.shared_bits(shared_info::EVTCHN_MASK), port);
        let was = masked.fetch_and(!mask, Ordering::SeqCst);
        let (pending, pmask) = bit(self.shared_bits(shared_info::EVTCHN_PENDING), port);
        if was & mask != 0 && pending.load(Ordering::SeqCst) & pmask != 0 {
            self.raise_upcall(vcpu, port);
        }
        Ok(())
    }

    /// EVTCHNOP_close. The pending bit goes too, as in Xen: a port that
    /// is bound again must not fire for an event sent to its last use
    /// (Linux's spinlock kicker treats any delivery as a bug).
    pub fn close_port(&self, port: u32) -> Result<(), Errno> {
        let mut events = self.events.lock();
        events.close(port)?;
        let (pending, mask) = bit(self.shared_bits(shared_info::EVTCHN_PENDING), port);
        pending.fetch_and(!mask, Ordering::SeqCst);
        Ok(())
    }

    /// Whether `port` is pending (SCHEDOP_poll checks this, masked or not).
    pub fn is_pending(&self, port: u32) -> bool {
        if port >= MAX_PORTS {
            return false;
        }
        let (pending, mask) = bit(self.shared_bits(shared_info::EVTCHN_PENDING), port);
        pending.load(Ordering::SeqCst) & mask != 0
    }

    /// Sends VIRQ `virq` to `vcpu` if the guest bound it.
    pub fn send_virq(&self, vcpu: u32, virq: u32) {
        let port = self.events.lock().virq_port(vcpu, virq);
        if let Some(port) = port {
            self.set_pending(port);
        }
    }
}
