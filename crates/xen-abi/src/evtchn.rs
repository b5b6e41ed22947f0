//! `event_channel_op` sub-operations and structures (`event_channel.h`) and
//! virtual IRQ numbers (`xen.h`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::{DomId, EvtchnPort};

pub const EVTCHNOP_BIND_INTERDOMAIN: u64 = 0;
pub const EVTCHNOP_BIND_VIRQ: u64 = 1;
pub const EVTCHNOP_BIND_PIRQ: u64 = 2;
pub const EVTCHNOP_CLOSE: u64 = 3;
pub const EVTCHNOP_SEND: u64 = 4;
pub const EVTCHNOP_STATUS: u64 = 5;
pub const EVTCHNOP_ALLOC_UNBOUND: u64 = 6;
pub const EVTCHNOP_BIND_IPI: u64 = 7;
pub const EVTCHNOP_BIND_VCPU: u64 = 8;
pub const EVTCHNOP_UNMASK: u64 = 9;
pub const EVTCHNOP_RESET: u64 = 10;
/// FIFO ABI setup; answering `-ENOSYS` keeps a guest on the 2-level ABI.
pub const EVTCHNOP_INIT_CONTROL: u64 = 11;
pub const EVTCHNOP_EXPAND_ARRAY: u64 = 12;
pub const EVTCHNOP_SET_PRIORITY: u64 = 13;
pub const EVTCHNOP_RESET_CONT: u64 = 14;

/// Ports of the 2-level ABI on a 64-bit guest (64 words of 64 bits).
pub const NR_EVENT_CHANNELS: u32 = 4096;

pub const EVTCHNSTAT_CLOSED: u32 = 0;
pub const EVTCHNSTAT_UNBOUND: u32 = 1;
pub const EVTCHNSTAT_INTERDOMAIN: u32 = 2;
pub const EVTCHNSTAT_PIRQ: u32 = 3;
pub const EVTCHNSTAT_VIRQ: u32 = 4;
pub const EVTCHNSTAT_IPI: u32 = 5;

// Virtual IRQs. Per-vCPU: TIMER, DEBUG, XENOPROF, XENPMU; the rest are global.
pub const VIRQ_TIMER: u32 = 0;
pub const VIRQ_DEBUG: u32 = 1;
pub const VIRQ_CONSOLE: u32 = 2;
pub const VIRQ_DOM_EXC: u32 = 3;
pub const VIRQ_TBUF: u32 = 4;
pub const VIRQ_DEBUGGER: u32 = 6;
pub const VIRQ_XENOPROF: u32 = 7;
pub const VIRQ_CON_RING: u32 = 8;
pub const VIRQ_PCPU_STATE: u32 = 9;
pub const VIRQ_MEM_EVENT: u32 = 10;
pub const VIRQ_ARGO: u32 = 11;
pub const VIRQ_ENOMEM: u32 = 12;
pub const VIRQ_XENPMU: u32 = 13;
/// First architecture-specific VIRQ (16..=23).
pub const VIRQ_ARCH_0: u32 = 16;
/// Number of VIRQ numbers.
pub const NR_VIRQS: u32 = 24;
/// x86 architecture VIRQ 0: machine-check events for dom0 (global).
pub const VIRQ_MCA: u32 = VIRQ_ARCH_0;
pub const VIRQ_ARCH_1: u32 = 17;
pub const VIRQ_ARCH_2: u32 = 18;
pub const VIRQ_ARCH_3: u32 = 19;
pub const VIRQ_ARCH_4: u32 = 20;
pub const VIRQ_ARCH_5: u32 = 21;
pub const VIRQ_ARCH_6: u32 = 22;
pub const VIRQ_ARCH_7: u32 = 23;

/// Whether `virq` is global (bound once per domain, on any vCPU, and for the
/// dom0-only ones re-routable with `XEN_DOMCTL_set_virq_handler`) rather
/// than per-vCPU. As in Xen 4.17: TIMER, DEBUG, XENOPROF and XENPMU are
/// per-vCPU; every other VIRQ, ARGO and the x86 architecture VIRQs
/// included, is global. `false` for numbers ≥ [`NR_VIRQS`].
pub const fn is_global_virq(virq: u32) -> bool {
    virq < NR_VIRQS && !matches!(virq, VIRQ_TIMER | VIRQ_DEBUG | VIRQ_XENOPROF | VIRQ_XENPMU)
}

/// `struct evtchn_alloc_unbound`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnAllocUnbound {
    /// Domain that owns the new port (`DOMID_SELF`).
    pub dom: DomId,
    /// Domain allowed to bind to it.
    pub remote_dom: DomId,
    /// OUT: the new port.
    pub port: EvtchnPort,
}

/// `struct evtchn_bind_interdomain`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnBindInterdomain {
    /// Domain of the unbound remote port.
    pub remote_dom: DomId,
    /// Padding.
    pub pad: u16,
    /// The remote port.
    pub remote_port: EvtchnPort,
    /// OUT: the new local port.
    pub local_port: EvtchnPort,
}

/// `struct evtchn_bind_virq`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnBindVirq {
    /// `VIRQ_*`.
    pub virq: u32,
    /// vCPU to deliver to.
    pub vcpu: u32,
    /// OUT: the new port.
    pub port: EvtchnPort,
}

/// `struct evtchn_bind_pirq`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnBindPirq {
    /// Physical IRQ.
    pub pirq: u32,
    /// `BIND_PIRQ__WILL_SHARE` (1).
    pub flags: u32,
    /// OUT: the new port.
    pub port: EvtchnPort,
}

/// `struct evtchn_bind_ipi`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnBindIpi {
    /// vCPU to deliver to.
    pub vcpu: u32,
    /// OUT: the new port.
    pub port: EvtchnPort,
}

/// `struct evtchn_close`, `evtchn_send` and `evtchn_unmask`: one port.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnPortArg {
    /// The port.
    pub port: EvtchnPort,
}

/// `struct evtchn_close`.
pub type EvtchnClose = EvtchnPortArg;
/// `struct evtchn_send`.
pub type EvtchnSend = EvtchnPortArg;
/// `struct evtchn_unmask`.
pub type EvtchnUnmask = EvtchnPortArg;

/// `struct evtchn_status`. The trailing union is kept as two words; fill
/// it with [`EvtchnStatus::set`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnStatus {
    /// IN: domain owning the port.
    pub dom: DomId,
    /// Padding.
    pub pad: u16,
    /// IN: the port.
    pub port: EvtchnPort,
    /// OUT: `EVTCHNSTAT_*`.
    pub status: u32,
    /// OUT: vCPU the port is bound to.
    pub vcpu: u32,
    /// OUT: `unbound.dom` (u16 at word 0), `interdomain.{dom, port}`
    /// (u16 at word 0, port at word 1), `pirq` or `virq` (word 0).
    pub u: [u32; 2],
}

/// What [`EvtchnStatus`] reports about a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvtchnState {
    /// Not in use.
    Closed,
    /// Waiting for `dom` to bind.
    Unbound {
        /// The domain allowed to bind.
        dom: DomId,
    },
    /// Connected to `port` of `dom`.
    Interdomain {
        /// Peer domain.
        dom: DomId,
        /// Peer port.
        port: EvtchnPort,
    },
    /// Bound to a physical IRQ.
    Pirq(u32),
    /// Bound to a virtual IRQ.
    Virq(u32),
    /// An IPI port.
    Ipi,
}

impl EvtchnStatus {
    /// Fills the OUT fields for a port in `state`, bound to `vcpu`.
    pub fn set(&mut self, vcpu: u32, state: EvtchnState) {
        let (status, u) = match state {
            EvtchnState::Closed => (EVTCHNSTAT_CLOSED, [0, 0]),
            EvtchnState::Unbound { dom } => (EVTCHNSTAT_UNBOUND, [u32::from(dom), 0]),
            EvtchnState::Interdomain { dom, port } => {
                (EVTCHNSTAT_INTERDOMAIN, [u32::from(dom), port])
            }
            EvtchnState::Pirq(pirq) => (EVTCHNSTAT_PIRQ, [pirq, 0]),
            EvtchnState::Virq(virq) => (EVTCHNSTAT_VIRQ, [virq, 0]),
            EvtchnState::Ipi => (EVTCHNSTAT_IPI, [0, 0]),
        };
        self.status = status;
        self.vcpu = vcpu;
        self.u = u;
    }
}

/// `struct evtchn_bind_vcpu`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnBindVcpu {
    /// The port.
    pub port: EvtchnPort,
    /// New target vCPU.
    pub vcpu: u32,
}

/// `struct evtchn_reset`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnReset {
    /// Domain whose ports are closed.
    pub dom: DomId,
}

/// `struct evtchn_init_control` (FIFO ABI).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnInitControl {
    /// Guest frame of the control block.
    pub control_gfn: u64,
    /// Offset of the control block in that frame.
    pub offset: u32,
    /// vCPU the block belongs to.
    pub vcpu: u32,
    /// OUT: bits in a FIFO link field.
    pub link_bits: u8,
    /// Padding.
    pub pad: [u8; 7],
}

/// `struct evtchn_expand_array` (FIFO ABI).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnExpandArray {
    /// Guest frame of the next event-array page.
    pub array_gfn: u64,
}

/// `struct evtchn_set_priority` (FIFO ABI).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct EvtchnSetPriority {
    /// The port.
    pub port: EvtchnPort,
    /// Priority (0 highest).
    pub priority: u32,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<EvtchnAllocUnbound>() == 8);
    assert!(offset_of!(EvtchnAllocUnbound, remote_dom) == 2);
    assert!(offset_of!(EvtchnAllocUnbound, port) == 4);
    assert!(size_of::<EvtchnBindInterdomain>() == 12);
    assert!(offset_of!(EvtchnBindInterdomain, remote_port) == 4);
    assert!(offset_of!(EvtchnBindInterdomain, local_port) == 8);
    assert!(size_of::<EvtchnBindVirq>() == 12);
    assert!(offset_of!(EvtchnBindVirq, vcpu) == 4);
    assert!(offset_of!(EvtchnBindVirq, port) == 8);
    assert!(size_of::<EvtchnBindPirq>() == 12);
    assert!(size_of::<EvtchnBindIpi>() == 8);
    assert!(offset_of!(EvtchnBindIpi, port) == 4);
    assert!(size_of::<EvtchnPortArg>() == 4);
    assert!(size_of::<EvtchnStatus>() == 24);
    assert!(offset_of!(EvtchnStatus, port) == 4);
    assert!(offset_of!(EvtchnStatus, status) == 8);
    assert!(offset_of!(EvtchnStatus, vcpu) == 12);
    assert!(offset_of!(EvtchnStatus, u) == 16);
    assert!(size_of::<EvtchnBindVcpu>() == 8);
    assert!(offset_of!(EvtchnBindVcpu, vcpu) == 4);
    assert!(size_of::<EvtchnReset>() == 2);
    assert!(size_of::<EvtchnInitControl>() == 24);
    assert!(offset_of!(EvtchnInitControl, offset) == 8);
    assert!(offset_of!(EvtchnInitControl, vcpu) == 12);
    assert!(offset_of!(EvtchnInitControl, link_bits) == 16);
    assert!(size_of::<EvtchnExpandArray>() == 8);
    assert!(size_of::<EvtchnSetPriority>() == 8);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_union() {
        let mut st = EvtchnStatus::default();
        st.set(1, EvtchnState::Interdomain { dom: 7, port: 9 });
        let b = st.as_bytes();
        assert_eq!(b[8..12], EVTCHNSTAT_INTERDOMAIN.to_le_bytes());
        assert_eq!(b[12..16], 1u32.to_le_bytes());
        assert_eq!(b[16..18], 7u16.to_le_bytes());
        assert_eq!(b[20..24], 9u32.to_le_bytes());
        st.set(0, EvtchnState::Virq(VIRQ_TIMER));
        assert_eq!((st.status, st.u), (EVTCHNSTAT_VIRQ, [0, 0]));
    }

    #[test]
    fn global_virqs() {
        for virq in [VIRQ_TIMER, VIRQ_DEBUG, VIRQ_XENOPROF, VIRQ_XENPMU] {
            assert!(!is_global_virq(virq), "{virq}");
        }
        for virq in [
            VIRQ_CONSOLE,
            VIRQ_DOM_EXC,
            VIRQ_TBUF,
            VIRQ_DEBUGGER,
            VIRQ_CON_RING,
            VIRQ_PCPU_STATE,
            VIRQ_MEM_EVENT,
            VIRQ_ARGO,
            VIRQ_ENOMEM,
            VIRQ_MCA,
            VIRQ_ARCH_7,
        ] {
            assert!(is_global_virq(virq), "{virq}");
        }
        assert_eq!(VIRQ_MCA, 16);
        assert!(!is_global_virq(NR_VIRQS));
    }
}
