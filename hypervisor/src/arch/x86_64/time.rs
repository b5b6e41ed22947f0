//! Time: the TSC, calibrated once against the PIT (the one timer whose
//! frequency every PC, and QEMU, fixes: 1 193 182 Hz).

use core::sync::atomic::{AtomicU64, Ordering};

use ::x86_64::instructions::port::Port;

const PIT_HZ: u64 = 1_193_182;
/// How long calibration measures. Longer is more exact; under emulation
/// 50 ms keeps the error well under 1%.
const CALIBRATION_MS: u64 = 50;

static BOOT_TSC: AtomicU64 = AtomicU64::new(0);
static TSC_HZ: AtomicU64 = AtomicU64::new(0);

pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects; every x86_64 CPU has it.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Marks "time zero" for log timestamps.
pub fn mark_boot() {
    BOOT_TSC.store(rdtsc(), Ordering::Relaxed);
}

/// Measures the TSC frequency with PIT channel 2 (gate through port 0x61).
pub fn calibrate_tsc() -> u64 {
    let mut ctrl = Port::<u8>::new(0x61);
    let mut cmd = Port::<u8>::new(0x43);
    let mut ch2 = Port::<u8>::new(0x42);
    let count = PIT_HZ * CALIBRATION_MS / 1000;
    // SAFETY: ports 0x42/0x43/0x61 are the PIT and the speaker gate on every
    // PC; nothing else in rxen uses them.
    let hz = unsafe {
        let gate = ctrl.read();
        ctrl.write((gate & !0x02) & !0x01); // speaker off, gate low
        cmd.write(0b1011_0000); // channel 2, lo/hi byte, mode 0, binary
        ch2.write(count as u8);
        ch2.write((count >> 8) as u8);
        let gate = ctrl.read();
        ctrl.write(gate | 0x01); // gate high: counting starts
        let start = rdtsc();
        // OUT2 (bit 5) goes high when the count reaches zero.
        let mut spins = 0u64;
        while ctrl.read() & 0x20 == 0 {
            spins += 1;
            if spins > 1_000_000_000 {
                break;
            }
        }
        let end = rdtsc();
        let gate = ctrl.read();
        ctrl.write(gate & !0x01);
        (end - start) * 1000 / CALIBRATION_MS
    };
    TSC_HZ.store(hz, Ordering::Relaxed);
    hz
}

pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since [`mark_boot`]; 0 until the TSC is calibrated.
pub fn since_boot_ns() -> u64 {
    if tsc_hz() == 0 {
        return 0;
    }
    tsc_to_ns_since_boot(rdtsc())
}

/// System time (ns since boot) at TSC value `tsc`.
pub fn tsc_to_ns_since_boot(tsc: u64) -> u64 {
    let hz = tsc_hz().max(1);
    let ticks = tsc.saturating_sub(BOOT_TSC.load(Ordering::Relaxed));
    ((ticks as u128) * 1_000_000_000 / hz as u128) as u64
}

/// TSC ticks in `ns` nanoseconds.
pub fn ns_to_tsc(ns: u64) -> u64 {
    ((ns as u128) * tsc_hz() as u128 / 1_000_000_000) as u64
}

/// Busy-waits (used during SMP start-up, where the SDM asks for delays).
pub fn delay_us(us: u64) {
    let end = rdtsc() + ns_to_tsc(us * 1000);
    while rdtsc() < end {
        core::hint::spin_loop();
    }
}
