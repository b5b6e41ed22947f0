//! Per-CPU data. Each CPU's GS base points at its own [`PerCpu`], so
//! finding "my" data is one memory load and needs no lock.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use ::x86_64::registers::model_specific::GsBase;
use ::x86_64::VirtAddr;

/// The most CPUs rxen drives; more are reported and left parked.
pub const MAX_CPUS: usize = 64;

#[repr(C)]
pub struct PerCpu {
    /// Points at itself: `gs:0` gives the structure's address.
    self_ptr: AtomicU64,
    pub index: AtomicU32,
    pub apic_id: AtomicU32,
    pub online: AtomicBool,
    /// Timer interrupts taken (shows the per-CPU timer works).
    pub timer_ticks: AtomicU64,
    /// Test IPIs received.
    pub ipis_received: AtomicU64,
}

impl PerCpu {
    const fn new() -> Self {
        Self {
            self_ptr: AtomicU64::new(0),
            index: AtomicU32::new(0),
            apic_id: AtomicU32::new(0),
            online: AtomicBool::new(false),
            timer_ticks: AtomicU64::new(0),
            ipis_received: AtomicU64::new(0),
        }
    }
}

static CPUS: [PerCpu; MAX_CPUS] = [const { PerCpu::new() }; MAX_CPUS];
/// False until the boot CPU has set its GS base: early log lines say cpu0.
static GS_READY: AtomicBool = AtomicBool::new(false);

/// Points this CPU's GS base at slot `index`. Every CPU calls it before it
/// logs anything.
pub fn init_this_cpu(index: usize, apic_id: u32) {
    let cpu = &CPUS[index];
    cpu.self_ptr
        .store(cpu as *const PerCpu as u64, Ordering::Relaxed);
    cpu.index.store(index as u32, Ordering::Relaxed);
    cpu.apic_id.store(apic_id, Ordering::Relaxed);
    GsBase::write(VirtAddr::from_ptr(cpu));
    GS_READY.store(true, Ordering::Release);
}

/// This CPU's data.
pub fn this_cpu() -> &'static PerCpu {
    if !GS_READY.load(Ordering::Acquire) {
        return &CPUS[0];
    }
    let ptr: u64;
    // SAFETY: once GS_READY is set, every running CPU has pointed GS at its
    // PerCpu slot (APs do so before anything else), whose first word holds
    // the slot's own address.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) ptr, options(nostack, readonly, preserves_flags));
    }
    // SAFETY: the pointer was stored by init_this_cpu from a &'static PerCpu.
    unsafe { &*(ptr as *const PerCpu) }
}

pub fn cpu_index() -> usize {
    this_cpu().index.load(Ordering::Relaxed) as usize
}

pub fn cpu(index: usize) -> &'static PerCpu {
    &CPUS[index]
}
