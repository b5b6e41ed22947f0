//! `hvm_op` sub-operations (`hvm/hvm_op.h`) and HVM parameters
//! (`hvm/params.h`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::DomId;

pub const HVMOP_SET_PARAM: u64 = 0;
pub const HVMOP_GET_PARAM: u64 = 1;
pub const HVMOP_SET_PCI_INTX_LEVEL: u64 = 2;
pub const HVMOP_SET_ISA_IRQ_LEVEL: u64 = 3;
pub const HVMOP_SET_PCI_LINK_ROUTE: u64 = 4;
pub const HVMOP_FLUSH_TLBS: u64 = 5;
pub const HVMOP_PAGETABLE_DYING: u64 = 9;
pub const HVMOP_GET_TIME: u64 = 10;
pub const HVMOP_XENTRACE: u64 = 11;
pub const HVMOP_SET_MEM_ACCESS: u64 = 12;
pub const HVMOP_GET_MEM_ACCESS: u64 = 13;
pub const HVMOP_GET_MEM_TYPE: u64 = 15;
pub const HVMOP_SET_EVTCHN_UPCALL_VECTOR: u64 = 23;
pub const HVMOP_GUEST_REQUEST_VM_EVENT: u64 = 24;
pub const HVMOP_ALTP2M: u64 = 25;

/// `struct xen_hvm_param` (`HVMOP_set_param`, `HVMOP_get_param`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenHvmParam {
    /// Target domain (`DOMID_SELF`).
    pub domid: DomId,
    /// Padding.
    pub pad: u16,
    /// One of `HVM_PARAM_*`.
    pub index: u32,
    /// IN for set, OUT for get.
    pub value: u64,
}

/// `struct xen_hvm_evtchn_upcall_vector` (`HVMOP_set_evtchn_upcall_vector`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenHvmSetEvtchnUpcallVector {
    /// The vCPU whose upcalls use `vector`.
    pub vcpu: u32,
    /// Vector raised in that vCPU's local APIC.
    pub vector: u8,
    /// Padding (C struct tail).
    pub pad: [u8; 3],
}

/// `struct xen_hvm_pagetable_dying` (`HVMOP_pagetable_dying`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenHvmPagetableDying {
    /// Target domain.
    pub domid: DomId,
    /// Padding.
    pub pad: [u16; 3],
    /// Guest-physical address of the top-level page table being torn down.
    pub gpa: u64,
}

/// `struct xen_hvm_get_time` (`HVMOP_get_time`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenHvmGetTime {
    /// OUT: current system time in ns.
    pub now: u64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<XenHvmParam>() == 16);
    assert!(offset_of!(XenHvmParam, domid) == 0);
    assert!(offset_of!(XenHvmParam, index) == 4);
    assert!(offset_of!(XenHvmParam, value) == 8);
    assert!(size_of::<XenHvmSetEvtchnUpcallVector>() == 8);
    assert!(offset_of!(XenHvmSetEvtchnUpcallVector, vcpu) == 0);
    assert!(offset_of!(XenHvmSetEvtchnUpcallVector, vector) == 4);
    assert!(size_of::<XenHvmPagetableDying>() == 16);
    assert!(offset_of!(XenHvmPagetableDying, gpa) == 8);
    assert!(size_of::<XenHvmGetTime>() == 8);
};

// Parameter indices (`HVM_PARAM_*`).
/// Event-channel upcall delivery; decode with [`callback_via`].
pub const HVM_PARAM_CALLBACK_IRQ: u32 = 0;
/// Guest frame of the XenStore ring (0: none, all-ones: later).
pub const HVM_PARAM_STORE_PFN: u32 = 1;
/// Event-channel port of the XenStore ring.
pub const HVM_PARAM_STORE_EVTCHN: u32 = 2;
pub const HVM_PARAM_PAE_ENABLED: u32 = 4;
pub const HVM_PARAM_IOREQ_PFN: u32 = 5;
pub const HVM_PARAM_BUFIOREQ_PFN: u32 = 6;
pub const HVM_PARAM_VIRIDIAN: u32 = 9;
pub const HVM_PARAM_TIMER_MODE: u32 = 10;
pub const HVM_PARAM_HPET_ENABLED: u32 = 11;
pub const HVM_PARAM_IDENT_PT: u32 = 12;
pub const HVM_PARAM_DM_DOMAIN: u32 = 13;
pub const HVM_PARAM_ACPI_S_STATE: u32 = 14;
pub const HVM_PARAM_VM86_TSS: u32 = 15;
pub const HVM_PARAM_VPT_ALIGN: u32 = 16;
/// Guest frame of the PV console ring ([`crate::console`]).
pub const HVM_PARAM_CONSOLE_PFN: u32 = 17;
/// Event-channel port of the PV console.
pub const HVM_PARAM_CONSOLE_EVTCHN: u32 = 18;
pub const HVM_PARAM_ACPI_IOPORTS_LOCATION: u32 = 19;
pub const HVM_PARAM_MEMORY_EVENT_CR0: u32 = 20;
pub const HVM_PARAM_MEMORY_EVENT_CR3: u32 = 21;
pub const HVM_PARAM_MEMORY_EVENT_CR4: u32 = 22;
pub const HVM_PARAM_MEMORY_EVENT_INT3: u32 = 23;
pub const HVM_PARAM_NESTEDHVM: u32 = 24;
pub const HVM_PARAM_MEMORY_EVENT_SINGLE_STEP: u32 = 25;
pub const HVM_PARAM_BUFIOREQ_EVTCHN: u32 = 26;
pub const HVM_PARAM_PAGING_RING_PFN: u32 = 27;
pub const HVM_PARAM_MONITOR_RING_PFN: u32 = 28;
pub const HVM_PARAM_SHARING_RING_PFN: u32 = 29;
pub const HVM_PARAM_MEMORY_EVENT_MSR: u32 = 30;
pub const HVM_PARAM_TRIPLE_FAULT_REASON: u32 = 31;
pub const HVM_PARAM_IOREQ_SERVER_PFN: u32 = 32;
pub const HVM_PARAM_NR_IOREQ_SERVER_PAGES: u32 = 33;
pub const HVM_PARAM_VM_GENERATION_ID_ADDR: u32 = 34;
pub const HVM_PARAM_ALTP2M: u32 = 35;
pub const HVM_PARAM_X87_FIP_WIDTH: u32 = 36;
pub const HVM_PARAM_VM86_TSS_SIZED: u32 = 37;
pub const HVM_PARAM_MCA_CAP: u32 = 38;
/// Number of parameter indices; valid indices are below it.
pub const HVM_NR_PARAMS: u32 = 39;

/// `HVM_PARAM_CALLBACK_IRQ`: bits 63:56 hold the delivery type.
pub const HVM_PARAM_CALLBACK_IRQ_TYPE_MASK: u64 = 0xFF00_0000_0000_0000;
/// Delivery type: a GSI in bits 55:0.
pub const HVM_PARAM_CALLBACK_TYPE_GSI: u8 = 0;
/// Delivery type: a PCI INTx line.
pub const HVM_PARAM_CALLBACK_TYPE_PCI_INTX: u8 = 1;
/// Delivery type (x86): a vector in bits 7:0.
pub const HVM_PARAM_CALLBACK_TYPE_VECTOR: u8 = 2;

/// A decoded `HVM_PARAM_CALLBACK_IRQ` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackVia {
    /// Value 0: no upcall delivery (GSI 0 cannot be named, it aliases this).
    Disabled,
    /// Upcalls assert this GSI of the emulated IO-APIC/PIC. PVH has neither;
    /// Linux's "per-vCPU vector" path writes 1 here only as a marker, and Xen
    /// ignores non-vector types for PVH.
    Gsi(u32),
    /// Upcalls assert a PCI INTx line (platform PCI device).
    PciIntx {
        /// PCI segment (bits 47:32).
        domain: u16,
        /// Bus (bits 23:16).
        bus: u8,
        /// Device and function (bits 15:8).
        devfn: u8,
        /// INTA..INTD as 0..3 (bits 1:0).
        intx: u8,
    },
    /// Upcalls inject this vector directly (no LAPIC, no EOI).
    Vector(u8),
    /// An unknown type, or a GSI that does not fit in 32 bits.
    Unknown,
}

/// Decodes an `HVM_PARAM_CALLBACK_IRQ` value.
pub const fn callback_via(value: u64) -> CallbackVia {
    if value == 0 {
        return CallbackVia::Disabled;
    }
    let payload = value & !HVM_PARAM_CALLBACK_IRQ_TYPE_MASK;
    match (value >> 56) as u8 {
        HVM_PARAM_CALLBACK_TYPE_GSI if payload <= u32::MAX as u64 => {
            CallbackVia::Gsi(payload as u32)
        }
        HVM_PARAM_CALLBACK_TYPE_PCI_INTX => CallbackVia::PciIntx {
            domain: (payload >> 32) as u16,
            bus: (payload >> 16) as u8,
            devfn: (payload >> 8) as u8,
            intx: (payload & 3) as u8,
        },
        HVM_PARAM_CALLBACK_TYPE_VECTOR => CallbackVia::Vector(payload as u8),
        _ => CallbackVia::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_via_decoding() {
        assert_eq!(callback_via(0), CallbackVia::Disabled);
        // What Linux writes for the global callback vector 0xF3.
        assert_eq!(
            callback_via(0x0200_0000_0000_00F3),
            CallbackVia::Vector(0xF3)
        );
        // The per-vCPU-vector marker.
        assert_eq!(callback_via(1), CallbackVia::Gsi(1));
        assert_eq!(callback_via(0x0000_0001_0000_0000), CallbackVia::Unknown);
        assert_eq!(
            callback_via(0x0100_0002_0003_1802),
            CallbackVia::PciIntx {
                domain: 2,
                bus: 3,
                devfn: 0x18,
                intx: 2
            }
        );
        assert_eq!(callback_via(0x0300_0000_0000_00F3), CallbackVia::Unknown);
        assert_eq!(callback_via(u64::MAX), CallbackVia::Unknown);
    }
}
