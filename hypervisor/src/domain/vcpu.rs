//! A virtual CPU: its hardware state (behind a lock held by whichever
//! physical CPU runs it) and the few fields other CPUs touch without that
//! lock — scheduling state, timer deadline, where its `vcpu_info` lives.

use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

use crate::arch::vcpu::ArchVcpu;
use crate::arch::vlapic::VirtualLapic;

use super::Domain;

/// `Vcpu::startup` values: running normally; INIT seen; STARTUP seen
/// (ORed with its vector).
const NO_INIT: u32 = 0;
const WAITING_FOR_STARTUP: u32 = 0x200;
const STARTUP_RECEIVED: u32 = 0x100;

/// Scheduling states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RunState {
    /// Waiting in a run queue.
    Runnable = 0,
    /// On a physical CPU now.
    Running = 1,
    /// Halted or polling until an event or its timer.
    Blocked = 2,
    /// Offline (HLT with interrupts off, or not started yet).
    Down = 3,
    /// Its domain is gone or going.
    Dead = 4,
}

impl RunState {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Runnable,
            1 => Self::Running,
            2 => Self::Blocked,
            3 => Self::Down,
            _ => Self::Dead,
        }
    }
}

/// What only the running physical CPU touches.
pub struct VcpuInner {
    pub arch: ArchVcpu,
    pub lapic: VirtualLapic,
    pub mtrr_def_type: u64,
    /// Exits by kind, for the statistics printed when the domain ends.
    pub exit_counts: crate::arch::vcpu::ExitCounts,
}

pub struct Vcpu {
    pub id: u32,
    pub domain: Weak<Domain>,
    pub domain_id: u16,
    state: AtomicU8,
    /// Physical CPU it last ran on.
    pub pcpu: AtomicU32,
    /// Single-shot timer deadline in system time; 0 = not armed.
    pub timer_deadline: AtomicU64,
    /// Machine address of its 64-byte vcpu_info.
    pub vcpu_info_pa: AtomicU64,
    /// The guest page holding it once the guest moved it there (a
    /// reference held on it), 0 while it is in shared_info.
    pub vcpu_info_page: AtomicU64,
    /// Set while a physical CPU is running it (holds `inner`).
    on_cpu: AtomicBool,
    /// Set while it is inside the guest (between the TLB check before
    /// VMRUN and the exit), with the p2m generation its TLB reflects.
    in_guest: AtomicBool,
    tlb_seen: AtomicU64,
    /// Time spent running, runnable, blocked, offline (the guest's view).
    pub runstate: super::runstate::RunstateAccount,
    /// SCHEDOP_poll timeout in system time; 0 = none.
    pub poll_deadline: AtomicU64,
    /// This vCPU's own event-upcall vector (HVMOP_set_evtchn_upcall_vector);
    /// 0: the domain's callback vector.
    pub upcall_vector: AtomicU8,
    /// Ports a SCHEDOP_poll waits on (empty: not polling). Checked after
    /// the vCPU is marked blocked, so a kick in between is not lost.
    pub poll_ports: crate::sync::TicketLock<alloc::vec::Vec<u32>>,
    /// Fixed IPI vectors posted by other vCPUs, merged into the virtual
    /// APIC before the next entry.
    posted: [AtomicU64; 4],
    /// Where the vCPU is in INIT/STARTUP: one word, so that a second
    /// STARTUP (Linux sends two) can never restart a CPU the first one
    /// already started.
    startup: AtomicU32,
    /// Whether it was up when its domain suspended (a resumed or saved
    /// domain brings back only those).
    up_at_suspend: AtomicBool,
    /// VCPUOP_down asked it to stop where it is (not an INIT: its state
    /// is kept), and VCPUOP_up since asked it back (see `take_down`).
    down_asked: AtomicBool,
    up_asked: AtomicBool,
    pub inner: spin::Mutex<VcpuInner>,
}

impl Vcpu {
    pub fn new(
        domain: Weak<Domain>,
        domain_id: u16,
        id: u32,
        inner: VcpuInner,
        vcpu_info_pa: u64,
    ) -> Arc<Self> {
        Arc::new(Self {
            id,
            domain,
            domain_id,
            state: AtomicU8::new(RunState::Down as u8),
            pcpu: AtomicU32::new(0),
            timer_deadline: AtomicU64::new(0),
            vcpu_info_pa: AtomicU64::new(vcpu_info_pa),
            vcpu_info_page: AtomicU64::new(0),
            on_cpu: AtomicBool::new(false),
            in_guest: AtomicBool::new(false),
            tlb_seen: AtomicU64::new(0),
            runstate: super::runstate::RunstateAccount::new(),
            poll_deadline: AtomicU64::new(0),
            upcall_vector: AtomicU8::new(0),
            poll_ports: crate::sync::TicketLock::new(alloc::vec::Vec::new()),
            posted: [const { AtomicU64::new(0) }; 4],
            startup: AtomicU32::new(NO_INIT),
            up_at_suspend: AtomicBool::new(false),
            down_asked: AtomicBool::new(false),
            up_asked: AtomicBool::new(false),
            inner: spin::Mutex::new(inner),
        })
    }

    /// Nanoseconds it has spent running.
    pub fn cpu_time(&self) -> u64 {
        self.runstate.time_in(super::runstate::Runstate::Running)
    }

    /// Whether it is up (started, not offline), or was when its domain
    /// suspended.
    pub fn is_up(&self) -> bool {
        match self.state() {
            RunState::Down => false,
            RunState::Dead => self.up_at_suspend.load(Ordering::SeqCst),
            _ => true,
        }
    }

    /// VCPUOP_down: it leaves its CPU at its next check and stays down,
    /// its registers as they were.
    pub fn ask_down(&self) {
        self.down_asked.store(true, Ordering::SeqCst);
    }

    /// Whether its loop should take it down now. An up asked for while it
    /// never went down is forgotten here.
    pub fn take_down(&self) -> bool {
        if self.down_asked.load(Ordering::SeqCst) {
            return true;
        }
        self.up_asked.store(false, Ordering::SeqCst);
        false
    }

    /// VCPUOP_up of a vCPU VCPUOP_down took down: whether it was. The
    /// caller then revives it (`revive_if_asked`); if it is still on its
    /// way down, its loop does.
    pub fn ask_up(&self) -> bool {
        if !self.down_asked.swap(false, Ordering::SeqCst) {
            return false;
        }
        self.up_asked.store(true, Ordering::SeqCst);
        true
    }

    /// Makes it runnable if it is down and an up was asked for (whoever of
    /// VCPUOP_up and its own way down comes second does it).
    pub fn revive_if_asked(&self) -> bool {
        self.state() == RunState::Down
            && self.up_asked.swap(false, Ordering::SeqCst)
            && self.transition(RunState::Down, RunState::Runnable)
    }

    /// Stops it for good, remembering whether it was up.
    pub fn stop(&self) {
        let up = !matches!(self.state(), RunState::Down | RunState::Dead);
        if self.state() != RunState::Dead {
            self.up_at_suspend.store(up, Ordering::SeqCst);
        }
        self.set_state(RunState::Dead);
    }

    pub fn state(&self) -> RunState {
        RunState::from_u8(self.state.load(Ordering::SeqCst))
    }

    pub fn set_state(&self, state: RunState) {
        self.state.store(state as u8, Ordering::SeqCst);
    }

    /// Moves from `from` to `to` only if still in `from` (wake-up races).
    pub fn transition(&self, from: RunState, to: RunState) -> bool {
        self.state
            .compare_exchange(from as u8, to as u8, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    pub fn on_cpu(&self) -> bool {
        self.on_cpu.load(Ordering::SeqCst)
    }

    pub fn set_on_cpu(&self, on: bool) {
        self.on_cpu.store(on, Ordering::SeqCst);
    }

    /// About to enter the guest: returns whether its TLB must be flushed
    /// first (the domain's p2m generation moved since it last entered).
    /// Marked in the guest *before* the generation is read, so a flusher
    /// either sees it in the guest or it sees the flusher's generation.
    pub fn enter_guest(&self, generation: &AtomicU64) -> bool {
        self.in_guest.store(true, Ordering::SeqCst);
        let now = generation.load(Ordering::SeqCst);
        self.tlb_seen.swap(now, Ordering::SeqCst) != now
    }

    /// Back from the guest.
    pub fn leave_guest(&self) {
        self.in_guest.store(false, Ordering::SeqCst);
    }

    /// Whether it may still be using translations older than `generation`.
    pub fn in_guest_with_older(&self, generation: u64) -> bool {
        self.in_guest.load(Ordering::SeqCst) && self.tlb_seen.load(Ordering::SeqCst) < generation
    }

    /// An INIT IPI: the vCPU stops and waits for STARTUP.
    pub fn receive_init(&self) {
        self.startup.store(WAITING_FOR_STARTUP, Ordering::SeqCst);
    }

    /// A STARTUP IPI; as on hardware it counts only while the vCPU waits
    /// for one. Returns whether it did.
    pub fn receive_startup(&self, vector: u8) -> bool {
        self.startup
            .compare_exchange(
                WAITING_FOR_STARTUP,
                STARTUP_RECEIVED | u32::from(vector),
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// INIT seen and not yet followed by a start: the vCPU must be down.
    pub fn held_by_init(&self) -> bool {
        self.startup.load(Ordering::SeqCst) != NO_INIT
    }

    pub fn startup_received(&self) -> bool {
        self.startup.load(Ordering::SeqCst) & STARTUP_RECEIVED != 0
    }

    /// Consumes a received STARTUP, giving its vector; `None` if there is
    /// none or a new INIT replaced it meanwhile.
    pub fn take_startup(&self) -> Option<u8> {
        let seen = self.startup.load(Ordering::SeqCst);
        (seen & STARTUP_RECEIVED != 0
            && self
                .startup
                .compare_exchange(seen, NO_INIT, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok())
        .then_some(seen as u8)
    }

    pub fn post_vector(&self, vector: u8) {
        self.posted[usize::from(vector / 64)].fetch_or(1 << (vector % 64), Ordering::SeqCst);
    }

    /// Takes the posted vectors (bitmap of 256).
    pub fn take_posted(&self) -> [u64; 4] {
        core::array::from_fn(|i| self.posted[i].swap(0, Ordering::SeqCst))
    }

    pub fn has_posted(&self) -> bool {
        self.posted.iter().any(|w| w.load(Ordering::SeqCst) != 0)
    }

    /// The vcpu_info's `evtchn_upcall_pending` byte.
    pub fn upcall_pending(&self) -> bool {
        let pa = self.vcpu_info_pa.load(Ordering::SeqCst);
        crate::mm::machine::atomic_u8(pa).load(Ordering::SeqCst) != 0
    }
}

/// Creates `count` vCPUs for `dom`, each reset to the PVH entry state
/// (entry point `entry`, `%ebx` = `start_info`), all down; their VMCBs and
/// FPU areas are frames of the domain.
pub fn create_vcpus(
    dom: &Arc<Domain>,
    count: u32,
    entry: u32,
    start_info: u32,
) -> Result<(), super::memory::MemoryError> {
    let mut vcpus = alloc::vec::Vec::new();
    for i in 0..count {
        let (vmcb, fpu, root) = {
            let mut mem = dom.memory.lock();
            (mem.alloc_extra()?, mem.alloc_extra()?, mem.npt_root())
        };
        let mut arch = ArchVcpu::new(vmcb, fpu);
        arch.reset_pvh(entry, start_info, root);
        let inner = VcpuInner {
            arch,
            lapic: VirtualLapic::new(rxen_guest_layout::apic_id(i)),
            mtrr_def_type: 0xC06,
            exit_counts: Default::default(),
        };
        let info =
            dom.shared_info_pa + rxen_xen_abi::vcpu::shared_info::vcpu_info(i).unwrap_or(0) as u64;
        vcpus.push(Vcpu::new(Arc::downgrade(dom), dom.id, i, inner, info));
    }
    dom.set_vcpus(vcpus);
    Ok(())
}
