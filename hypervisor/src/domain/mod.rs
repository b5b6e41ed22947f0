//! Domains: what one is, the registry of live ones, and the few services
//! every part of the hypervisor asks of them (lookup by id, TLB flushes,
//! frame release). How they are built is in `builder` (boot-time domains),
//! `dom0` (the control domain) and `create` (domains the toolstack asks
//! for); how they end is `lifecycle`.

pub mod builder;
pub mod context;
pub mod create;
pub mod dom0;
pub mod guest_access;
pub mod lifecycle;
pub mod memory;
mod pod_cache;
pub mod runstate;
pub mod vcpu;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

use rxen_domain_config::DomainConfig;
use rxen_event_channel::PortTable;
use rxen_xen_abi::memory::{E820Entry, DOMID_FIRST_RESERVED};
use rxen_xen_abi::sched::ShutdownReason;

use crate::console::guest::GuestConsole;
use crate::grant::{GrantTable, MapperState};
use crate::sync::TicketLock;
use memory::GuestMemory;
use vcpu::Vcpu;

pub use lifecycle::{reap, DomainState};

pub type DomId = u16;

/// The control domain's id.
pub const CONTROL_DOMID: DomId = 0;
/// HVM parameters a domain has (HVM_NR_PARAMS in Xen 4.17 is 39).
pub const NR_PARAMS: usize = 40;
/// Grant-table frames a domain may have unless created with another limit
/// (Xen's default `gnttab_max_frames`).
pub const DEFAULT_GRANT_FRAMES: u32 = 64;
/// Maptrack frames (256 handles each) unless created with another limit.
pub const DEFAULT_MAPTRACK_FRAMES: u32 = 1024;

/// Where a domain came from, which decides who handles its end.
pub enum Origin {
    /// The control domain (dom0), built from the boot modules.
    Control,
    /// Declared at boot in an xl.cfg module: rxen acts on its `on_*`
    /// settings and serves its console.
    Boot(alloc::boxed::Box<DomainConfig>),
    /// Created by the toolstack (XEN_DOMCTL_createdomain): the toolstack
    /// handles its console, its store and its end.
    Toolstack,
}

/// What the toolstack set with domctls that only it reads back.
#[derive(Default)]
pub struct ToolstackState {
    /// Serialised CPUID leaves from XEN_DOMCTL_set_cpu_policy.
    pub cpu_policy: Vec<[u32; 6]>,
    pub tsc_mode: u32,
    pub gtsc_khz: u32,
    pub paging_pool_bytes: u64,
    pub time_offset_seconds: i64,
    /// Pages claimed with XENMEM_claim_pages and not yet populated.
    pub claimed_pages: u64,
}

pub struct Domain {
    pub id: DomId,
    pub name: String,
    pub origin: Origin,
    pub memory: TicketLock<GuestMemory>,
    vcpus: spin::Once<Vec<Arc<Vcpu>>>,
    /// vCPUs it may have (createdomain's max_vcpus).
    pub max_vcpus: u32,
    /// Machine address of the shared_info frame (held by `memory`).
    pub shared_info_pa: u64,
    pub shared_info_mapped: AtomicBool,
    pub events: TicketLock<PortTable>,
    /// The FIFO event ABI's state once the domain switched to it (taken
    /// after `events` when both are held).
    pub fifo: TicketLock<Option<crate::evtchn::fifo::FifoEvents>>,
    /// rxen's own console back-end (boot-time domains only).
    pub console: Option<GuestConsole>,
    /// Lines it writes with console_io or to port 0xE9.
    pub early_console: crate::console::guest::LineBuffer,
    pub params: TicketLock<[u64; NR_PARAMS]>,
    /// Vector of the global event upcall (HVM_PARAM_CALLBACK_IRQ type 2).
    pub callback_vector: AtomicU8,
    /// Its own grant table (as a granter).
    pub grants: TicketLock<GrantTable>,
    /// The grants it maps from others (as a mapper).
    pub mapped_grants: TicketLock<MapperState>,
    /// The memory map it was given (XENMEM_memory_map).
    pub e820: TicketLock<Vec<E820Entry>>,
    pub vm_assist: AtomicU64,
    /// Bumped whenever the p2m loses a mapping: vCPUs flush their TLB when
    /// they see a new value.
    pub npt_generation: AtomicU64,
    /// The toolstack's UUID for it.
    pub handle: TicketLock<[u8; 16]>,
    pub ssidref: u32,
    pub toolstack: TicketLock<ToolstackState>,
    /// Controller pauses (XEN_DOMCTL_pausedomain); vCPUs run only at 0.
    pause_count: AtomicU32,
    state: AtomicU8,
    shutdown_reason: AtomicU32,
}

/// Everything a new domain starts with; see [`Domain::new`].
pub struct DomainInit {
    pub id: DomId,
    pub name: String,
    pub origin: Origin,
    pub memory: GuestMemory,
    pub max_vcpus: u32,
    pub shared_info_pa: u64,
    pub events: PortTable,
    pub console: Option<GuestConsole>,
    pub params: [u64; NR_PARAMS],
    pub e820: Vec<E820Entry>,
    pub grant_frames: u32,
    pub maptrack_frames: u32,
    pub handle: [u8; 16],
    pub ssidref: u32,
    /// Starts with one controller pause (toolstack domains, as on Xen).
    pub paused: bool,
}

impl Domain {
    pub fn new(init: DomainInit) -> Arc<Self> {
        Arc::new(Self {
            id: init.id,
            name: init.name,
            origin: init.origin,
            memory: TicketLock::new(init.memory),
            vcpus: spin::Once::new(),
            max_vcpus: init.max_vcpus,
            shared_info_pa: init.shared_info_pa,
            shared_info_mapped: AtomicBool::new(false),
            events: TicketLock::new(init.events),
            fifo: TicketLock::new(None),
            console: init.console,
            early_console: crate::console::guest::LineBuffer::new(),
            params: TicketLock::new(init.params),
            callback_vector: AtomicU8::new(0),
            grants: TicketLock::new(GrantTable::new(init.grant_frames)),
            mapped_grants: TicketLock::new(MapperState::new(init.maptrack_frames)),
            e820: TicketLock::new(init.e820),
            vm_assist: AtomicU64::new(0),
            npt_generation: AtomicU64::new(0),
            handle: TicketLock::new(init.handle),
            ssidref: init.ssidref,
            toolstack: TicketLock::new(ToolstackState::default()),
            pause_count: AtomicU32::new(u32::from(init.paused)),
            state: AtomicU8::new(DomainState::Running as u8),
            shutdown_reason: AtomicU32::new(u32::MAX),
        })
    }

    /// Its vCPUs (none until they are created: XEN_DOMCTL_max_vcpus for
    /// toolstack domains).
    pub fn vcpus(&self) -> &[Arc<Vcpu>] {
        self.vcpus.get().map_or(&[], |v| v.as_slice())
    }

    /// Sets the vCPUs, once; false if they already exist.
    pub fn set_vcpus(&self, vcpus: Vec<Arc<Vcpu>>) -> bool {
        let mut fresh = false;
        self.vcpus.call_once(|| {
            fresh = true;
            vcpus
        });
        fresh
    }

    /// Machine address of guest frame `gfn` if it is RAM the guest may
    /// write (log-dirty's write protection counts as writable: the guest's
    /// writes go through all the same): a frame rxen may keep writing, as
    /// a vcpu_info or FIFO event page, once it holds a reference.
    pub fn writable_ram_frame(&self, gfn: u64) -> Result<u64, rxen_xen_abi::errno::Errno> {
        let memory = self.memory.lock();
        let page = memory.lookup(gfn).ok_or(rxen_xen_abi::errno::EINVAL)?;
        let writable = page.writable || memory.log_dirty_on();
        if page.kind != memory::PageKind::Ram || !writable {
            return Err(rxen_xen_abi::errno::EINVAL);
        }
        Ok(page.pa)
    }

    pub fn vcpu(&self, id: u32) -> Option<&Arc<Vcpu>> {
        self.vcpus().get(id as usize)
    }

    pub fn is_control(&self) -> bool {
        matches!(self.origin, Origin::Control)
    }

    /// The xl.cfg of a boot-time domain.
    pub fn boot_config(&self) -> Option<&DomainConfig> {
        match &self.origin {
            Origin::Boot(config) => Some(config),
            _ => None,
        }
    }

    /// Whether the guest asked for XEN_RUNSTATE_UPDATE (VMASST type 5).
    pub fn runstate_update_flag(&self) -> bool {
        self.vm_assist.load(Ordering::SeqCst) & (1 << 5) != 0
    }

    pub fn shutdown_reason(&self) -> Option<ShutdownReason> {
        ShutdownReason::from_u32(self.shutdown_reason.load(Ordering::SeqCst))
    }

    /// Whether a controller pause holds its vCPUs.
    pub fn is_paused(&self) -> bool {
        self.pause_count.load(Ordering::SeqCst) != 0
    }

    /// Drops every stale translation of this domain's p2m before returning:
    /// a vCPU in the guest right now is made to leave it, and every vCPU
    /// flushes before it enters again. Called after an entry was removed
    /// and before its frame is released.
    pub fn flush_tlbs(&self) {
        let generation = self.npt_generation.fetch_add(1, Ordering::SeqCst) + 1;
        for v in self.vcpus() {
            let mut kicked = false;
            while v.in_guest_with_older(generation) {
                if !kicked {
                    crate::sched::kick(v);
                    kicked = true;
                }
                core::hint::spin_loop();
            }
        }
    }
}

/// Live domains by id (dying ones stay until their last frame is gone).
static DOMAINS: TicketLock<BTreeMap<DomId, Arc<Domain>>> = TicketLock::new(BTreeMap::new());
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// A fresh domain id: increasing, as on Xen, wrapping below the reserved
/// ids and skipping ids still in use. `None` if all are taken.
pub fn allocate_id() -> Option<DomId> {
    let domains = DOMAINS.lock();
    for _ in 0..DOMID_FIRST_RESERVED {
        let id = NEXT_ID.fetch_add(1, Ordering::SeqCst) % u32::from(DOMID_FIRST_RESERVED);
        let id = id as DomId;
        if id != CONTROL_DOMID && !domains.contains_key(&id) {
            return Some(id);
        }
    }
    None
}

/// Whether `id` names no live domain (and may be created).
pub fn id_is_free(id: DomId) -> bool {
    !DOMAINS.lock().contains_key(&id)
}

pub fn register(domain: Arc<Domain>) {
    DOMAINS.lock().insert(domain.id, domain);
}

fn unregister(id: DomId) -> Option<Arc<Domain>> {
    DOMAINS.lock().remove(&id)
}

/// The domain with id `id`.
pub fn get(id: DomId) -> Option<Arc<Domain>> {
    DOMAINS.lock().get(&id).cloned()
}

/// The first domain with an id at or above `id` (Xen's lookup for
/// getdomaininfo and the domain lists).
pub fn first_at_or_above(id: DomId) -> Option<Arc<Domain>> {
    DOMAINS.lock().range(id..).next().map(|(_, d)| d.clone())
}

/// Every registered domain, in id order.
pub fn all() -> Vec<Arc<Domain>> {
    DOMAINS.lock().values().cloned().collect()
}

/// The control domain, if there is one.
pub fn control() -> Option<Arc<Domain>> {
    get(CONTROL_DOMID).filter(|d| d.is_control())
}

/// Drops one reference on a domain's frame; when that was the last frame
/// of a dying domain, the domain goes.
pub fn release_frame(pa: u64) {
    if let Some(owner) = crate::mm::pages::put(pa) {
        if crate::mm::pages::held_by(owner) == 0 {
            lifecycle::finish_if_dead(owner);
        }
    }
}

/// The domain list with state and CPU time (debug key 'q').
pub fn dump_domains() {
    crate::println!("rxen: domains:");
    crate::println!("rxen:   id name             state        vcpus  memory  cpu time");
    let mut totals = Sharing::default();
    for d in all() {
        let sharing = Sharing::of(&d);
        totals.add(sharing);
        let cpu_ns: u64 = d.vcpus().iter().map(|v| v.cpu_time()).sum();
        let ram = d.memory.lock().ram_bytes();
        crate::println!(
            "rxen:   d{:<2} {:<16} {:<12} {:>5} {:>5} MiB {:>6}.{:03} s",
            d.id,
            d.name,
            d.state_name(),
            d.vcpus().len(),
            ram >> 20,
            cpu_ns / 1_000_000_000,
            (cpu_ns / 1_000_000) % 1000
        );
        for v in d.vcpus() {
            crate::println!(
                "rxen:       v{} {:?} on cpu{}",
                v.id,
                v.state(),
                v.pcpu.load(Ordering::Relaxed)
            );
        }
        crate::println!(
            "rxen:       grant maps {}, refs pinned {}, ports {}",
            sharing.maps,
            sharing.pinned,
            sharing.ports
        );
    }
    // One line to compare before and after a guest's devices come and go.
    crate::println!(
        "rxen: totals: grant maps {}, refs pinned {}, ports {}",
        totals.maps,
        totals.pinned,
        totals.ports
    );
}

/// What a domain shares with others: grants of others it maps, its own
/// refs others have pinned, and its event channel ports in use.
#[derive(Clone, Copy, Default)]
struct Sharing {
    maps: usize,
    pinned: usize,
    ports: usize,
}

impl Sharing {
    fn of(d: &Domain) -> Self {
        Self {
            maps: d.mapped_grants.lock().maptrack.in_use(),
            pinned: d.grants.lock().pinned(),
            ports: d.events.lock().ports_in_use(),
        }
    }

    fn add(&mut self, other: Self) {
        self.maps += other.maps;
        self.pinned += other.pinned;
        self.ports += other.ports;
    }
}
