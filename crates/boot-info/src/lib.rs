//! The boot hand-over of rxen, in one form for every boot protocol.
//!
//! Whichever way the hypervisor was started — PVH (QEMU `-kernel`, Xen-style
//! direct boot) or Multiboot2 (GRUB on real machines) — the `arch` entry code
//! converts what the loader handed over into a [`BootInfo`]: memory map,
//! command line, boot modules and the ACPI RSDP. Everything after early boot
//! reads only that.
//!
//! Also here, because they are pure and testable on the host:
//! * [`pvh`] — Xen's `hvm_start_info` layouts (also used later to *build*
//!   start info for PVH guests) and the PVH → [`BootInfo`] conversion;
//! * [`cmdline`] — the hypervisor command line (`loglvl=`, ...);
//! * [`bundle`] — several boot modules packed into one file, because QEMU's
//!   PVH boot passes only one module. Feature `std` adds the writer.
//!
//! No `alloc`, no `unsafe`; nothing here panics on bad input.
#![cfg_attr(not(any(test, feature = "std")), no_std)]

pub mod bundle;
pub mod cmdline;
mod cstr;
mod info;
pub mod pvh;

pub use cstr::c_str;
pub use info::{
    BootInfo, BootInfoError, MemoryKind, MemoryRegion, Module, Protocol, CMDLINE_CAPACITY,
    MAX_MODULES, MAX_REGIONS, MODULE_NAME_CAPACITY,
};
