//! Machine memory by physical address, for the few structures rxen shares
//! with guests (shared_info, vcpu_info, console rings, guest RAM) and the
//! boot modules. Guests may write such memory at any moment, so it is only
//! ever touched through atomics or byte copies, never through references
//! to plain Rust data. This is the one place outside `arch` that turns
//! machine addresses into pointers.
//!
//! Callers pass addresses of frames they own (a domain's, or a boot
//! module's): every frame of RAM is in the direct map, so no access can
//! fault; what they guarantee is that the frame is theirs to use.

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8};

use crate::arch::paging::phys_to_virt;

pub fn atomic_u64(pa: u64) -> &'static AtomicU64 {
    assert!(pa.is_multiple_of(8), "unaligned atomic at {pa:#x}");
    // SAFETY: aligned, direct-mapped, and only ever accessed atomically
    // (see the module comment); the frame outlives every use (its owner
    // frees it only once nothing refers to it).
    unsafe { AtomicU64::from_ptr(phys_to_virt(pa) as *mut u64) }
}

pub fn atomic_u32(pa: u64) -> &'static AtomicU32 {
    assert!(pa.is_multiple_of(4), "unaligned atomic at {pa:#x}");
    // SAFETY: as atomic_u64.
    unsafe { AtomicU32::from_ptr(phys_to_virt(pa) as *mut u32) }
}

pub fn atomic_u8(pa: u64) -> &'static AtomicU8 {
    // SAFETY: as atomic_u64 (bytes need no alignment).
    unsafe { AtomicU8::from_ptr(phys_to_virt(pa)) }
}

/// Copies `data` to machine address `pa`.
pub fn write(pa: u64, data: &[u8]) {
    // SAFETY: the caller's range lies in frames it owns (direct-mapped);
    // guest memory is not Rust data, so a concurrent guest write is a race
    // the guest only inflicts on itself.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), phys_to_virt(pa), data.len()) };
}

/// Copies from machine address `pa` into `buf`.
pub fn read(pa: u64, buf: &mut [u8]) {
    // SAFETY: as write.
    unsafe { core::ptr::copy_nonoverlapping(phys_to_virt(pa), buf.as_mut_ptr(), buf.len()) };
}

/// Copies `len` bytes between two machine ranges (which may overlap).
pub fn copy(from: u64, to: u64, len: usize) {
    // SAFETY: as write.
    unsafe { core::ptr::copy(phys_to_virt(from), phys_to_virt(to), len) };
}

/// Memory nobody writes once the machine runs (boot modules).
pub fn read_only(pa: u64, len: usize) -> &'static [u8] {
    // SAFETY: boot modules are reserved from the allocator for good and
    // never written after boot; the direct map covers them.
    unsafe { core::slice::from_raw_parts(phys_to_virt(pa), len) }
}

/// Zeroes `len` bytes at machine address `pa`.
pub fn zero(pa: u64, len: usize) {
    // SAFETY: as write: the caller's frames, direct-mapped.
    unsafe { crate::arch::paging::zero_phys(pa, len) };
}

/// A zeroed array of `len` atomics at `pa`, for the hypervisor's own
/// bookkeeping (frames taken from the allocator for good).
pub fn zeroed_u32_array(pa: u64, len: usize) -> &'static [AtomicU32] {
    zero(pa, len * 4);
    // SAFETY: the frames at `pa` were allocated for this table alone and are
    // never freed; zeroed atomics are valid values; page alignment suits u32.
    unsafe { core::slice::from_raw_parts(phys_to_virt(pa) as *const AtomicU32, len) }
}
