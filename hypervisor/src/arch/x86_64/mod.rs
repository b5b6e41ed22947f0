//! x86_64 (AMD64) support: boot, descriptor tables, interrupts, paging,
//! local APIC, SMP bring-up, time.

pub mod acpi;
pub mod apic;
pub mod boot;
pub mod emulate;
mod entry;
pub mod exits;
pub mod gdt;
pub mod guest_paging;
pub mod hvm_state;
pub mod interrupts;
pub mod mem;
pub mod npt;
pub mod paging;
pub mod percpu;
mod pic;
pub mod power;
pub mod rtc;
pub mod serial;
pub mod smp;
pub mod svm;
pub mod time;
pub mod trace;
pub mod vcpu;
pub mod vlapic;

pub use percpu::cpu_index;

/// Disables interrupts and says whether they were enabled before.
pub fn interrupts_disable_save() -> bool {
    let enabled = ::x86_64::instructions::interrupts::are_enabled();
    ::x86_64::instructions::interrupts::disable();
    enabled
}

/// Re-enables interrupts if `enabled` says they were on.
pub fn interrupts_restore(enabled: bool) {
    if enabled {
        ::x86_64::instructions::interrupts::enable();
    }
}

pub fn enable_interrupts() {
    ::x86_64::instructions::interrupts::enable();
}

/// Waits for the next interrupt (HLT) with interrupts enabled.
pub fn wait_for_interrupt() {
    ::x86_64::instructions::interrupts::enable_and_hlt();
}

/// Stops this CPU for good.
pub fn halt_forever() -> ! {
    loop {
        ::x86_64::instructions::interrupts::disable();
        ::x86_64::instructions::hlt();
    }
}
