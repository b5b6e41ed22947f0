//! Domains: creation from a configuration, the registry of live domains,
//! shutdown and destruction (every frame back to the allocator).

pub mod builder;
pub mod guest_access;
pub mod memory;
pub mod runstate;
pub mod vcpu;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

use rxen_domain_config::{Action, DomainConfig};
use rxen_xen_abi::sched::ShutdownReason;

use crate::console::guest::GuestConsole;
use crate::evtchn::EventChannels;
use crate::sync::TicketLock;
use memory::GuestMemory;
use vcpu::{RunState, Vcpu};

pub type DomId = u16;

/// HVM parameters a guest can read (HVMOP_get_param).
pub const NR_PARAMS: usize = 40;
/// Grant-table frames a domain may have (Linux asks for up to this many).
pub const MAX_GRANT_FRAMES: u32 = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum DomainState {
    Running = 0,
    ShuttingDown = 1,
    Destroyed = 2,
    /// Ended with `preserve`: kept, paused, for inspection.
    Preserved = 3,
}

pub struct Domain {
    pub id: DomId,
    pub name: String,
    pub config: DomainConfig,
    pub memory: TicketLock<GuestMemory>,
    pub vcpus: Vec<Arc<Vcpu>>,
    /// Machine address of the shared_info frame (owned by `memory`).
    pub shared_info_pa: u64,
    pub shared_info_mapped: AtomicBool,
    pub events: TicketLock<EventChannels>,
    pub console: GuestConsole,
    pub params: TicketLock<[u64; NR_PARAMS]>,
    /// Vector of the global event upcall (HVM_PARAM_CALLBACK_IRQ type 2).
    pub callback_vector: AtomicU8,
    pub grant_frames: TicketLock<Vec<u64>>,
    /// The e820 map the guest was given (XENMEM_memory_map).
    pub e820: Vec<rxen_boot_info::pvh::HvmMemmapTableEntry>,
    pub vm_assist: AtomicU64,
    /// Bumped whenever the p2m changes: vCPUs flush their TLB when they
    /// see a new value.
    pub npt_generation: AtomicU64,
    state: AtomicU8,
    shutdown_reason: AtomicU32,
}

static DOMAINS: TicketLock<Vec<Arc<Domain>>> = TicketLock::new(Vec::new());
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

pub fn allocate_id() -> DomId {
    NEXT_ID.fetch_add(1, Ordering::Relaxed) as DomId
}

pub fn register(domain: Arc<Domain>) {
    DOMAINS.lock().push(domain);
}

pub fn all() -> Vec<Arc<Domain>> {
    DOMAINS.lock().clone()
}

impl Domain {
    pub fn state(&self) -> DomainState {
        match self.state.load(Ordering::SeqCst) {
            0 => DomainState::Running,
            1 => DomainState::ShuttingDown,
            3 => DomainState::Preserved,
            _ => DomainState::Destroyed,
        }
    }

    /// Whether the guest asked for XEN_RUNSTATE_UPDATE (VMASST type 5).
    pub fn runstate_update_flag(&self) -> bool {
        self.vm_assist.load(Ordering::SeqCst) & (1 << 5) != 0
    }

    pub fn state_name(&self) -> &'static str {
        match self.state() {
            DomainState::Running => "running",
            DomainState::ShuttingDown => "shutting down",
            DomainState::Destroyed => "destroyed",
            DomainState::Preserved => match self.shutdown_reason() {
                Some(ShutdownReason::Crash) => "crashed",
                Some(ShutdownReason::Reboot) => "rebooted",
                _ => "shut down",
            },
        }
    }

    pub fn is_running(&self) -> bool {
        self.state() == DomainState::Running
    }

    /// Ends the domain for `reason` (once): stops its vCPUs; the last
    /// physical CPU to leave one of them destroys it.
    pub fn shutdown(&self, reason: ShutdownReason) {
        if self
            .state
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return;
        }
        self.shutdown_reason.store(reason as u32, Ordering::SeqCst);
        self.console.flush(self.id);
        let what = match reason {
            ShutdownReason::Poweroff => "powered off",
            ShutdownReason::Reboot => "rebooted",
            ShutdownReason::Crash => "crashed",
            ShutdownReason::Suspend => "suspended",
            ShutdownReason::Watchdog => "stopped by its watchdog",
            ShutdownReason::SoftReset => "asked for a soft reset",
        };
        crate::println!("rxen: d{} {} ({})", self.id, what, self.name);
        for v in &self.vcpus {
            v.set_state(RunState::Dead);
            crate::sched::kick(v);
        }
    }

    pub fn shutdown_reason(&self) -> Option<ShutdownReason> {
        ShutdownReason::from_u32(self.shutdown_reason.load(Ordering::SeqCst))
    }

    /// The configured action for how the domain ended.
    pub fn action(&self) -> Action {
        match self.shutdown_reason() {
            Some(ShutdownReason::Reboot) => self.config.on_reboot,
            Some(ShutdownReason::Crash) => self.config.on_crash,
            _ => self.config.on_poweroff,
        }
    }
}

/// Finishes a domain that is shutting down once none of its vCPUs is on a
/// physical CPU any more (each CPU calls this after leaving a vCPU):
/// destroy it (every frame back to the allocator), keep it for inspection
/// (`preserve`), and/or start it again (`restart`), as configured.
pub fn reap(domain: &Arc<Domain>) {
    if domain.state() != DomainState::ShuttingDown || domain.vcpus.iter().any(|v| v.on_cpu()) {
        return;
    }
    let action = domain.action();
    let next = if action == Action::Preserve { 3 } else { 2 };
    if domain
        .state
        .compare_exchange(1, next, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return;
    }
    log_statistics(domain);
    if matches!(
        action,
        Action::CoredumpDestroy | Action::CoredumpRestart | Action::SoftReset
    ) {
        log::warn!(
            "d{}: '{}' is not supported yet: no core dump, no soft reset",
            domain.id,
            action.name()
        );
    }
    // rename-restart keeps no renamed copy yet: it restarts like restart.
    let restart = matches!(
        action,
        Action::Restart | Action::RenameRestart | Action::CoredumpRestart
    );
    if restart {
        builder::announce_restart();
    }
    if action == Action::Preserve {
        crate::println!(
            "rxen: d{} preserved for inspection ({} kept, 'q' lists it)",
            domain.id,
            domain.name
        );
    } else {
        destroy(domain);
    }
    if restart {
        crate::println!(
            "rxen: restarting {} (configured action: restart)",
            domain.name
        );
        let _ = builder::restart(domain);
    }
    if running_count() == 0 && !builder::restart_pending() {
        crate::println!("rxen: no domains left, powering off");
        dump_domains();
        crate::arch::power::power_off(true);
    }
}

fn destroy(domain: &Arc<Domain>) {
    DOMAINS.lock().retain(|d| !Arc::ptr_eq(d, domain));
    crate::sched::remove_domain(domain);
    // Wait out any CPU still setting an event pending in this domain, then
    // free the guest's frames now, whoever still holds the Arc.
    drop(domain.events.lock());
    let freed = core::mem::replace(&mut *domain.memory.lock(), GuestMemory::empty());
    drop(freed);
    crate::println!("rxen: d{} destroyed, memory returned", domain.id);
    let (_, free) = crate::mm::frames::stats();
    crate::println!("rxen: free memory {} MiB", (free * 4096) >> 20);
}

fn log_statistics(domain: &Domain) {
    for v in &domain.vcpus {
        let cpu_ms = v.cpu_time() / 1_000_000;
        let exits = v.inner.lock().exit_counts;
        log::info!("d{}v{}: {} ms on CPU, {}", domain.id, v.id, cpu_ms, exits);
    }
}

/// Domains still running (not preserved corpses).
pub fn running_count() -> usize {
    DOMAINS
        .lock()
        .iter()
        .filter(|d| d.state() != DomainState::Preserved)
        .count()
}

/// The domain list with state and CPU time (debug key 'q').
pub fn dump_domains() {
    crate::println!("rxen: domains:");
    crate::println!("rxen:   id name             state        vcpus  memory  cpu time");
    for d in all() {
        let cpu_ns: u64 = d.vcpus.iter().map(|v| v.cpu_time()).sum();
        let ram = d.memory.lock().ram_bytes();
        crate::println!(
            "rxen:   d{:<2} {:<16} {:<12} {:>5} {:>5} MiB {:>6}.{:03} s",
            d.id,
            d.name,
            d.state_name(),
            d.vcpus.len(),
            ram >> 20,
            cpu_ns / 1_000_000_000,
            (cpu_ns / 1_000_000) % 1000
        );
        for v in &d.vcpus {
            crate::println!(
                "rxen:       v{} {:?} on cpu{}",
                v.id,
                v.state(),
                v.pcpu.load(Ordering::Relaxed)
            );
        }
    }
}
