//! Guest time: the pvclock in each vcpu_info and the wall clock in
//! shared_info, both written with Xen's odd/even version protocol.

use core::sync::atomic::{fence, AtomicU32, Ordering};

use rxen_xen_abi::vcpu::shared_info;

use crate::arch::paging::phys_to_virt;
use crate::time;

/// vcpu_info.time starts at byte 32 of the 64-byte vcpu_info.
const VCPU_TIME: usize = 32;

fn at<T>(pa: u64, offset: usize) -> *mut T {
    phys_to_virt(pa + offset as u64) as *mut T
}

/// Writes current pvclock parameters into the vcpu_info at `vcpu_info_pa`.
pub fn write_pvclock(vcpu_info_pa: u64) {
    let base = vcpu_info_pa + VCPU_TIME as u64;
    let scale = time::pvclock_scale();
    let (tsc, ns) = time::sample();
    // SAFETY: `vcpu_info_pa` names 64 bytes of a frame the domain owns
    // (shared_info or registered guest RAM), direct-mapped; offsets per
    // struct vcpu_time_info. The guest only reads these fields.
    unsafe {
        let version = AtomicU32::from_ptr(at::<u32>(base, 0));
        let v = version.load(Ordering::Relaxed);
        version.store(v.wrapping_add(1) | 1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        at::<u64>(base, 8).write_volatile(tsc);
        at::<u64>(base, 16).write_volatile(ns);
        at::<u32>(base, 24).write_volatile(scale.mul);
        at::<i8>(base, 28).write_volatile(scale.shift);
        at::<u8>(base, 29).write_volatile(0); // not TSC_STABLE: keep Linux's own monotonic guard
        fence(Ordering::SeqCst);
        version.store((v | 1).wrapping_add(1), Ordering::SeqCst);
    }
}

/// Writes the UTC time at system time 0 into shared_info.
pub fn write_wallclock(shared_info_pa: u64) {
    let base = time::wallclock_base();
    // SAFETY: the shared_info frame is the domain's, direct-mapped; the
    // offsets are those of struct shared_info.
    unsafe {
        let version = AtomicU32::from_ptr(at::<u32>(shared_info_pa, shared_info::WC_VERSION));
        let v = version.load(Ordering::Relaxed);
        version.store(v.wrapping_add(1) | 1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        at::<u32>(shared_info_pa, shared_info::WC_SEC).write_volatile(base as u32);
        at::<u32>(shared_info_pa, shared_info::WC_NSEC).write_volatile(0);
        at::<u32>(shared_info_pa, shared_info::WC_SEC_HI).write_volatile((base >> 32) as u32);
        fence(Ordering::SeqCst);
        version.store((v | 1).wrapping_add(1), Ordering::SeqCst);
    }
}
