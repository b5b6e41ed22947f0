//! `memory_op` sub-operations and structures (`memory.h`), and the reserved
//! domain ids (`xen.h`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::DomId;

pub const XENMEM_INCREASE_RESERVATION: u64 = 0;
pub const XENMEM_DECREASE_RESERVATION: u64 = 1;
pub const XENMEM_MAXIMUM_RAM_PAGE: u64 = 2;
pub const XENMEM_CURRENT_RESERVATION: u64 = 3;
pub const XENMEM_MAXIMUM_RESERVATION: u64 = 4;
pub const XENMEM_MACHPHYS_MFN_LIST: u64 = 5;
pub const XENMEM_POPULATE_PHYSMAP: u64 = 6;
pub const XENMEM_ADD_TO_PHYSMAP: u64 = 7;
pub const XENMEM_MEMORY_MAP: u64 = 9;
pub const XENMEM_MACHINE_MEMORY_MAP: u64 = 10;
pub const XENMEM_EXCHANGE: u64 = 11;
pub const XENMEM_MACHPHYS_MAPPING: u64 = 12;
pub const XENMEM_SET_MEMORY_MAP: u64 = 13;
pub const XENMEM_MAXIMUM_GPFN: u64 = 14;
pub const XENMEM_REMOVE_FROM_PHYSMAP: u64 = 15;
pub const XENMEM_SET_POD_TARGET: u64 = 16;
pub const XENMEM_GET_POD_TARGET: u64 = 17;
pub const XENMEM_GET_SHARING_FREED_PAGES: u64 = 18;
pub const XENMEM_GET_SHARING_SHARED_PAGES: u64 = 19;
pub const XENMEM_PAGING_OP: u64 = 20;
pub const XENMEM_ACCESS_OP: u64 = 21;
pub const XENMEM_SHARING_OP: u64 = 22;
pub const XENMEM_ADD_TO_PHYSMAP_BATCH: u64 = 23;
pub const XENMEM_CLAIM_PAGES: u64 = 24;
pub const XENMEM_MACHPHYS_COMPAT_MFN_LIST: u64 = 25;
pub const XENMEM_GET_VNUMAINFO: u64 = 26;
pub const XENMEM_RESERVED_DEVICE_MEMORY_MAP: u64 = 27;
pub const XENMEM_ACQUIRE_RESOURCE: u64 = 28;

/// Map the domain's `shared_info` page (`idx` must be 0).
pub const XENMAPSPACE_SHARED_INFO: u32 = 0;
/// Map grant-table frame `idx` (or status frame with [`XENMAPIDX_GRANT_TABLE_STATUS`]).
pub const XENMAPSPACE_GRANT_TABLE: u32 = 1;
/// Move the guest's own frame `idx` to `gpfn`.
pub const XENMAPSPACE_GMFN: u32 = 2;
/// Like [`XENMAPSPACE_GMFN`] for `size` frames (not in the batch call).
pub const XENMAPSPACE_GMFN_RANGE: u32 = 3;
/// Map a frame of another domain (batch call only).
pub const XENMAPSPACE_GMFN_FOREIGN: u32 = 4;
/// Map device MMIO (ARM).
pub const XENMAPSPACE_DEV_MMIO: u32 = 5;
/// Flag in `idx` for [`XENMAPSPACE_GRANT_TABLE`]: a v2 status frame.
pub const XENMAPIDX_GRANT_TABLE_STATUS: u64 = 0x8000_0000;

/// First reserved domain id; ids below it name real domains.
pub const DOMID_FIRST_RESERVED: DomId = 0x7FF0;
/// The calling domain.
pub const DOMID_SELF: DomId = 0x7FF0;
/// I/O memory pseudo-domain.
pub const DOMID_IO: DomId = 0x7FF1;
/// The hypervisor's own pages.
pub const DOMID_XEN: DomId = 0x7FF2;
/// Copy-on-write (shared) pages.
pub const DOMID_COW: DomId = 0x7FF3;
/// No domain.
pub const DOMID_INVALID: DomId = 0x7FF4;
/// Any domain (for example an unbound event channel's remote end).
pub const DOMID_ANY: DomId = 0x7FF5;
/// The idle domain.
pub const DOMID_IDLE: DomId = 0x7FFF;
/// Mask of valid domid bits.
pub const DOMID_MASK: DomId = 0x7FFF;

/// `struct xen_add_to_physmap` (`XENMEM_add_to_physmap`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenAddToPhysmap {
    /// Target domain ([`DOMID_SELF`]).
    pub domid: DomId,
    /// Frame count, for [`XENMAPSPACE_GMFN_RANGE`] only.
    pub size: u16,
    /// One of `XENMAPSPACE_*`.
    pub space: u32,
    /// Index within the space.
    pub idx: u64,
    /// Guest frame to map it at.
    pub gpfn: u64,
}

/// `struct xen_memory_map` (`XENMEM_memory_map`, `XENMEM_machine_memory_map`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenMemoryMap {
    /// IN: capacity of `buffer` in entries; OUT: entries written.
    pub nr_entries: u32,
    /// Padding.
    pub pad: u32,
    /// Guest address of an array of [`E820Entry`].
    pub buffer: u64,
}

/// `struct xen_memory_reservation` (increase/decrease reservation,
/// populate physmap).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenMemoryReservation {
    /// Guest address of an array of `nr_extents` frame numbers.
    pub extent_start: u64,
    /// Number of extents.
    pub nr_extents: u64,
    /// Each extent is `2^extent_order` pages.
    pub extent_order: u32,
    /// `XENMEMF_*` flags.
    pub mem_flags: u32,
    /// Target domain.
    pub domid: DomId,
    /// Padding.
    pub pad: [u8; 6],
}

/// `mem_flags`: bits 7:0 restrict the address width of allocated frames.
pub const XENMEMF_ADDRESS_BITS_MASK: u32 = 0xFF;
/// `mem_flags`: populate on demand.
pub const XENMEMF_POPULATE_ON_DEMAND: u32 = 1 << 16;
/// `mem_flags`: the NUMA node in bits 15:8 is a requirement.
pub const XENMEMF_EXACT_NODE_REQUEST: u32 = 1 << 17;
/// `mem_flags`: the node is a virtual node.
pub const XENMEMF_VNODE: u32 = 1 << 18;

/// One e820 memory-map entry, 20 bytes, packed.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C, packed)]
pub struct E820Entry {
    /// Start address.
    pub addr: u64,
    /// Length in bytes.
    pub size: u64,
    /// One of `E820_*`.
    pub kind: u32,
}

/// e820 type: usable RAM.
pub const E820_RAM: u32 = 1;
/// e820 type: reserved.
pub const E820_RESERVED: u32 = 2;
/// e820 type: ACPI tables.
pub const E820_ACPI: u32 = 3;
/// e820 type: ACPI non-volatile storage.
pub const E820_NVS: u32 = 4;
/// e820 type: unusable.
pub const E820_UNUSABLE: u32 = 5;

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<XenAddToPhysmap>() == 24);
    assert!(offset_of!(XenAddToPhysmap, domid) == 0);
    assert!(offset_of!(XenAddToPhysmap, size) == 2);
    assert!(offset_of!(XenAddToPhysmap, space) == 4);
    assert!(offset_of!(XenAddToPhysmap, idx) == 8);
    assert!(offset_of!(XenAddToPhysmap, gpfn) == 16);

    assert!(size_of::<XenMemoryMap>() == 16);
    assert!(offset_of!(XenMemoryMap, nr_entries) == 0);
    assert!(offset_of!(XenMemoryMap, buffer) == 8);

    assert!(size_of::<XenMemoryReservation>() == 32);
    assert!(offset_of!(XenMemoryReservation, extent_start) == 0);
    assert!(offset_of!(XenMemoryReservation, nr_extents) == 8);
    assert!(offset_of!(XenMemoryReservation, extent_order) == 16);
    assert!(offset_of!(XenMemoryReservation, mem_flags) == 20);
    assert!(offset_of!(XenMemoryReservation, domid) == 24);

    assert!(size_of::<E820Entry>() == 20);
    assert!(offset_of!(E820Entry, addr) == 0);
    assert!(offset_of!(E820Entry, size) == 8);
    assert!(offset_of!(E820Entry, kind) == 16);
};
