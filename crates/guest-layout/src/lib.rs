//! Where things go in a PVH guest's physical address space, and the bytes the
//! hypervisor copies there.
//!
//! [`plan`] checks a [`GuestSpec`] (memory size, vCPUs, kernel range, initrd
//! size, command line) and returns a [`Layout`]. The layout then produces the
//! boot-info pages ([`Layout::start_info_page`]) and the ACPI tables
//! ([`Layout::acpi_tables`], or [`acpi_tables`] directly). Everything is pure
//! and `#![no_std]`: the hypervisor allocates the guest's memory, copies the
//! kernel, the initrd and these blobs in, and starts the vCPU with
//! `%ebx =` [`START_INFO_GPA`].
//!
//! # Guest physical layout (fixed)
//!
//! | guest physical range          | e820 type | contents |
//! |-------------------------------|-----------|----------|
//! | `0x0000_0000..0x0000_1000`    | RAM       | (page 0; Linux reserves it itself) |
//! | `0x0000_1000..0x0000_3000`    | RESERVED  | boot info: `hvm_start_info` @+0, module list @+0x40, memory map @+0x80, command line @+0x200 |
//! | `0x0000_3000..0x0009_F000`    | RAM       | low memory (Linux puts its real-mode AP trampoline here) |
//! | `0x0009_F000..0x0010_0000`    | —         | legacy hole (Linux adds `0xA0000..0x100000` as reserved itself) |
//! | `0x0010_0000..memory_bytes`   | RAM       | the kernel at its `p_paddr`s; the initrd page-aligned at the top |
//! | `0xFC00_0000..` (page-rounded)| ACPI      | RSDP, FACS, RSDT, XSDT, FADT, DSDT, MADT ([`acpi`]) |
//! | `0xFEE0_0000`                 | —         | local APIC (not RAM, not listed) |
//! | `0xFEFF_0000..0xFF00_0000`    | RESERVED  | special pages: xenstore ring gfn `0xFEFFE`, console ring gfn `0xFEFFF` |
//!
//! * Memory must be page-aligned, at least [`MIN_MEMORY`] (64 MiB) and at
//!   most [`MAX_MEMORY`] (`0xFC00_0000`, so RAM never reaches the ACPI
//!   tables); RAM above 4 GiB is not supported yet. The 384 KiB legacy hole
//!   is not RAM, so the guest sees `memory_bytes - 0x61000` bytes of RAM.
//! * Everything Linux reads through its early 1 GiB identity map
//!   (`hvm_start_info`, module list, memory map, command line) is below 1 GiB.
//! * The initrd is the only module (Linux treats module 0 as the initrd).
//!   It ends at or below the end of RAM, starts on a page boundary and must
//!   not overlap the kernel's page-rounded range.
//! * vCPU *i* has ACPI processor id *i* and APIC ID `2 * i` ([`apic_id`]),
//!   as under Xen; at most [`MAX_VCPUS`] (128), since xAPIC IDs are 8 bits
//!   and `0xFF` is the broadcast ID.
//!
//! The hypervisor must back `ram()`, the ACPI range and the two special
//! pages with memory; the boot-info pages lie inside low RAM.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod acpi;
mod error;
mod layout;
mod range;
mod start_info;

pub use acpi::{acpi_tables, acpi_tables_len};
pub use error::LayoutError;
pub use layout::{plan, GuestSpec, Layout, VcpuCount};
pub use range::GpaRange;
pub use start_info::{
    CMDLINE_OFFSET, MAX_MEMMAP_ENTRIES, MEMMAP_OFFSET, MODLIST_OFFSET, START_INFO_OFFSET,
};

/// Size of a guest page.
pub const PAGE_SIZE: u64 = 0x1000;
/// End of the RAM below 1 MiB (exclusive).
pub const LOW_RAM_END: u64 = 0x9_F000;
/// Start of the RAM above the legacy hole.
pub const HIGH_RAM_START: u64 = 0x10_0000;
/// Smallest supported guest memory size.
pub const MIN_MEMORY: u64 = 64 << 20;
/// Largest supported guest memory size: RAM must end below the ACPI tables.
pub const MAX_MEMORY: u64 = ACPI_GPA;
/// Guest physical address of the boot-info pages (`hvm_start_info` first);
/// the vCPU starts with `%ebx` = this.
pub const START_INFO_GPA: u64 = 0x1000;
/// Number of boot-info pages.
pub const START_INFO_PAGES: u64 = 2;
/// Guest physical address of the ACPI tables; the RSDP is first.
pub const ACPI_GPA: u64 = 0xFC00_0000;
/// Guest physical address of the local APIC registers.
pub const LAPIC_GPA: u64 = 0xFEE0_0000;
/// The reserved range holding the special pages (rings).
pub const SPECIAL_PAGES: GpaRange = GpaRange::new(0xFEFF_0000, 0xFF00_0000);
/// Guest frame number of the console ring page (`HVM_PARAM_CONSOLE_PFN`).
pub const CONSOLE_GFN: u64 = 0xF_EFFF;
/// Guest frame number of the xenstore ring page (`HVM_PARAM_STORE_PFN`).
pub const XENSTORE_GFN: u64 = 0xF_EFFE;
/// Most vCPUs a guest may have: APIC IDs `2 * i` must stay below `0xFF`.
pub const MAX_VCPUS: u32 = 128;
/// Longest kernel command line in bytes, without the terminating NUL
/// (Linux's x86 `COMMAND_LINE_SIZE` is 2048 including it).
pub const MAX_CMDLINE: usize = 2047;

/// APIC ID of vCPU `vcpu` (Xen's convention: `2 * vcpu`). Meaningful for
/// `vcpu < MAX_VCPUS`; larger values wrap rather than panic.
pub const fn apic_id(vcpu: u32) -> u32 {
    vcpu.wrapping_mul(2)
}

/// The vCPU whose APIC ID is `apic_id`, if it is one of [`apic_id`]'s
/// results for a valid vCPU number (even and below `2 * MAX_VCPUS`).
pub const fn vcpu_of_apic_id(apic_id: u32) -> Option<u32> {
    if apic_id.is_multiple_of(2) && apic_id / 2 < MAX_VCPUS {
        Some(apic_id / 2)
    } else {
        None
    }
}

/// `x` rounded down to a multiple of [`PAGE_SIZE`].
const fn page_floor(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// `x` rounded up to a multiple of [`PAGE_SIZE`], `None` on overflow.
const fn page_ceil(x: u64) -> Option<u64> {
    match x.checked_add(PAGE_SIZE - 1) {
        Some(y) => Some(page_floor(y)),
        None => None,
    }
}

#[cfg(test)]
mod tests;
