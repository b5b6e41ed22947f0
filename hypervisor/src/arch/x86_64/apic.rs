//! The local APIC of each CPU: timer, IPIs, end of interrupt. x2APIC
//! (MSR access) where the CPU has it, xAPIC (MMIO at 0xFEE00000) otherwise.
//! The timer uses TSC-deadline mode where offered, else one-shot mode with
//! a frequency measured against the TSC.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ::x86_64::registers::model_specific::Msr;
use raw_cpuid::CpuId;
use x2apic::lapic::{LocalApic, LocalApicBuilder, TimerDivide, TimerMode};

use super::interrupts::{VECTOR_APIC_ERROR, VECTOR_SPURIOUS, VECTOR_TIMER};
use super::paging::{self, Access, TableFrames, MMIO_AREA_BASE};
use super::percpu::{cpu_index, MAX_CPUS};
use super::time;

const XAPIC_PHYS: u64 = 0xFEE0_0000;
const IA32_TSC_DEADLINE: u32 = 0x6E0;
/// Where the xAPIC page is mapped (first page of the MMIO area).
const XAPIC_VIRT: u64 = MMIO_AREA_BASE;

static X2APIC: AtomicBool = AtomicBool::new(false);
static TSC_DEADLINE: AtomicBool = AtomicBool::new(false);
/// APIC timer ticks per second at divide-by-16 (one-shot mode only).
static APIC_TIMER_HZ: AtomicU64 = AtomicU64::new(0);

struct Slots([UnsafeCell<Option<LocalApic>>; MAX_CPUS]);
// SAFETY: slot i is only touched by CPU i (LocalApic registers are per-CPU
// by nature), always with interrupts disabled or from its own handlers.
unsafe impl Sync for Slots {}
static APICS: Slots = Slots([const { UnsafeCell::new(None) }; MAX_CPUS]);

fn with_apic<R>(f: impl FnOnce(&mut LocalApic) -> R) -> R {
    let enabled = super::interrupts_disable_save();
    // SAFETY: this CPU's own slot, with interrupts off (see Slots).
    let slot = unsafe { &mut *APICS.0[cpu_index()].get() };
    let apic = slot
        .as_mut()
        .expect("local APIC used before apic::init_this_cpu");
    let r = f(apic);
    super::interrupts_restore(enabled);
    r
}

/// Maps the xAPIC registers once (the boot CPU, before any AP starts).
pub fn init_global(frames: &mut dyn TableFrames) {
    let cpuid = CpuId::new();
    let features = cpuid.get_feature_info();
    X2APIC.store(
        features.as_ref().is_some_and(|f| f.has_x2apic()),
        Ordering::Relaxed,
    );
    TSC_DEADLINE.store(
        features.as_ref().is_some_and(|f| f.has_tsc_deadline()),
        Ordering::Relaxed,
    );
    paging::map_page(XAPIC_VIRT, XAPIC_PHYS, Access::Device, frames);
}

pub fn mode_name() -> &'static str {
    if X2APIC.load(Ordering::Relaxed) {
        "x2APIC"
    } else {
        "xAPIC"
    }
}

pub fn timer_mode_name() -> &'static str {
    if TSC_DEADLINE.load(Ordering::Relaxed) {
        "TSC-deadline"
    } else {
        "one-shot"
    }
}

/// Enables this CPU's local APIC with rxen's vectors; the timer is armed
/// later with [`arm_timer`].
pub fn init_this_cpu() {
    let deadline = TSC_DEADLINE.load(Ordering::Relaxed);
    let apic = LocalApicBuilder::new()
        .timer_vector(VECTOR_TIMER as usize)
        .error_vector(VECTOR_APIC_ERROR as usize)
        .spurious_vector(VECTOR_SPURIOUS as usize)
        .timer_mode(if deadline {
            TimerMode::TscDeadline
        } else {
            TimerMode::OneShot
        })
        .timer_divide(TimerDivide::Div16)
        .timer_initial(0)
        .set_xapic_base(XAPIC_VIRT)
        .build()
        .expect("local APIC configuration is complete");
    let enabled = super::interrupts_disable_save();
    // SAFETY: this CPU's own slot, interrupts off.
    let slot = unsafe { &mut *APICS.0[cpu_index()].get() };
    *slot = Some(apic);
    // SAFETY: the registers are mapped (init_global) and belong to this CPU.
    unsafe { slot.as_mut().expect("just set").enable() };
    super::interrupts_restore(enabled);
    if !deadline && APIC_TIMER_HZ.load(Ordering::Relaxed) == 0 {
        calibrate_timer();
    }
}

/// Counts APIC timer ticks over 10 ms of TSC time.
fn calibrate_timer() {
    const START: u32 = u32::MAX;
    let measured = with_apic(|apic| {
        // SAFETY: this CPU's APIC; the timer is not in use yet.
        unsafe {
            apic.set_timer_initial(START);
            time::delay_us(10_000);
            let left = apic.timer_current();
            apic.set_timer_initial(0);
            START - left
        }
    });
    APIC_TIMER_HZ.store(u64::from(measured) * 100, Ordering::Relaxed);
}

/// Fires the timer interrupt on this CPU `ns` nanoseconds from now.
pub fn arm_timer(ns: u64) {
    if TSC_DEADLINE.load(Ordering::Relaxed) {
        let deadline = time::rdtsc() + time::ns_to_tsc(ns);
        // SAFETY: IA32_TSC_DEADLINE exists (CPUID said so); writing it arms
        // this CPU's timer, nothing else.
        unsafe { Msr::new(IA32_TSC_DEADLINE).write(deadline) };
    } else {
        let hz = APIC_TIMER_HZ.load(Ordering::Relaxed);
        let count = ((ns as u128 * hz as u128) / 1_000_000_000).clamp(1, u32::MAX as u128) as u32;
        // SAFETY: this CPU's APIC timer, which only rxen programs.
        with_apic(|apic| unsafe { apic.set_timer_initial(count) });
    }
}

pub fn end_of_interrupt() {
    // SAFETY: EOI for the interrupt being handled on this CPU.
    with_apic(|apic| unsafe { apic.end_of_interrupt() });
}

/// This CPU's APIC ID (before or after init_this_cpu).
pub fn current_id() -> u32 {
    CpuId::new()
        .get_feature_info()
        .map(|f| u32::from(f.initial_local_apic_id()))
        .unwrap_or(0)
}

/// In xAPIC mode the destination sits in ICR bits 56..63; the x2apic crate
/// writes `dest` to bits 32..63 as x2APIC wants.
fn icr_dest(apic_id: u32) -> u32 {
    if X2APIC.load(Ordering::Relaxed) {
        apic_id
    } else {
        apic_id << 24
    }
}

pub fn send_ipi(apic_id: u32, vector: u8) {
    // SAFETY: a fixed IPI to another CPU; its handler is installed.
    with_apic(|apic| unsafe { apic.send_ipi(vector, icr_dest(apic_id)) });
}

pub fn send_init(apic_id: u32) {
    // SAFETY: INIT to a parked application processor during start-up.
    with_apic(|apic| unsafe { apic.send_init_ipi(icr_dest(apic_id)) });
}

pub fn send_startup(apic_id: u32, page: u8) {
    // SAFETY: STARTUP at the trampoline page, after INIT.
    with_apic(|apic| unsafe { apic.send_sipi(page, icr_dest(apic_id)) });
}

/// NMI to every other CPU (the panic path uses it to stop them). Usable
/// before this CPU's APIC object exists? No: only after init_this_cpu.
pub fn send_nmi_to_others() {
    let enabled = super::interrupts_disable_save();
    // SAFETY: this CPU's own slot, interrupts off.
    if let Some(apic) = unsafe { (*APICS.0[cpu_index()].get()).as_mut() } {
        // SAFETY: stopping the machine: NMIs park the other CPUs.
        unsafe { apic.send_nmi_all(x2apic::lapic::IpiAllShorthand::AllExcludingSelf) };
    }
    super::interrupts_restore(enabled);
}
