//! What rxen does with its own interrupts (exceptions are handled in
//! `arch`).

use core::sync::atomic::Ordering;

use crate::arch::{apic, interrupts, percpu};

/// Period of the per-CPU housekeeping tick.
pub const TICK_NS: u64 = 10_000_000;

pub fn handle(vector: u8) {
    let cpu = percpu::this_cpu();
    match vector {
        interrupts::VECTOR_TIMER => {
            cpu.timer_ticks.fetch_add(1, Ordering::Relaxed);
            apic::arm_timer(TICK_NS);
        }
        interrupts::VECTOR_TEST_IPI => {
            cpu.ipis_received.fetch_add(1, Ordering::SeqCst);
            // Answer the boot CPU, which counts the replies.
            if percpu::cpu_index() != 0 {
                apic::send_ipi(percpu::cpu(0).apic_id.load(Ordering::Relaxed), interrupts::VECTOR_TEST_IPI);
            }
        }
        interrupts::VECTOR_APIC_ERROR => log::warn!("local APIC error interrupt"),
        other => log::warn!("unexpected interrupt vector {other:#x}"),
    }
}
