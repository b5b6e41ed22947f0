//! `grant_table_op` sub-operations, grant entries and structures
//! (`grant_table.h`), version 1.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::{DomId, GrantHandle, GrantRef};

pub const GNTTABOP_MAP_GRANT_REF: u64 = 0;
pub const GNTTABOP_UNMAP_GRANT_REF: u64 = 1;
pub const GNTTABOP_SETUP_TABLE: u64 = 2;
pub const GNTTABOP_DUMP_TABLE: u64 = 3;
pub const GNTTABOP_TRANSFER: u64 = 4;
pub const GNTTABOP_COPY: u64 = 5;
pub const GNTTABOP_QUERY_SIZE: u64 = 6;
pub const GNTTABOP_UNMAP_AND_REPLACE: u64 = 7;
pub const GNTTABOP_SET_VERSION: u64 = 8;
pub const GNTTABOP_GET_STATUS_FRAMES: u64 = 9;
pub const GNTTABOP_GET_VERSION: u64 = 10;
pub const GNTTABOP_SWAP_GRANT_REF: u64 = 11;
pub const GNTTABOP_CACHE_FLUSH: u64 = 12;

/// Refs below this are reserved for the toolstack.
pub const GNTTAB_NR_RESERVED_ENTRIES: GrantRef = 8;
/// Reserved ref for the console ring.
pub const GNTTAB_RESERVED_CONSOLE: GrantRef = 0;
/// Reserved ref for the XenStore ring.
pub const GNTTAB_RESERVED_XENSTORE: GrantRef = 1;
/// v1 entries per 4 KiB grant-table frame.
pub const GRANT_ENTRIES_V1_PER_FRAME: usize = crate::PAGE_SIZE / 8;

// `GrantEntryV1::flags`. Bits 1:0 are the entry type.
pub const GTF_INVALID: u16 = 0;
pub const GTF_PERMIT_ACCESS: u16 = 1;
pub const GTF_ACCEPT_TRANSFER: u16 = 2;
/// v2 only.
pub const GTF_TRANSITIVE: u16 = 3;
pub const GTF_TYPE_MASK: u16 = 3;
/// Set by the granter: the grantee may only read.
pub const GTF_READONLY: u16 = 1 << 2;
/// Set by the hypervisor while the frame is mapped or copied for reading.
pub const GTF_READING: u16 = 1 << 3;
/// Set by the hypervisor while the frame is mapped or copied for writing.
pub const GTF_WRITING: u16 = 1 << 4;
pub const GTF_PWT: u16 = 1 << 5;
pub const GTF_PCD: u16 = 1 << 6;
pub const GTF_PAT: u16 = 1 << 7;
/// v2 only.
pub const GTF_SUB_PAGE: u16 = 1 << 8;
/// Transfer entries: the hypervisor committed to the transfer.
pub const GTF_TRANSFER_COMMITTED: u16 = 1 << 2;
/// Transfer entries: the transfer finished.
pub const GTF_TRANSFER_COMPLETED: u16 = 1 << 3;

// `GnttabMapGrantRef::flags`.
pub const GNTMAP_DEVICE_MAP: u32 = 1 << 0;
pub const GNTMAP_HOST_MAP: u32 = 1 << 1;
pub const GNTMAP_READONLY: u32 = 1 << 2;
pub const GNTMAP_APPLICATION_MAP: u32 = 1 << 3;
pub const GNTMAP_CONTAINS_PTE: u32 = 1 << 4;
/// Bits left to the guest.
pub const GNTMAP_GUEST_AVAIL_MASK: u32 = !0 << 16;

// `GnttabCopy::flags`.
pub const GNTCOPY_SOURCE_GREF: u16 = 1 << 0;
pub const GNTCOPY_DEST_GREF: u16 = 1 << 1;

// Per-operation status codes (`GNTST_*`).
pub const GNTST_OKAY: i16 = 0;
pub const GNTST_GENERAL_ERROR: i16 = -1;
pub const GNTST_BAD_DOMAIN: i16 = -2;
pub const GNTST_BAD_GNTREF: i16 = -3;
pub const GNTST_BAD_HANDLE: i16 = -4;
pub const GNTST_BAD_VIRT_ADDR: i16 = -5;
pub const GNTST_BAD_DEV_ADDR: i16 = -6;
pub const GNTST_NO_DEVICE_SPACE: i16 = -7;
pub const GNTST_PERMISSION_DENIED: i16 = -8;
pub const GNTST_BAD_PAGE: i16 = -9;
pub const GNTST_BAD_COPY_ARG: i16 = -10;
pub const GNTST_ADDRESS_TOO_BIG: i16 = -11;
pub const GNTST_EAGAIN: i16 = -12;
pub const GNTST_NO_SPACE: i16 = -13;

/// `struct grant_entry_v1`, written by the granting guest.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct GrantEntryV1 {
    /// `GTF_*`.
    pub flags: u16,
    /// Domain allowed to use the grant.
    pub domid: DomId,
    /// Granted guest frame.
    pub frame: u32,
}

/// `struct gnttab_map_grant_ref`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct GnttabMapGrantRef {
    /// Where to map: a guest-physical address for an auto-translated guest.
    pub host_addr: u64,
    /// `GNTMAP_*`.
    pub flags: u32,
    /// Grant reference in `dom`'s table.
    pub gref: GrantRef,
    /// Granting domain.
    pub dom: DomId,
    /// OUT: `GNTST_*`.
    pub status: i16,
    /// OUT: handle for the unmap.
    pub handle: GrantHandle,
    /// OUT: bus address (device maps).
    pub dev_bus_addr: u64,
}

/// `struct gnttab_unmap_grant_ref`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct GnttabUnmapGrantRef {
    /// Address given to the map call.
    pub host_addr: u64,
    /// Bus address given back by the map call.
    pub dev_bus_addr: u64,
    /// Handle from the map call.
    pub handle: GrantHandle,
    /// OUT: `GNTST_*`.
    pub status: i16,
    /// Padding.
    pub pad: u16,
}

/// `struct gnttab_setup_table` (PV path).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct GnttabSetupTable {
    /// Domain whose table is set up.
    pub dom: DomId,
    /// Padding.
    pub pad0: u16,
    /// Number of frames wanted.
    pub nr_frames: u32,
    /// OUT: `GNTST_*`.
    pub status: i16,
    /// Padding.
    pub pad1: [u16; 3],
    /// Guest address of an array receiving `nr_frames` frame numbers.
    pub frame_list: u64,
}

/// One side of a [`GnttabCopy`] (`struct gnttab_copy_ptr`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct GnttabCopyPtr {
    /// A grant ref (low 32 bits) with the `*_GREF` flag, otherwise a local gfn.
    pub u: u64,
    /// Owning domain.
    pub domid: DomId,
    /// Byte offset within the page.
    pub offset: u16,
    /// Padding.
    pub pad: u32,
}

/// `struct gnttab_copy`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct GnttabCopy {
    /// Source.
    pub source: GnttabCopyPtr,
    /// Destination.
    pub dest: GnttabCopyPtr,
    /// Bytes to copy; neither side may cross a page boundary.
    pub len: u16,
    /// `GNTCOPY_*`.
    pub flags: u16,
    /// OUT: `GNTST_*`.
    pub status: i16,
    /// Padding.
    pub pad: u16,
}

/// `struct gnttab_query_size`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct GnttabQuerySize {
    /// Domain asked about (`DOMID_SELF`).
    pub dom: DomId,
    /// Padding.
    pub pad0: u16,
    /// OUT: current frames.
    pub nr_frames: u32,
    /// OUT: maximum frames.
    pub max_nr_frames: u32,
    /// OUT: `GNTST_*`.
    pub status: i16,
    /// Padding.
    pub pad1: u16,
}

/// `struct gnttab_set_version`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct GnttabSetVersion {
    /// IN: wanted version; OUT: version in effect.
    pub version: u32,
}

/// `struct gnttab_get_version`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct GnttabGetVersion {
    /// Domain asked about.
    pub dom: DomId,
    /// Padding.
    pub pad: u16,
    /// OUT: its version.
    pub version: u32,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<GrantEntryV1>() == 8);
    assert!(offset_of!(GrantEntryV1, domid) == 2);
    assert!(offset_of!(GrantEntryV1, frame) == 4);

    assert!(size_of::<GnttabMapGrantRef>() == 32);
    assert!(offset_of!(GnttabMapGrantRef, flags) == 8);
    assert!(offset_of!(GnttabMapGrantRef, gref) == 12);
    assert!(offset_of!(GnttabMapGrantRef, dom) == 16);
    assert!(offset_of!(GnttabMapGrantRef, status) == 18);
    assert!(offset_of!(GnttabMapGrantRef, handle) == 20);
    assert!(offset_of!(GnttabMapGrantRef, dev_bus_addr) == 24);

    assert!(size_of::<GnttabUnmapGrantRef>() == 24);
    assert!(offset_of!(GnttabUnmapGrantRef, dev_bus_addr) == 8);
    assert!(offset_of!(GnttabUnmapGrantRef, handle) == 16);
    assert!(offset_of!(GnttabUnmapGrantRef, status) == 20);

    assert!(size_of::<GnttabSetupTable>() == 24);
    assert!(offset_of!(GnttabSetupTable, nr_frames) == 4);
    assert!(offset_of!(GnttabSetupTable, status) == 8);
    assert!(offset_of!(GnttabSetupTable, frame_list) == 16);

    assert!(size_of::<GnttabCopyPtr>() == 16);
    assert!(offset_of!(GnttabCopyPtr, domid) == 8);
    assert!(offset_of!(GnttabCopyPtr, offset) == 10);
    assert!(size_of::<GnttabCopy>() == 40);
    assert!(offset_of!(GnttabCopy, dest) == 16);
    assert!(offset_of!(GnttabCopy, len) == 32);
    assert!(offset_of!(GnttabCopy, flags) == 34);
    assert!(offset_of!(GnttabCopy, status) == 36);

    assert!(size_of::<GnttabQuerySize>() == 16);
    assert!(offset_of!(GnttabQuerySize, nr_frames) == 4);
    assert!(offset_of!(GnttabQuerySize, max_nr_frames) == 8);
    assert!(offset_of!(GnttabQuerySize, status) == 12);

    assert!(size_of::<GnttabSetVersion>() == 4);
    assert!(size_of::<GnttabGetVersion>() == 8);
    assert!(offset_of!(GnttabGetVersion, version) == 4);
};
