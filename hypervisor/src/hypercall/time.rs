//! Guest time: the pvclock in each vcpu_info and the wall clock in
//! shared_info, both written with Xen's odd/even version protocol.

use core::sync::atomic::{fence, Ordering};

use rxen_xen_abi::vcpu::shared_info;

use crate::mm::machine;
use crate::time;

/// vcpu_info.time starts at byte 32 of the 64-byte vcpu_info.
const VCPU_TIME: usize = 32;

/// Writes the current pvclock parameters into the vcpu_info at
/// `vcpu_info_pa` (the guest only reads these fields).
pub fn write_pvclock(vcpu_info_pa: u64) {
    let base = vcpu_info_pa + VCPU_TIME as u64;
    let scale = time::pvclock_scale();
    let (tsc, ns) = time::sample();
    let mut fields = [0u8; 24];
    fields[..8].copy_from_slice(&tsc.to_le_bytes());
    fields[8..16].copy_from_slice(&ns.to_le_bytes());
    fields[16..20].copy_from_slice(&scale.mul.to_le_bytes());
    fields[20] = scale.shift as u8;
    // flags: not TSC_STABLE (Linux then keeps its own monotonic guard).
    fields[21] = 0;
    versioned(base, || machine::write(base + 8, &fields[..22]));
}

/// Writes the UTC time at system time 0 into shared_info.
pub fn write_wallclock(shared_info_pa: u64) {
    let base = time::wallclock_base();
    let mut fields = [0u8; 12];
    fields[..4].copy_from_slice(&(base as u32).to_le_bytes());
    fields[8..].copy_from_slice(&((base >> 32) as u32).to_le_bytes());
    let version = shared_info_pa + shared_info::WC_VERSION as u64;
    versioned(version, || {
        machine::write(shared_info_pa + shared_info::WC_SEC as u64, &fields)
    });
}

/// Xen's update protocol: the version at `version_pa` is odd while `update`
/// writes, even again after.
fn versioned(version_pa: u64, update: impl FnOnce()) {
    let version = machine::atomic_u32(version_pa);
    let v = version.load(Ordering::Relaxed);
    version.store(v.wrapping_add(1) | 1, Ordering::SeqCst);
    fence(Ordering::SeqCst);
    update();
    fence(Ordering::SeqCst);
    version.store((v | 1).wrapping_add(1), Ordering::SeqCst);
}
