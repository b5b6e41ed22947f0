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

/// `struct xen_add_to_physmap_batch` (`XENMEM_add_to_physmap_batch`; Linux
/// calls it `_range`). A PVH dom0's privcmd issues one per foreign page.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenAddToPhysmapBatch {
    /// Domain whose physmap changes ([`DOMID_SELF`]).
    pub domid: DomId,
    /// One of `XENMAPSPACE_*` (not [`XENMAPSPACE_GMFN_RANGE`]).
    pub space: u16,
    /// Entries in the three arrays.
    pub size: u16,
    /// Source domain for [`XENMAPSPACE_GMFN_FOREIGN`], else 0 (`u.res0`).
    pub foreign_domid: DomId,
    /// Guest address of `size` u64 indices into the space (foreign gfns).
    pub idxs: u64,
    /// Guest address of `size` u64 gfns in `domid` to map them at.
    pub gpfns: u64,
    /// Guest address of `size` i32 per-entry results (OUT).
    pub errs: u64,
}

/// `struct xen_remove_from_physmap` (`XENMEM_remove_from_physmap`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenRemoveFromPhysmap {
    /// Domain whose physmap changes.
    pub domid: DomId,
    /// Padding.
    pub pad: [u8; 6],
    /// Gfn to unmap.
    pub gpfn: u64,
}

// `XenMemAcquireResource::kind`.
/// An ioreq server's pages (device models).
pub const XENMEM_RESOURCE_IOREQ_SERVER: u16 = 0;
/// Grant-table frames ([`XENMEM_RESOURCE_GRANT_TABLE_ID_SHARED`] or `_STATUS`).
pub const XENMEM_RESOURCE_GRANT_TABLE: u16 = 1;
/// A vCPU's processor-trace buffer.
pub const XENMEM_RESOURCE_VMTRACE_BUF: u16 = 2;
// `id` for XENMEM_RESOURCE_GRANT_TABLE.
/// The shared (entry) frames.
pub const XENMEM_RESOURCE_GRANT_TABLE_ID_SHARED: u32 = 0;
/// The v2 status frames.
pub const XENMEM_RESOURCE_GRANT_TABLE_ID_STATUS: u32 = 1;
/// `frame` of an ioreq server: the buffered-ioreq page.
pub const XENMEM_RESOURCE_IOREQ_SERVER_FRAME_BUFIOREQ: u64 = 0;

/// `frame` of an ioreq server: synchronous ioreq page `n`.
pub const fn xenmem_resource_ioreq_server_frame_ioreq(n: u64) -> u64 {
    1 + n
}

/// `struct xen_mem_acquire_resource` (`XENMEM_acquire_resource`). Xen 4.17
/// has no `XENMEM_rsrc_acq_caller_owned` flag: `pad` must be zero on input
/// and is never written.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenMemAcquireResource {
    /// Domain owning the resource.
    pub domid: DomId,
    /// `XENMEM_RESOURCE_*` (C: `type`).
    pub kind: u16,
    /// Type-specific id (grant table: shared 0 / status 1).
    pub id: u32,
    /// IN: frames to map; OUT: the resource size when `frame_list` is 0 and
    /// this is 0.
    pub nr_frames: u32,
    /// Must be zero (else `-EINVAL`).
    pub pad: u32,
    /// First frame of the resource to map.
    pub frame: u64,
    /// Guest address of `nr_frames` u64s: for a translated caller the gfns
    /// to map at (IN), for a PV caller the mfns (OUT).
    pub frame_list: u64,
}

/// `struct xen_foreign_memory_map` (`XENMEM_set_memory_map`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenForeignMemoryMap {
    /// Domain whose e820 is set.
    pub domid: DomId,
    /// Padding.
    pub pad: [u8; 6],
    /// The map (entries are [`E820Entry`], 20 bytes each).
    pub map: XenMemoryMap,
}

/// `struct xen_pod_target` (`XENMEM_set_pod_target`, `_get_pod_target`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenPodTarget {
    /// IN: target in pages.
    pub target_pages: u64,
    /// OUT: pages allocated.
    pub tot_pages: u64,
    /// OUT: pages in the PoD cache.
    pub pod_cache_pages: u64,
    /// OUT: outstanding PoD entries.
    pub pod_entries: u64,
    /// IN: domain.
    pub domid: DomId,
    /// Padding.
    pub pad: [u8; 6],
}

/// `struct xen_memory_exchange` (`XENMEM_exchange`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenMemoryExchange {
    /// Extents given up.
    pub input: XenMemoryReservation,
    /// Extents wanted instead (same total size).
    pub output: XenMemoryReservation,
    /// IN/OUT: input extents already exchanged (continuations).
    pub nr_exchanged: u64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<XenAddToPhysmapBatch>() == 32);
    assert!(offset_of!(XenAddToPhysmapBatch, domid) == 0);
    assert!(offset_of!(XenAddToPhysmapBatch, space) == 2);
    assert!(offset_of!(XenAddToPhysmapBatch, size) == 4);
    assert!(offset_of!(XenAddToPhysmapBatch, foreign_domid) == 6);
    assert!(offset_of!(XenAddToPhysmapBatch, idxs) == 8);
    assert!(offset_of!(XenAddToPhysmapBatch, gpfns) == 16);
    assert!(offset_of!(XenAddToPhysmapBatch, errs) == 24);

    assert!(size_of::<XenRemoveFromPhysmap>() == 16);
    assert!(offset_of!(XenRemoveFromPhysmap, domid) == 0);
    assert!(offset_of!(XenRemoveFromPhysmap, gpfn) == 8);

    assert!(size_of::<XenMemAcquireResource>() == 32);
    assert!(offset_of!(XenMemAcquireResource, domid) == 0);
    assert!(offset_of!(XenMemAcquireResource, kind) == 2);
    assert!(offset_of!(XenMemAcquireResource, id) == 4);
    assert!(offset_of!(XenMemAcquireResource, nr_frames) == 8);
    assert!(offset_of!(XenMemAcquireResource, pad) == 12);
    assert!(offset_of!(XenMemAcquireResource, frame) == 16);
    assert!(offset_of!(XenMemAcquireResource, frame_list) == 24);

    assert!(size_of::<XenForeignMemoryMap>() == 24);
    assert!(offset_of!(XenForeignMemoryMap, domid) == 0);
    assert!(offset_of!(XenForeignMemoryMap, map) == 8);

    assert!(size_of::<XenPodTarget>() == 40);
    assert!(offset_of!(XenPodTarget, target_pages) == 0);
    assert!(offset_of!(XenPodTarget, tot_pages) == 8);
    assert!(offset_of!(XenPodTarget, pod_cache_pages) == 16);
    assert!(offset_of!(XenPodTarget, pod_entries) == 24);
    assert!(offset_of!(XenPodTarget, domid) == 32);

    assert!(size_of::<XenMemoryExchange>() == 72);
    assert!(offset_of!(XenMemoryExchange, input) == 0);
    assert!(offset_of!(XenMemoryExchange, output) == 32);
    assert!(offset_of!(XenMemoryExchange, nr_exchanged) == 64);
};
