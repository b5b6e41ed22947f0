//! Xen system time: nanoseconds since rxen booted, the one timeline every
//! vCPU's pvclock, timer deadline and runstate is measured on. Guests read
//! it without exits through the pvclock parameters (TSC → ns scale).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::time as arch_time;

/// UTC seconds at system time 0 (from the RTC at boot).
static WALLCLOCK_BASE: AtomicU64 = AtomicU64::new(0);

pub fn now_ns() -> u64 {
    arch_time::since_boot_ns()
}

pub fn set_wallclock_base(unix_seconds_at_boot: u64) {
    WALLCLOCK_BASE.store(unix_seconds_at_boot, Ordering::Relaxed);
}

pub fn wallclock_base() -> u64 {
    WALLCLOCK_BASE.load(Ordering::Relaxed)
}

/// pvclock scale: ns = ((tsc_delta << shift) * mul) >> 32 (right shift for
/// negative `shift`).
#[derive(Clone, Copy, Debug)]
pub struct PvclockScale {
    pub mul: u32,
    pub shift: i8,
}

pub fn pvclock_scale() -> PvclockScale {
    let hz = arch_time::tsc_hz().max(1) as u128;
    let mut mul = (1_000_000_000u128 << 32) / hz;
    let mut shift: i8 = 0;
    while mul >= 1 << 32 {
        mul >>= 1;
        shift += 1;
    }
    while mul < 1 << 31 && shift > -31 {
        mul <<= 1;
        shift -= 1;
    }
    PvclockScale {
        mul: mul as u32,
        shift,
    }
}

/// One consistent (TSC, system time) pair.
pub fn sample() -> (u64, u64) {
    let tsc = arch_time::rdtsc();
    (tsc, arch_time::tsc_to_ns_since_boot(tsc))
}
