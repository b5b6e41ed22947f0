//! What rxen does with its own interrupts (exceptions are handled in
//! `arch`).

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::{apic, interrupts, percpu};

/// Period of the boot-time check tick.
pub const TICK_NS: u64 = 10_000_000;

/// While set, timer interrupts re-arm themselves (the boot check); the
/// scheduler then arms each CPU's timer for the deadline it needs.
pub static PERIODIC_TICK: AtomicBool = AtomicBool::new(true);

pub fn handle(vector: u8) {
    let cpu = percpu::this_cpu();
    match vector {
        interrupts::VECTOR_TIMER => {
            cpu.timer_ticks.fetch_add(1, Ordering::Relaxed);
            if PERIODIC_TICK.load(Ordering::Relaxed) {
                apic::arm_timer(TICK_NS);
            }
        }
        interrupts::VECTOR_TEST_IPI => {
            cpu.ipis_received.fetch_add(1, Ordering::SeqCst);
            // Answer the boot CPU, which counts the replies.
            if percpu::cpu_index() != 0 {
                apic::send_ipi(
                    percpu::cpu(0).apic_id.load(Ordering::Relaxed),
                    interrupts::VECTOR_TEST_IPI,
                );
            }
        }
        // A kick only needs to end a guest's run or an idle HLT.
        interrupts::VECTOR_KICK => {}
        interrupts::VECTOR_APIC_ERROR => log::warn!("local APIC error interrupt"),
        other => log::warn!("unexpected interrupt vector {other:#x}"),
    }
}
