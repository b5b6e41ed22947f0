//! The bits of Xen's public ABI the probe uses: rxen's own `rxen-xen-abi`
//! crate (the same numbers the hypervisor uses), plus a few sub-op masks
//! and commands that crate does not need.

pub use rxen_xen_abi::console::*;
pub use rxen_xen_abi::evtchn::*;
pub use rxen_xen_abi::grant::*;
pub use rxen_xen_abi::hvm::*;
pub use rxen_xen_abi::hypercall::*;
pub use rxen_xen_abi::memory::*;
pub use rxen_xen_abi::sched::*;
pub use rxen_xen_abi::vcpu::*;
pub use rxen_xen_abi::version::*;

// Hypercall numbers (`__HYPERVISOR_*`).

// Domain ids.

// memory_op.
/// memory_op's sub-op is `cmd & 0x3F`; the rest is continuation state.
pub const MEMOP_CMD_MASK: u64 = 0x3F;
pub const XENMEM_RESOURCE_GRANT_TABLE: u16 = 1;

// hvm_op (sub-op is `op & 0xFF`).
pub const HVMOP_SET_MEM_TYPE: u64 = 8;
pub const HVMOP_CMD_MASK: u64 = 0xFF;

// vcpu_op.

// event_channel_op.

// sched_op.

// grant_table_op (sub-op is `cmd & 0xFFF` of the 32-bit cmd).
pub const GNTTABOP_CMD_MASK: u64 = 0xFFF;
/// `sizeof(struct gnttab_map_grant_ref)`.
pub const GNTTAB_MAP_SIZE: usize = 32;
/// `sizeof(struct gnttab_copy)`.
pub const GNTTAB_COPY_SIZE: usize = 40;

// xen_version.

// console_io.

// physdev_op: commands that register guest frames the hypervisor writes.
pub const PHYSDEVOP_PIRQ_EOI_GMFN_V1: u64 = 17;
pub const PHYSDEVOP_PIRQ_EOI_GMFN_V2: u64 = 28;

// domctl / sysctl / platform_op (Xen 4.17 interface versions).
pub const XEN_DOMCTL_INTERFACE_VERSION: u32 = 0x15;
pub const XEN_DOMCTL_DESTROYDOMAIN: u32 = 2;
pub const XEN_SYSCTL_INTERFACE_VERSION: u32 = 0x15;
pub const XEN_SYSCTL_READCONSOLE: u32 = 1;
pub const XENPF_INTERFACE_VERSION: u32 = 0x0300_0001;
pub const XENPF_SETTIME64: u32 = 62;
