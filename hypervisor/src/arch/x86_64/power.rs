//! Switching the machine off. Under test, QEMU's isa-debug-exit device
//! (port 0xF4, enabled by `debug_exit` on the command line) carries a
//! success or failure status out to the harness; on a real machine, ACPI
//! soft-off (S5) is used.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ::x86_64::instructions::port::Port;

const DEBUG_EXIT_PORT: u16 = 0xF4;
/// QEMU exits with `(value << 1) | 1`: 33 for success, 35 for failure.
const DEBUG_EXIT_SUCCESS: u32 = 0x10;
const DEBUG_EXIT_FAILURE: u32 = 0x11;

static DEBUG_EXIT: AtomicBool = AtomicBool::new(false);
/// PM1a control port (low 16 bits) and S5 value (high 16 bits); 0 = unknown.
static SOFT_OFF: AtomicU32 = AtomicU32::new(0);

pub fn enable_debug_exit() {
    DEBUG_EXIT.store(true, Ordering::Relaxed);
}

pub fn set_soft_off(port: u16, value: u16) {
    SOFT_OFF.store(
        u32::from(port) | (u32::from(value) << 16),
        Ordering::Relaxed,
    );
}

/// Powers the machine off. `success` is the status the test harness sees.
/// A failure on a real machine halts instead, so the log stays readable.
pub fn power_off(success: bool) -> ! {
    if DEBUG_EXIT.load(Ordering::Relaxed) {
        let value = if success {
            DEBUG_EXIT_SUCCESS
        } else {
            DEBUG_EXIT_FAILURE
        };
        // SAFETY: port 0xF4 is QEMU's isa-debug-exit, present when the
        // operator asked for `debug_exit`; writing it ends the emulator.
        unsafe { Port::<u32>::new(DEBUG_EXIT_PORT).write(value) };
    }
    let soft_off = SOFT_OFF.load(Ordering::Relaxed);
    if success && soft_off != 0 {
        // SAFETY: the PM1a control port and S5 value come from the
        // firmware's FADT and DSDT; writing SLP_EN enters S5 (off).
        unsafe { Port::<u16>::new(soft_off as u16).write((soft_off >> 16) as u16) };
    }
    crate::println!("rxen: halted");
    super::halt_forever()
}
