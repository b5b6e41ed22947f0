//! A domain's event-channel ports and Xen's rules for binding them
//! (`xen/common/event_channel.c` semantics, our own code).
//!
//! A [`PortTable`] is the per-domain table; the hypervisor holds one per
//! domain behind a lock and does the delivery (pending and mask bits in
//! `shared_info`) itself. Operations that involve two domains
//! (interdomain binds and closes) are split into steps on each table, so
//! the caller can take both locks (in a fixed order) and apply them:
//!
//! * bind: [`PortTable::check_bindable`] on the remote table, then
//!   [`PortTable::alloc_interdomain`] on the local one, then
//!   [`PortTable::connect`] on the remote one;
//! * close of an interdomain port: [`PortTable::close`] on the local table
//!   returns the peer, which the caller turns back into an unbound port with
//!   [`PortTable::disconnect`] (the peer is *not* notified, as in Xen).
//!
//! `no_std`, no `unsafe`; every guest-supplied value is checked and
//! answered with one of Xen's error codes.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod fifo;

use alloc::vec::Vec;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::evtchn::{
    EvtchnState, NR_VIRQS, VIRQ_ARGO, VIRQ_DEBUG, VIRQ_TIMER, VIRQ_XENOPROF, VIRQ_XENPMU,
};
use rxen_xen_abi::DomId;

/// An event-channel port number.
pub type Port = u32;

/// Ports of the 2-level ABI for 64-bit guests.
pub const MAX_PORTS_2L: u32 = 4096;

/// What a port is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// Not in use.
    Free,
    /// Allocated and waiting for `remote` to bind it.
    Unbound {
        /// The only domain allowed to bind it.
        remote: DomId,
    },
    /// Connected to `port` of domain `dom` (possibly this domain itself).
    Interdomain {
        /// Peer domain.
        dom: DomId,
        /// Peer port.
        port: Port,
    },
    /// A virtual IRQ.
    Virq(u32),
    /// An inter-processor interrupt inside the domain.
    Ipi,
    /// Served by the hypervisor itself (rxen's console back-end for boot
    /// domains); the guest may not close it.
    Hypervisor,
}

/// One port: its binding and the vCPU it notifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortInfo {
    /// What it is bound to.
    pub binding: Binding,
    /// vCPU that is notified when it becomes pending.
    pub vcpu: u32,
}

const FREE: PortInfo = PortInfo {
    binding: Binding::Free,
    vcpu: 0,
};

/// Whether a VIRQ is per vCPU (any vCPU may bind it) rather than global
/// (vCPU 0 only, one binding per domain). ARGO is per domain but bound
/// like a per-vCPU one.
pub fn is_per_vcpu_virq(virq: u32) -> bool {
    matches!(
        virq,
        VIRQ_TIMER | VIRQ_DEBUG | VIRQ_XENOPROF | VIRQ_XENPMU | VIRQ_ARGO
    )
}

/// A domain's ports. Port 0 is never valid.
#[derive(Clone, Debug)]
pub struct PortTable {
    ports: Vec<PortInfo>,
    max_ports: u32,
}

impl PortTable {
    /// An empty table allowing ports `1..max_ports` (capped at the 2-level
    /// ABI's [`MAX_PORTS_2L`]).
    pub fn new(max_ports: u32) -> Self {
        Self {
            ports: alloc::vec![FREE],
            max_ports: max_ports.clamp(2, MAX_PORTS_2L),
        }
    }

    /// One past the highest port this table may hand out.
    pub fn max_ports(&self) -> u32 {
        self.max_ports
    }

    /// Lowers or raises the port limit (`max_evtchn_port` + 1); ports in
    /// use above it stay usable until closed.
    pub fn set_max_ports(&mut self, max_ports: u32) {
        self.max_ports = max_ports.clamp(2, MAX_PORTS_2L);
    }

    fn alloc(&mut self, binding: Binding, vcpu: u32) -> Result<Port, Errno> {
        let free = self
            .ports
            .iter()
            .skip(1)
            .position(|p| p.binding == Binding::Free)
            .map(|i| i + 1);
        let port = match free {
            Some(i) if (i as u32) < self.max_ports => i,
            _ if (self.ports.len() as u32) < self.max_ports => {
                self.ports.push(FREE);
                self.ports.len() - 1
            }
            _ => return Err(errno::ENOSPC),
        };
        self.ports[port] = PortInfo { binding, vcpu };
        Ok(port as Port)
    }

    /// The port's state, if it is in use.
    pub fn get(&self, port: Port) -> Result<PortInfo, Errno> {
        match self.ports.get(port as usize) {
            Some(p) if port != 0 && p.binding != Binding::Free => Ok(*p),
            _ => Err(errno::EINVAL),
        }
    }

    /// EVTCHNOP_alloc_unbound: a port `remote` may bind later.
    pub fn alloc_unbound(&mut self, remote: DomId) -> Result<Port, Errno> {
        self.alloc(Binding::Unbound { remote }, 0)
    }

    /// A port whose other end is the hypervisor.
    pub fn alloc_hypervisor(&mut self) -> Result<Port, Errno> {
        self.alloc(Binding::Hypervisor, 0)
    }

    /// EVTCHNOP_bind_virq. `nr_vcpus` is the domain's vCPU count. Global
    /// VIRQs must name vCPU 0.
    pub fn bind_virq(&mut self, virq: u32, vcpu: u32, nr_vcpus: u32) -> Result<Port, Errno> {
        if virq >= NR_VIRQS {
            return Err(errno::EINVAL);
        }
        if vcpu >= nr_vcpus {
            return Err(errno::ENOENT);
        }
        if !is_per_vcpu_virq(virq) && vcpu != 0 {
            return Err(errno::EINVAL);
        }
        // A global VIRQ is bound once per domain, wherever bind_vcpu moved it.
        let bound = if is_per_vcpu_virq(virq) {
            self.virq_port(virq, vcpu).is_some()
        } else {
            self.global_virq_port(virq).is_some()
        };
        if bound {
            return Err(errno::EEXIST);
        }
        self.alloc(Binding::Virq(virq), vcpu)
    }

    /// EVTCHNOP_bind_ipi.
    pub fn bind_ipi(&mut self, vcpu: u32, nr_vcpus: u32) -> Result<Port, Errno> {
        if vcpu >= nr_vcpus {
            return Err(errno::ENOENT);
        }
        self.alloc(Binding::Ipi, vcpu)
    }

    /// The port bound to `virq` on `vcpu`, if any.
    pub fn virq_port(&self, virq: u32, vcpu: u32) -> Option<Port> {
        self.ports
            .iter()
            .position(|p| p.binding == Binding::Virq(virq) && p.vcpu == vcpu)
            .map(|i| i as Port)
    }

    /// The port bound to global `virq`, on whichever vCPU it notifies.
    pub fn global_virq_port(&self, virq: u32) -> Option<(Port, u32)> {
        self.ports
            .iter()
            .position(|p| p.binding == Binding::Virq(virq))
            .map(|i| (i as Port, self.ports[i].vcpu))
    }

    /// Step 1 of an interdomain bind, on the *remote* table: `port` must be
    /// unbound and reserved for `binder`.
    pub fn check_bindable(&self, port: Port, binder: DomId) -> Result<(), Errno> {
        match self.get(port)?.binding {
            Binding::Unbound { remote } if remote == binder => Ok(()),
            _ => Err(errno::EINVAL),
        }
    }

    /// Step 2, on the binder's table: a new port connected to
    /// `remote_dom`'s `remote_port`.
    pub fn alloc_interdomain(
        &mut self,
        remote_dom: DomId,
        remote_port: Port,
    ) -> Result<Port, Errno> {
        self.alloc(
            Binding::Interdomain {
                dom: remote_dom,
                port: remote_port,
            },
            0,
        )
    }

    /// Step 3, on the remote table: its unbound `port` now points at the
    /// binder's new port. It keeps its notify vCPU.
    pub fn connect(&mut self, port: Port, binder: DomId, binder_port: Port) {
        if let Some(p) = self.ports.get_mut(port as usize) {
            p.binding = Binding::Interdomain {
                dom: binder,
                port: binder_port,
            };
        }
    }

    /// Frees `port` (EVTCHNOP_close) and returns what it was bound to; for
    /// an interdomain port the caller must [`disconnect`](Self::disconnect)
    /// the peer. Hypervisor ports cannot be closed by the guest.
    pub fn close(&mut self, port: Port) -> Result<Binding, Errno> {
        let info = self.get(port)?;
        if info.binding == Binding::Hypervisor {
            return Err(errno::EINVAL);
        }
        self.ports[port as usize] = FREE;
        Ok(info.binding)
    }

    /// Frees every port (domain teardown), returning the interdomain peers
    /// to disconnect.
    pub fn close_all(&mut self) -> Vec<(DomId, Port)> {
        let peers = self
            .ports
            .iter()
            .filter_map(|p| match p.binding {
                Binding::Interdomain { dom, port } => Some((dom, port)),
                _ => None,
            })
            .collect();
        self.ports.truncate(1);
        peers
    }

    /// The peer of a closed interdomain port: `port` becomes unbound again,
    /// reserved for `closer` (who could bind it anew), if it still points
    /// at `closer_port`.
    pub fn disconnect(&mut self, port: Port, closer: DomId, closer_port: Port) {
        if let Some(p) = self.ports.get_mut(port as usize) {
            if p.binding
                == (Binding::Interdomain {
                    dom: closer,
                    port: closer_port,
                })
            {
                p.binding = Binding::Unbound { remote: closer };
            }
        }
    }

    /// EVTCHNOP_bind_vcpu: allowed for unbound, interdomain and global VIRQ
    /// ports; per-vCPU VIRQs and IPIs stay where they are (-EINVAL).
    pub fn bind_vcpu(&mut self, port: Port, vcpu: u32, nr_vcpus: u32) -> Result<(), Errno> {
        if vcpu >= nr_vcpus {
            return Err(errno::ENOENT);
        }
        let info = self.get(port)?;
        match info.binding {
            Binding::Unbound { .. } | Binding::Interdomain { .. } | Binding::Hypervisor => {}
            Binding::Virq(v) if !is_per_vcpu_virq(v) => {}
            _ => return Err(errno::EINVAL),
        }
        self.ports[port as usize].vcpu = vcpu;
        Ok(())
    }

    /// What EVTCHNOP_status reports: the state and the notified vCPU.
    pub fn status(&self, port: Port) -> Result<(EvtchnState, u32), Errno> {
        if port == 0 || port >= self.max_ports.max(self.ports.len() as u32) {
            return Err(errno::EINVAL);
        }
        let Ok(info) = self.get(port) else {
            return Ok((EvtchnState::Closed, 0));
        };
        let state = match info.binding {
            Binding::Free => EvtchnState::Closed,
            Binding::Unbound { remote } => EvtchnState::Unbound { dom: remote },
            Binding::Interdomain { dom, port } => EvtchnState::Interdomain { dom, port },
            Binding::Virq(v) => EvtchnState::Virq(v),
            Binding::Ipi => EvtchnState::Ipi,
            // The console's peer is the hypervisor; show it as unbound to dom0.
            Binding::Hypervisor => EvtchnState::Unbound { dom: 0 },
        };
        Ok((state, info.vcpu))
    }

    /// Ports in use (for diagnostics and leak checks).
    pub fn ports_in_use(&self) -> usize {
        self.ports
            .iter()
            .skip(1)
            .filter(|p| p.binding != Binding::Free)
            .count()
    }
}

#[cfg(test)]
mod tests;
