//! Xen PVH boot: the `hvm_start_info` structures and their conversion to
//! [`BootInfo`].
//!
//! Layouts follow Xen's public `arch-x86/hvm/start_info.h` (MIT licensed).
//! A PVH loader enters the image in 32-bit protected mode with `%ebx`
//! pointing at an [`HvmStartInfo`]; all further data (module list, memory
//! map, strings) is referenced by physical address. The same structures are
//! written later when rxen starts PVH guests, hence `IntoBytes` too.

use core::fmt;
use core::mem::{offset_of, size_of};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::cstr::c_str;
use crate::info::{BootInfo, MemoryKind, MemoryRegion, Module, Protocol, CMDLINE_CAPACITY};

/// `XEN_HVM_START_MAGIC_VALUE`: first field of a valid start info.
pub const HVM_START_MAGIC: u32 = 0x336e_c578;
/// `SIF_PRIVILEGED` in [`HvmStartInfo::flags`]: the domain is privileged.
pub const SIF_PRIVILEGED: u32 = 1 << 0;
/// `SIF_INITDOMAIN` in [`HvmStartInfo::flags`]: the domain is dom0.
pub const SIF_INITDOMAIN: u32 = 1 << 1;

/// `XEN_HVM_MEMMAP_TYPE_*` values (the e820 numbering).
pub mod memmap_type {
    /// Usable RAM.
    pub const RAM: u32 = 1;
    /// Reserved.
    pub const RESERVED: u32 = 2;
    /// ACPI tables (reclaimable).
    pub const ACPI: u32 = 3;
    /// ACPI non-volatile storage.
    pub const NVS: u32 = 4;
    /// Unusable (defective) memory.
    pub const UNUSABLE: u32 = 5;
    /// Disabled.
    pub const DISABLED: u32 = 6;
    /// Persistent memory.
    pub const PMEM: u32 = 7;
}

/// `struct hvm_start_info`. Version 0 ends after `rsdp_paddr`; version 1
/// added the memory map.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HvmStartInfo {
    /// Must be [`HVM_START_MAGIC`].
    pub magic: u32,
    /// Structure version (0 or 1).
    pub version: u32,
    /// `SIF_*` flags.
    pub flags: u32,
    /// Number of entries in the module list.
    pub nr_modules: u32,
    /// Physical address of an array of [`HvmModlistEntry`].
    pub modlist_paddr: u64,
    /// Physical address of the NUL-terminated command line (0: none).
    pub cmdline_paddr: u64,
    /// Physical address of the ACPI RSDP (0: none).
    pub rsdp_paddr: u64,
    /// Physical address of an array of [`HvmMemmapTableEntry`] (version 1).
    pub memmap_paddr: u64,
    /// Number of memory-map entries (version 1).
    pub memmap_entries: u32,
    /// Must be zero.
    pub reserved: u32,
}

/// `struct hvm_modlist_entry`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HvmModlistEntry {
    /// Physical address of the module.
    pub paddr: u64,
    /// Size of the module in bytes.
    pub size: u64,
    /// Physical address of the module's NUL-terminated command line (0: none).
    pub cmdline_paddr: u64,
    /// Must be zero.
    pub reserved: u64,
}

/// `struct hvm_memmap_table_entry`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HvmMemmapTableEntry {
    /// Base address of the range.
    pub addr: u64,
    /// Size of the range in bytes.
    pub size: u64,
    /// One of [`memmap_type`].
    pub kind: u32,
    /// Must be zero.
    pub reserved: u32,
}

// The ABI is fixed by Xen's header; fail the build if a field moves.
const _: () = {
    assert!(size_of::<HvmStartInfo>() == 56);
    assert!(offset_of!(HvmStartInfo, magic) == 0);
    assert!(offset_of!(HvmStartInfo, version) == 4);
    assert!(offset_of!(HvmStartInfo, flags) == 8);
    assert!(offset_of!(HvmStartInfo, nr_modules) == 12);
    assert!(offset_of!(HvmStartInfo, modlist_paddr) == 16);
    assert!(offset_of!(HvmStartInfo, cmdline_paddr) == 24);
    assert!(offset_of!(HvmStartInfo, rsdp_paddr) == 32);
    assert!(offset_of!(HvmStartInfo, memmap_paddr) == 40);
    assert!(offset_of!(HvmStartInfo, memmap_entries) == 48);
    assert!(offset_of!(HvmStartInfo, reserved) == 52);

    assert!(size_of::<HvmModlistEntry>() == 32);
    assert!(offset_of!(HvmModlistEntry, paddr) == 0);
    assert!(offset_of!(HvmModlistEntry, size) == 8);
    assert!(offset_of!(HvmModlistEntry, cmdline_paddr) == 16);
    assert!(offset_of!(HvmModlistEntry, reserved) == 24);

    assert!(size_of::<HvmMemmapTableEntry>() == 24);
    assert!(offset_of!(HvmMemmapTableEntry, addr) == 0);
    assert!(offset_of!(HvmMemmapTableEntry, size) == 8);
    assert!(offset_of!(HvmMemmapTableEntry, kind) == 16);
    assert!(offset_of!(HvmMemmapTableEntry, reserved) == 20);
};

/// Why PVH start info could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PvhError {
    /// Fewer bytes than the structure needs.
    TooShort,
    /// The bytes are not 8-byte aligned, so they cannot be viewed in place.
    Misaligned,
    /// The magic field is not [`HVM_START_MAGIC`].
    BadMagic(u32),
    /// The module list is not readable at its physical address.
    ModlistUnreadable,
    /// The memory map is not readable at its physical address.
    MemmapUnreadable,
}

impl fmt::Display for PvhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => f.write_str("PVH start info truncated"),
            Self::Misaligned => f.write_str("PVH start info not 8-byte aligned"),
            Self::BadMagic(m) => write!(f, "bad PVH start info magic {m:#x}"),
            Self::ModlistUnreadable => f.write_str("PVH module list unreadable"),
            Self::MemmapUnreadable => f.write_str("PVH memory map unreadable"),
        }
    }
}

impl HvmStartInfo {
    /// Views `bytes` (at least 56, 8-byte aligned) as start info and checks
    /// the magic. Version 0 structures are only 40 bytes long, but the
    /// loader's page always has room for the full layout; use
    /// [`memmap`](Self::memmap) rather than the raw memmap fields, which
    /// ignores them for version 0.
    pub fn parse(bytes: &[u8]) -> Result<&Self, PvhError> {
        if bytes.len() < size_of::<Self>() {
            return Err(PvhError::TooShort);
        }
        let (info, _) = Self::ref_from_prefix(bytes).map_err(|_| PvhError::Misaligned)?;
        if info.magic != HVM_START_MAGIC {
            return Err(PvhError::BadMagic(info.magic));
        }
        Ok(info)
    }

    /// Physical address and entry count of the memory map, if this version
    /// has one and it is non-empty.
    pub fn memmap(&self) -> Option<(u64, u32)> {
        (self.version >= 1 && self.memmap_paddr != 0 && self.memmap_entries != 0)
            .then_some((self.memmap_paddr, self.memmap_entries))
    }

    /// Physical address of the ACPI RSDP, if given.
    pub fn rsdp(&self) -> Option<u64> {
        (self.rsdp_paddr != 0).then_some(self.rsdp_paddr)
    }
}

impl From<&HvmMemmapTableEntry> for MemoryRegion {
    fn from(e: &HvmMemmapTableEntry) -> Self {
        Self {
            start: e.addr,
            len: e.size,
            kind: MemoryKind::from_e820(e.kind),
        }
    }
}

/// Read access to physical memory, which the hypervisor implements over its
/// identity map (the one place needing `unsafe`) and tests over a buffer.
pub trait PhysMem {
    /// Up to `len` bytes starting at physical address `paddr`: fewer if
    /// readable memory ends sooner, `None` if `paddr` itself is unreadable.
    fn read(&self, paddr: u64, len: usize) -> Option<&[u8]>;
}

/// Longest string read from a physical address: the command-line capacity
/// plus room to notice that it was longer.
const MAX_STRING: usize = CMDLINE_CAPACITY + 1;

/// The NUL-terminated string at `paddr` ("" for address 0 or unreadable).
fn read_string(mem: &impl PhysMem, paddr: u64) -> &str {
    if paddr == 0 {
        return "";
    }
    mem.read(paddr, MAX_STRING).map_or("", c_str)
}

/// Reads `count` fixed-size records at `paddr` and calls `each` for every
/// one. Records are copied out, so the memory need not be aligned.
fn for_each_record<T: FromBytes>(
    mem: &impl PhysMem,
    paddr: u64,
    count: u32,
    mut each: impl FnMut(T),
) -> Option<()> {
    let len = size_of::<T>().checked_mul(count as usize)?;
    let bytes = mem.read(paddr, len).filter(|b| b.len() == len)?;
    for chunk in bytes.chunks_exact(size_of::<T>()) {
        each(T::read_from_bytes(chunk).ok()?);
    }
    Some(())
}

impl BootInfo {
    /// Converts PVH start info into the common form, reading the module
    /// list, memory map and strings through `mem`.
    ///
    /// Entries beyond the [`BootInfo`] capacities and over-long strings are
    /// dropped (see [`BootInfo::is_truncated`]); unreadable tables are
    /// errors because booting without them would be wrong.
    pub fn from_pvh(start: &HvmStartInfo, mem: &impl PhysMem) -> Result<Self, PvhError> {
        let mut info = Self::new(Protocol::Pvh);
        info.set_rsdp(start.rsdp());
        // Over-long command lines keep their prefix; is_truncated() tells.
        let _ = info.set_cmdline(read_string(mem, start.cmdline_paddr));

        if start.nr_modules != 0 {
            for_each_record(
                mem,
                start.modlist_paddr,
                start.nr_modules,
                |m: HvmModlistEntry| {
                    let name = read_string(mem, m.cmdline_paddr);
                    let _ = info.push_module(Module::new(m.paddr, m.size, name));
                },
            )
            .ok_or(PvhError::ModlistUnreadable)?;
        }
        if let Some((paddr, entries)) = start.memmap() {
            for_each_record(mem, paddr, entries, |e: HvmMemmapTableEntry| {
                let _ = info.push_region(MemoryRegion::from(&e));
            })
            .ok_or(PvhError::MemmapUnreadable)?;
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests;
