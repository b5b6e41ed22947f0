//! `xen_version` sub-operations (`version.h`) and feature bits (`features.h`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Returns `(major << 16) | minor` in RAX; no argument.
pub const XENVER_VERSION: u64 = 0;
/// Fills a [`XEN_EXTRAVERSION_LEN`]-byte string (".0", "-rc").
pub const XENVER_EXTRAVERSION: u64 = 1;
/// Fills a [`XenCompileInfo`].
pub const XENVER_COMPILE_INFO: u64 = 2;
/// Fills a [`XEN_CAPABILITIES_INFO_LEN`]-byte string ("hvm-3.0-x86_64 ...").
pub const XENVER_CAPABILITIES: u64 = 3;
/// Fills a [`XEN_CHANGESET_INFO_LEN`]-byte string.
pub const XENVER_CHANGESET: u64 = 4;
/// Fills a [`XenPlatformParameters`].
pub const XENVER_PLATFORM_PARAMETERS: u64 = 5;
/// Fills a [`XenFeatureInfo`].
pub const XENVER_GET_FEATURES: u64 = 6;
/// Returns the page size in RAX; no argument.
pub const XENVER_PAGESIZE: u64 = 7;
/// Fills a 16-byte guest handle (domain UUID).
pub const XENVER_GUEST_HANDLE: u64 = 8;
/// Fills a [`XEN_COMMANDLINE_LEN`]-byte string (hypervisor command line).
pub const XENVER_COMMANDLINE: u64 = 9;
/// Fills a `xen_build_id` (length-prefixed buffer).
pub const XENVER_BUILD_ID: u64 = 10;
/// Variable-length (`xen_varbuf`) form of [`XENVER_EXTRAVERSION`].
pub const XENVER_EXTRAVERSION2: u64 = 11;
/// Variable-length form of [`XENVER_CAPABILITIES`].
pub const XENVER_CAPABILITIES2: u64 = 12;
/// Variable-length form of [`XENVER_CHANGESET`].
pub const XENVER_CHANGESET2: u64 = 13;
/// Variable-length form of [`XENVER_COMMANDLINE`].
pub const XENVER_COMMANDLINE2: u64 = 14;

/// Size of the `XENVER_extraversion` buffer.
pub const XEN_EXTRAVERSION_LEN: usize = 16;
/// Size of the `XENVER_capabilities` buffer.
pub const XEN_CAPABILITIES_INFO_LEN: usize = 1024;
/// Size of the `XENVER_changeset` buffer.
pub const XEN_CHANGESET_INFO_LEN: usize = 64;
/// Size of the `XENVER_commandline` buffer.
pub const XEN_COMMANDLINE_LEN: usize = 1024;

/// Encodes a version for [`XENVER_VERSION`] (and CPUID leaf base+1).
pub const fn version_value(major: u16, minor: u16) -> u32 {
    ((major as u32) << 16) | minor as u32
}

/// `struct xen_feature_info`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenFeatureInfo {
    /// IN: which 32-bit word of the feature bitmap.
    pub submap_idx: u32,
    /// OUT: the word; bit `n` is feature `32 * submap_idx + n`.
    pub submap: u32,
}

/// `struct xen_compile_info`: NUL-padded strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct XenCompileInfo {
    /// Compiler name and version.
    pub compiler: [u8; 64],
    /// User who built Xen.
    pub compile_by: [u8; 16],
    /// Build host domain.
    pub compile_domain: [u8; 32],
    /// Build date.
    pub compile_date: [u8; 32],
}

/// `struct xen_platform_parameters`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenPlatformParameters {
    /// Start of the hypervisor's virtual-address hole (PV); 0 is fine for HVM.
    pub virt_start: u64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<XenFeatureInfo>() == 8);
    assert!(offset_of!(XenFeatureInfo, submap_idx) == 0);
    assert!(offset_of!(XenFeatureInfo, submap) == 4);
    assert!(size_of::<XenCompileInfo>() == 144);
    assert!(offset_of!(XenCompileInfo, compile_by) == 64);
    assert!(offset_of!(XenCompileInfo, compile_domain) == 80);
    assert!(offset_of!(XenCompileInfo, compile_date) == 112);
    assert!(size_of::<XenPlatformParameters>() == 8);
};

// Feature bit numbers (`XENFEAT_*`) reported by `XENVER_get_features`.
/// PV page tables may be written directly.
pub const XENFEAT_WRITABLE_PAGE_TABLES: u32 = 0;
pub const XENFEAT_WRITABLE_DESCRIPTOR_TABLES: u32 = 1;
/// The guest's physical address space is translated by the hypervisor
/// (true for HVM and PVH).
pub const XENFEAT_AUTO_TRANSLATED_PHYSMAP: u32 = 2;
pub const XENFEAT_SUPERVISOR_MODE_KERNEL: u32 = 3;
pub const XENFEAT_PAE_PGDIR_ABOVE_4GB: u32 = 4;
pub const XENFEAT_MMU_PT_UPDATE_PRESERVE_AD: u32 = 5;
pub const XENFEAT_HIGHMEM_ASSIST: u32 = 6;
pub const XENFEAT_GNTTAB_MAP_AVAIL_BITS: u32 = 7;
/// `HVM_PARAM_CALLBACK_IRQ` accepts the vector delivery type.
pub const XENFEAT_HVM_CALLBACK_VECTOR: u32 = 8;
/// The pvclock in `vcpu_info.time` is usable by an HVM/PVH guest.
pub const XENFEAT_HVM_SAFE_PVCLOCK: u32 = 9;
/// Emulated-IRQ routing over event channels; leave clear for PVH.
pub const XENFEAT_HVM_PIRQS: u32 = 10;
pub const XENFEAT_DOM0: u32 = 11;
pub const XENFEAT_GRANT_MAP_IDENTITY: u32 = 12;
pub const XENFEAT_MEMORY_OP_VNODE_SUPPORTED: u32 = 13;
pub const XENFEAT_ARM_SMCCC_SUPPORTED: u32 = 14;
pub const XENFEAT_LINUX_RSDP_UNRESTRICTED: u32 = 15;
pub const XENFEAT_NOT_DIRECT_MAPPED: u32 = 16;
pub const XENFEAT_DIRECT_MAPPED: u32 = 17;
pub const XENFEAT_RUNSTATE_PHYS_AREA: u32 = 18;
pub const XENFEAT_VCPU_TIME_PHYS_AREA: u32 = 19;
pub const XENFEAT_DM_MSIX_ALL_WRITES: u32 = 20;
/// Number of 32-bit feature words.
pub const XENFEAT_NR_SUBMAPS: u32 = 1;

/// Size of a domain handle (UUID) returned by [`XENVER_GUEST_HANDLE`].
pub const XEN_DOMAIN_HANDLE_LEN: usize = 16;

/// `struct xen_build_id` header (`XENVER_build_id`): `len` bytes of build id
/// follow it. IN: buffer size (0 is `-EINVAL`); the call returns the id's
/// length in RAX, also for a null argument (a size query), and `-ENOBUFS`
/// if the id does not fit. Xen answers `-ENODATA` when it has no build id.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenBuildId {
    /// Size of the buffer that follows.
    pub len: u32,
}

const _: () = {
    assert!(core::mem::size_of::<XenBuildId>() == 4);
};
