//! rxen: a type-1 hypervisor that speaks Xen's guest ABI.
//!
//! This binary wires the host-testable crates under `crates/` to the
//! hardware. Boot order: the `arch` entry (PVH or Multiboot2) builds a
//! [`BootInfo`] and calls [`main`] on the boot CPU, which sets up memory,
//! finds the CPUs in ACPI, starts them, checks timers and IPIs, and —
//! with no guests to run yet — powers the machine off.
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod console;
mod domain;
mod evtchn;
mod grant;
mod hypercall;
mod irq;
mod mm;
mod modules;
mod panic;
mod policy;
mod sched;
mod selftest;
mod smp_guest;
mod sync;
mod time;

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use log::LevelFilter;
use rxen_boot_info::cmdline::{Cmdline, LogLevel};
use rxen_boot_info::{BootInfo, Protocol};

use arch::{apic, interrupts, percpu, power, smp};
use mm::frames::ZeroedFrames;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The hypervisor command line, as given (XENVER_commandline).
static CMDLINE: spin::Once<alloc::string::String> = spin::Once::new();

pub fn cmdline() -> &'static str {
    CMDLINE.get().map_or("", |s| s.as_str())
}

/// The boot CPU's path after early arch set-up.
pub fn main(boot: &BootInfo) -> ! {
    let cmdline = Cmdline::parse(boot.cmdline());
    console::set_level(level_filter(cmdline.loglvl));
    if cmdline.debug_exit {
        power::enable_debug_exit();
    }
    evtchn::fifo::offer(cmdline.evtchn_fifo);
    let tsc_hz = arch::time::calibrate_tsc();
    println!("rxen {VERSION} starting");
    arch::mem::self_check();
    println!("rxen: boot protocol {}", protocol_name(boot.protocol()));
    println!("rxen: command line \"{}\"", boot.cmdline());
    for issue in cmdline.issues() {
        log::warn!("command line: {issue}");
    }
    log::info!(
        "TSC runs at {}.{:03} MHz",
        tsc_hz / 1_000_000,
        (tsc_hz / 1000) % 1000
    );
    for (i, module) in boot.modules().iter().enumerate() {
        println!(
            "rxen: module {i}: \"{}\" {} bytes at {:#x}",
            module.name(),
            module.len,
            module.start
        );
    }

    mm::init(boot);
    CMDLINE.call_once(|| alloc::string::String::from(boot.cmdline()));
    modules::init(boot);
    start_cpus(boot);
    check_timers_and_ipis();
    let virtualization = enable_virtualization();
    time::set_wallclock_base(arch::rtc::unix_time().saturating_sub(time::now_ns() / 1_000_000_000));
    let mem = mm::summary(boot);
    println!(
        "rxen: memory total {} MiB, free {} MiB, hypervisor {} KiB",
        mem.total >> 20,
        mem.free >> 20,
        mem.hypervisor >> 10
    );

    if let Some(test) = cmdline.selftest {
        selftest::run(test);
    }
    let configs = domain::builder::boot_configs();
    let dom0_modules = domain::dom0::find_modules(&configs);
    if configs.is_empty() && dom0_modules.is_none() {
        println!("rxen: nothing to run, powering off");
        power::power_off(true);
    }
    if let Err(why) = virtualization {
        println!("rxen: cannot run guests: {why}");
        power::power_off(false);
    }
    // The other CPUs start running domains while this one builds the rest.
    irq::PERIODIC_TICK.store(false, Ordering::SeqCst);
    sched::init();
    SCHEDULER_STARTED.store(true, Ordering::SeqCst);
    if let Some(m) = dom0_modules {
        match domain::dom0::build_and_start(&cmdline, &m) {
            Ok(()) => console::set_input_target(domain::CONTROL_DOMID),
            Err(e) => println!("rxen: dom0: {e}; no control domain"),
        }
    }
    // A domain may have ended while a later one was built: nobody else
    // looks again.
    domain::builder::start_boot_domains(configs);
    domain::lifecycle::power_off_if_idle();
    sched::run_forever()
}

/// Set once domains exist: the APs then join the scheduler.
static SCHEDULER_STARTED: AtomicBool = AtomicBool::new(false);
/// CPUs that have SVM enabled.
static SVM_READY: AtomicUsize = AtomicUsize::new(0);
static SVM_OK: AtomicBool = AtomicBool::new(false);

/// Enables SVM on every CPU (the APs do their own, see secondary_main).
fn enable_virtualization() -> Result<(), arch::svm::SvmError> {
    let mut alloc = |order: u32| mm::frames::alloc_zeroed(order).ok();
    let features = arch::svm::init_global(&mut alloc)?;
    log::info!(
        "SVM: nested paging, {} ASIDs, NRIP save {}",
        features.asids,
        if features.nrip_save {
            "yes"
        } else {
            "no (instruction lengths decoded by rxen)"
        }
    );
    arch::svm::init_this_cpu(&mut alloc)?;
    SVM_OK.store(true, Ordering::SeqCst);
    SVM_READY.fetch_add(1, Ordering::SeqCst);
    let cpus = smp::cpus_online();
    wait_for(|| SVM_READY.load(Ordering::SeqCst) >= cpus, 5_000_000_000);
    Ok(())
}

/// Finds the CPUs in the ACPI MADT and starts every one.
fn start_cpus(boot: &BootInfo) {
    apic::init_global(&mut ZeroedFrames);
    apic::init_this_cpu();
    percpu::this_cpu().online.store(true, Ordering::SeqCst);
    log::info!(
        "local APIC in {} mode, timer {}",
        apic::mode_name(),
        apic::timer_mode_name()
    );
    let platform = match arch::acpi::discover(boot.rsdp()) {
        Ok(platform) => platform,
        Err(e) => {
            log::error!("no usable ACPI tables ({e:?}): running on the boot CPU only");
            println!("rxen: 1 CPUs online");
            return;
        }
    };
    if let Some((port, value)) = platform.soft_off {
        power::set_soft_off(port, value);
    }
    if platform.cpus_ignored > 0 {
        log::warn!(
            "{} CPUs beyond the supported {} left parked",
            platform.cpus_ignored,
            percpu::MAX_CPUS
        );
    }
    smp::install_trampoline(&mut ZeroedFrames);
    let me = apic::current_id();
    let mut next = 1;
    for &apic_id in &platform.apic_ids[..platform.cpu_count] {
        if apic_id == me {
            continue;
        }
        let Some(stacks) = smp::alloc_stacks(next, &mut ZeroedFrames) else {
            log::error!("no memory for the stacks of CPU with APIC ID {apic_id}");
            break;
        };
        if smp::start_ap(next, apic_id, &stacks) {
            next += 1;
        } else {
            log::error!("CPU with APIC ID {apic_id} did not come online");
        }
    }
    println!("rxen: {} CPUs online", smp::cpus_online());
}

/// Every CPU must take timer interrupts and answer an IPI: the basis of
/// scheduling later.
fn check_timers_and_ipis() {
    arch::enable_interrupts();
    apic::arm_timer(irq::TICK_NS);
    let cpus = smp::cpus_online();
    // One CPU at a time: the APIC merges same-vector IPIs that arrive while
    // one is pending, so simultaneous replies could not be counted.
    let replies = || percpu::cpu(0).ipis_received.load(Ordering::SeqCst);
    let mut answered = 0;
    for i in 1..cpus {
        apic::send_ipi(
            percpu::cpu(i).apic_id.load(Ordering::Relaxed),
            interrupts::VECTOR_TEST_IPI,
        );
        if wait_for(|| replies() >= i as u64, 1_000_000_000) {
            answered += 1;
        } else {
            log::error!("cpu{i} did not answer an IPI");
        }
    }
    println!(
        "rxen: IPIs answered by {} of {} other CPUs",
        answered,
        cpus - 1
    );
    let ticking = |i: usize| percpu::cpu(i).timer_ticks.load(Ordering::Relaxed) >= 3;
    if wait_for(|| (0..cpus).all(ticking), 5_000_000_000) {
        println!("rxen: timer ticking on all {} CPUs", cpus);
    } else {
        log::error!("a CPU's timer is not ticking");
    }
}

/// Waits (halting between interrupts) until `done` or `ns` have passed.
fn wait_for(done: impl Fn() -> bool, ns: u64) -> bool {
    let deadline = time::now_ns() + ns;
    while !done() && time::now_ns() < deadline {
        arch::wait_for_interrupt();
    }
    done()
}

/// Where application processors go once they are up: serve interrupts,
/// enable SVM when the boot CPU has, then run vCPUs.
pub fn secondary_main() -> ! {
    arch::enable_interrupts();
    apic::arm_timer(irq::TICK_NS);
    while !SVM_OK.load(Ordering::SeqCst) {
        arch::wait_for_interrupt();
    }
    let mut alloc = |order: u32| mm::frames::alloc_zeroed(order).ok();
    match arch::svm::init_this_cpu(&mut alloc) {
        Ok(()) => {
            SVM_READY.fetch_add(1, Ordering::SeqCst);
        }
        Err(e) => {
            log::error!("SVM on this CPU: {e}");
            arch::halt_forever();
        }
    }
    while !SCHEDULER_STARTED.load(Ordering::SeqCst) {
        arch::wait_for_interrupt();
    }
    arch::interrupts_disable_save();
    sched::run_forever()
}

fn level_filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Off => LevelFilter::Off,
        LogLevel::Error => LevelFilter::Error,
        LogLevel::Warning => LevelFilter::Warn,
        LogLevel::Info => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
        LogLevel::All => LevelFilter::Trace,
    }
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Pvh => "PVH",
        Protocol::Multiboot2 => "Multiboot2",
    }
}
