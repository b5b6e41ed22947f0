//! Domains: creation from a configuration, the registry of live domains,
//! shutdown and destruction (every frame back to the allocator).

pub mod builder;
pub mod guest_access;
pub mod memory;
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

pub fn count() -> usize {
    DOMAINS.lock().len()
}

impl Domain {
    pub fn state(&self) -> DomainState {
        match self.state.load(Ordering::SeqCst) {
            0 => DomainState::Running,
            1 => DomainState::ShuttingDown,
            _ => DomainState::Destroyed,
        }
    }

    pub fn is_running(&self) -> bool {
        self.state() == DomainState::Running
    }

    /// Ends the domain for `reason` (once): stops its vCPUs; the last
    /// physical CPU to leave one of them destroys it.
    pub fn shutdown(&self, reason: ShutdownReason) {
        if self.state.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst).is_err() {
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

/// Destroys `domain` if it is shutting down and none of its vCPUs is on a
/// physical CPU any more. Called by each CPU after it leaves a vCPU.
pub fn reap(domain: &Arc<Domain>) {
    if domain.state() != DomainState::ShuttingDown || domain.vcpus.iter().any(|v| v.on_cpu()) {
        return;
    }
    if domain.state.compare_exchange(1, 2, Ordering::SeqCst, Ordering::SeqCst).is_err() {
        return;
    }
    let remaining = {
        let mut list = DOMAINS.lock();
        list.retain(|d| !Arc::ptr_eq(d, domain));
        list.len()
    };
    let action = domain.action();
    // The memory goes when the last reference goes; the registry held one,
    // run queues and timers hold none of a dead domain's vCPUs for long.
    // Free the guest's frames now, whoever still holds the Arc.
    // Wait out any CPU still setting an event pending in this domain.
    drop(domain.events.lock());
    let freed = core::mem::replace(&mut *domain.memory.lock(), GuestMemory::empty());
    drop(freed);
    for v in &domain.vcpus {
        let cpu_ms = v.cpu_time.load(Ordering::Relaxed) / 1_000_000;
        let exits = v.inner.lock().exit_counts;
        log::info!("d{}v{}: {} ms on CPU, {}", domain.id, v.id, cpu_ms, exits);
    }
    crate::println!("rxen: d{} destroyed, memory returned", domain.id);
    let (_, free) = crate::mm::frames::stats();
    crate::println!("rxen: free memory {} MiB", (free * 4096) >> 20);
    if action == Action::Restart {
        crate::println!("rxen: restarting {} (on_reboot/on_crash = restart)", domain.name);
        if builder::restart(domain).is_ok() {
            return;
        }
    }
    if remaining == 0 && !builder::restart_pending() {
        crate::println!("rxen: no domains left, powering off");
        crate::arch::power::power_off(true);
    }
}
