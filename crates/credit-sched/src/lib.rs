//! The scheduling *policy* of Xen's credit scheduler ("credit1"), as a pure,
//! host-testable `no_std` crate.
//!
//! The hypervisor owns the mechanism (timers, IPIs, context switches, VMRUN);
//! this crate owns every decision: which vCPU runs next on a pCPU, for how
//! long, which pCPUs must be interrupted to reschedule, and how CPU time is
//! shared between domains by weight and cap. All state lives in one
//! [`CreditScheduler`], which the hypervisor wraps in a single lock. Time is
//! passed in by the caller (nanoseconds, monotonic), so the same code runs on
//! the host under simulated time.
//!
//! # The model (as in Xen's `xen/common/sched/credit.c`)
//!
//! * A **domain** has a `weight` (1..=65535, default 256) and a `cap` (percent
//!   of one pCPU, 0 = uncapped).
//! * A **vCPU** belongs to a domain, has a hard affinity ([`CpuMask`]), and is
//!   blocked, runnable (queued), running, or parked.
//! * **Credits** are CPU time. Every accounting period the credit of one
//!   period per pCPU is split between *active* domains in proportion to
//!   `weight × active vCPUs` (Xen makes weight per-vCPU: a domain with two busy
//!   vCPUs earns twice what a one-vCPU domain of equal weight earns), and a
//!   domain's share is split evenly between its active vCPUs. Running vCPUs
//!   burn credit as they run. A vCPU becomes active when a tick finds it
//!   running, and stops earning (credit halved) once it has saved more than a
//!   period's worth.
//! * **Priorities**: [`Priority::Boost`] (woken from blocked while `Under`),
//!   [`Priority::Under`] (credit ≥ 0 at the last accounting),
//!   [`Priority::Over`] (credit < 0). A vCPU of a capped domain whose debt
//!   exceeds its cap is **parked**: it does not run until accounting pays the
//!   debt back.
//! * **Per-pCPU run queues** sorted Boost > Under > Over, FIFO within a
//!   priority. A waking vCPU that outranks the running one preempts it. A pCPU
//!   whose best local candidate is `Over` (or that has nothing) steals a
//!   better-priority vCPU from another pCPU's queue, honouring affinity.
//!
//! # How the hypervisor drives it
//!
//! * Per pCPU, keep one timer armed at [`CreditScheduler::next_event`]. When
//!   it fires, call [`CreditScheduler::tick`]; it returns the pCPUs that must
//!   reschedule (possibly including this one).
//! * Call [`CreditScheduler::schedule`] on a pCPU when it was told to (by
//!   `tick`, by an IPI from a `wake`, a `sleep`, a [`Decision::kick`]), or when
//!   its running vCPU blocks or yields. Run [`Decision::next`] (or halt when it
//!   is `None`), then re-arm the timer at `next_event`.
//! * Every returned [`PcpuId`] / [`CpuMask`] other than the current pCPU is a
//!   pCPU to interrupt (IPI) so that it calls `schedule`.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod cpumask;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::fmt;

pub use cpumask::{CpuMask, MAX_PCPUS};

/// Identifies a domain (the hypervisor's domain id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainId(pub u32);

/// Identifies a vCPU. Unique across all domains (the hypervisor allocates it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VcpuId(pub u32);

/// Identifies a physical CPU, `0..nr_pcpus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PcpuId(pub u32);

impl PcpuId {
    /// The pCPU number as an index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for DomainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "d{}", self.0)
    }
}

impl fmt::Display for VcpuId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl fmt::Display for PcpuId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpu{}", self.0)
    }
}

/// Default domain weight (Xen's `CSCHED_DEFAULT_WEIGHT`).
pub const DEFAULT_WEIGHT: u32 = 256;
/// Largest accepted weight.
pub const MAX_WEIGHT: u32 = 65535;
/// Largest accepted cap, in percent of one pCPU (Xen stores caps as `u16`).
pub const MAX_CAP: u32 = 65535;
/// Shortest time slice [`CreditScheduler::schedule`] ever hands out (Xen's
/// `CSCHED_MIN_TIMER`, the minimum rate limit: 100 µs).
pub const MIN_TIMER_NS: u64 = 100_000;

const MS: u64 = 1_000_000;

/// Global scheduler parameters (Xen's `sched_credit_tslice_ms`,
/// `sched_ratelimit_us` and the fixed tick / accounting periods).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedConfig {
    /// Time slice: how long a vCPU runs before the pCPU reschedules. Xen: 30 ms.
    pub tslice_ns: u64,
    /// Per-pCPU tick: burns the running vCPU's credit, ends its boost, makes it
    /// active. Xen: tslice / 3 = 10 ms.
    pub tick_ns: u64,
    /// Accounting period: how often credits are handed out. Xen: = tslice, 30 ms.
    pub accounting_period_ns: u64,
    /// Context-switch rate limit: a runnable vCPU that was switched in less
    /// than this long ago keeps the pCPU (0 = off). Xen: 1 ms.
    pub ratelimit_ns: u64,
}

impl Default for SchedConfig {
    fn default() -> Self {
        SchedConfig {
            tslice_ns: 30 * MS,
            tick_ns: 10 * MS,
            accounting_period_ns: 30 * MS,
            ratelimit_ns: MS,
        }
    }
}

impl SchedConfig {
    /// Xen's derived parameters for a given time slice: tick = slice / 3
    /// (or the slice itself below 3 ms), accounting period = slice, rate
    /// limit 1 ms (capped at the slice).
    pub fn with_tslice(tslice_ns: u64) -> Self {
        let tick_ns = if tslice_ns < 3 * MS {
            tslice_ns
        } else {
            tslice_ns / 3
        };
        SchedConfig {
            tslice_ns,
            tick_ns,
            accounting_period_ns: tslice_ns,
            ratelimit_ns: MS.min(tslice_ns),
        }
    }

    fn validate(&self) -> Result<(), SchedError> {
        // 1 ms .. 1 s like Xen's XEN_SYSCTL_CSCHED_TSLICE_{MIN,MAX}; tick and
        // accounting period are kept in a sane range too.
        let ok_range = |v: u64| (MIN_TIMER_NS..=1_000 * MS).contains(&v);
        if !ok_range(self.tslice_ns)
            || !ok_range(self.tick_ns)
            || !ok_range(self.accounting_period_ns)
            || self.ratelimit_ns > self.tslice_ns
        {
            return Err(SchedError::InvalidConfig);
        }
        Ok(())
    }
}

/// Why a scheduler operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedError {
    /// `nr_pcpus` is 0 or above [`MAX_PCPUS`], or a [`SchedConfig`] field is out of range.
    InvalidConfig,
    /// Weight outside `1..=65535`.
    InvalidWeight,
    /// Cap above [`MAX_CAP`].
    InvalidCap,
    /// The domain already exists.
    DomainExists,
    /// No such domain.
    NoSuchDomain,
    /// The vCPU id is already in use.
    VcpuExists,
    /// No such vCPU.
    NoSuchVcpu,
    /// The affinity names no pCPU this scheduler owns.
    EmptyAffinity,
}

impl fmt::Display for SchedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SchedError::InvalidConfig => "invalid scheduler configuration",
            SchedError::InvalidWeight => "weight must be in 1..=65535",
            SchedError::InvalidCap => "cap out of range",
            SchedError::DomainExists => "domain already exists",
            SchedError::NoSuchDomain => "no such domain",
            SchedError::VcpuExists => "vCPU already exists",
            SchedError::NoSuchVcpu => "no such vCPU",
            SchedError::EmptyAffinity => "affinity contains no usable pCPU",
        })
    }
}

/// Scheduling priority of a vCPU (Xen's `CSCHED_PRI_TS_*`). Ordered: `Over < Under < Boost`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Has used up its credit (credit < 0 at the last accounting).
    Over,
    /// Has credit left.
    Under,
    /// Just woke up from blocking while `Under`: runs ahead of everyone else
    /// until a tick catches it running.
    Boost,
}

impl Priority {
    /// Xen's numeric value (as printed by its `r` debug key).
    pub const fn xen_value(self) -> i32 {
        match self {
            Priority::Boost => 0,
            Priority::Under => -1,
            Priority::Over => -2,
        }
    }
}

/// Where a vCPU is, as seen by the scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VcpuState {
    /// Not runnable (never woken, blocked, or offline).
    Blocked,
    /// Runnable and waiting in this pCPU's run queue.
    Queued(PcpuId),
    /// The current vCPU of this pCPU.
    Running(PcpuId),
    /// Runnable, but its domain used up its cap: waits for accounting.
    Parked,
}

/// A snapshot of one vCPU's scheduling state (see [`CreditScheduler::vcpu_info`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VcpuInfo {
    /// Owning domain.
    pub domain: DomainId,
    /// Where it is.
    pub state: VcpuState,
    /// Current priority.
    pub priority: Priority,
    /// Credit in nanoseconds of CPU time (may be negative).
    pub credit: i64,
    /// Whether it currently earns credit (is on the active list).
    pub active: bool,
    /// Hard affinity.
    pub affinity: CpuMask,
    /// The pCPU it last ran on or is queued on.
    pub processor: PcpuId,
    /// Total CPU time consumed, in nanoseconds (as accounted so far).
    pub runtime_ns: u64,
}

/// What a pCPU does next, returned by [`CreditScheduler::schedule`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The vCPU to run, or `None` to idle (halt until interrupted).
    pub next: Option<VcpuId>,
    /// How long `next` may run before `schedule` must be called again
    /// (`u64::MAX` when idle). [`CreditScheduler::next_event`] may be earlier
    /// (a tick); arm the timer at that.
    pub run_for_ns: u64,
    /// `Some(p)` if `next` last ran on another pCPU `p` (stolen or migrated):
    /// its hardware state may be cached there.
    pub migrated_from: Option<PcpuId>,
    /// Other pCPUs to interrupt so they call `schedule` (they have work to
    /// pick up: idle pCPUs that can steal, or targets of a migration).
    pub kick: CpuMask,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loc {
    /// Neither queued nor running.
    Off,
    Queued(usize),
    Running(usize),
}

#[derive(Debug)]
struct Vcpu {
    dom: DomainId,
    affinity: CpuMask,
    /// Wants to run (woken and not put to sleep since).
    runnable: bool,
    parked: bool,
    loc: Loc,
    processor: usize,
    last_ran: Option<usize>,
    pri: Priority,
    credit: i64,
    active: bool,
    yielding: bool,
    /// Must move to another pCPU at its next deschedule (set by `tick`).
    migrate: bool,
    /// Time up to which the running vCPU's credit has been burned.
    burn_mark: u64,
    /// When it was last switched in (for the rate limit).
    run_start: u64,
    runtime_ns: u64,
    /// Time run on each pCPU in this accounting period and in the last one
    /// (see `fair_shares`).
    ran_here_ns: Vec<u64>,
    ran_here_last_ns: Vec<u64>,
}

#[derive(Debug)]
struct Domain {
    weight: u32,
    cap: u32,
    vcpus: Vec<VcpuId>,
    active_vcpus: u32,
}

#[derive(Debug, Default)]
struct Pcpu {
    runq: VecDeque<VcpuId>,
    curr: Option<VcpuId>,
    /// End of the current slice (meaningful while `curr` is set).
    slice_end: u64,
    next_tick: u64,
    /// An IPI asking this (idle) pCPU to schedule is pending.
    tickled: bool,
}

/// The credit scheduler: all run queues, domains and vCPUs of one cpupool.
#[derive(Debug)]
pub struct CreditScheduler {
    cfg: SchedConfig,
    nr_pcpus: usize,
    online: CpuMask,
    pcpus: Vec<Pcpu>,
    vcpus: BTreeMap<VcpuId, Vcpu>,
    doms: BTreeMap<DomainId, Domain>,
    /// Domains with at least one active vCPU, in accounting order.
    active_doms: Vec<DomainId>,
    /// Σ weight × active vCPUs over active domains (Xen's `prv->weight`).
    weight_total: u64,
    /// Sum of active vCPUs' credit after the last accounting.
    credit_balance: i64,
    next_acct: u64,
    nr_parked: usize,
    /// Where the next steal scan starts (Xen's `balance_bias`).
    balance_bias: usize,
}

/// How much of pCPU `c`'s next period vCPU `vc` can use: whatever it gets
/// if it is runnable; if it is blocked, what it ran on `c` in the last
/// period. The credit of a pCPU then matches the time its vCPUs use there:
/// a vCPU that is mostly blocked, or runs elsewhere, leaves none unspent
/// (a hundredth of a period each for dom0's two vCPUs was enough to push
/// the busy ones out of credit and flatten their weights).
fn usable_share(vc: &Vcpu, c: usize) -> i128 {
    if vc.runnable {
        return i128::MAX;
    }
    i128::from(vc.ran_here_last_ns.get(c).copied().unwrap_or(0))
}

/// Splits `period` among `(vcpu, weight, usable)` by weight, except that
/// none gets more than it can use: what a nearly idle vCPU (dom0's between
/// two commands, or one that runs on another pCPU) leaves goes to the busy
/// ones, by their weights. Without this, credit handed to a vCPU that never
/// spends it here is missing from the busy ones, they all run out, and out
/// of credit they share the pCPU equally: the weights are lost.
fn water_fill(period: i128, mut left: Vec<(VcpuId, i128, i128)>) -> Vec<(VcpuId, i128)> {
    let mut given = Vec::with_capacity(left.len());
    let mut rest = period;
    loop {
        let total: i128 = left.iter().map(|&(_, w, _)| w).sum();
        if total == 0 {
            return given;
        }
        let before = left.len();
        left.retain(|&(v, w, usable)| {
            if usable < rest * w / total {
                given.push((v, usable));
                false
            } else {
                true
            }
        });
        if left.len() == before {
            given.extend(left.iter().map(|&(v, w, _)| (v, rest * w / total)));
            return given;
        }
        rest = period - given.iter().map(|&(_, s)| s).sum::<i128>();
    }
}

/// Run-queue order: higher priority first; among vCPUs that are `Over`
/// (out of credit), the one deepest in debt last. Xen keeps `Over` vCPUs
/// first in, first out, so when every busy vCPU of a pCPU is out of credit
/// (something else, dom0, took part of the pCPU) they share it equally and
/// the weights are lost; ordered by credit they keep their proportions.
fn queue_order(a: &Vcpu, b: &Vcpu) -> core::cmp::Ordering {
    match b.pri.cmp(&a.pri) {
        core::cmp::Ordering::Equal if a.pri == Priority::Over => b.credit.cmp(&a.credit),
        order => order,
    }
}

fn ceil_div(a: i128, b: i128) -> i128 {
    debug_assert!(b > 0);
    if a >= 0 {
        (a + b - 1) / b
    } else {
        a / b
    }
}

impl CreditScheduler {
    /// A scheduler for pCPUs `0..nr_pcpus` (all online) with `cfg`.
    pub fn new(nr_pcpus: usize, cfg: SchedConfig) -> Result<Self, SchedError> {
        if nr_pcpus == 0 || nr_pcpus > MAX_PCPUS {
            return Err(SchedError::InvalidConfig);
        }
        cfg.validate()?;
        let mut pcpus = Vec::with_capacity(nr_pcpus);
        pcpus.resize_with(nr_pcpus, Pcpu::default);
        Ok(CreditScheduler {
            cfg,
            nr_pcpus,
            online: CpuMask::first_n(nr_pcpus),
            pcpus,
            vcpus: BTreeMap::new(),
            doms: BTreeMap::new(),
            active_doms: Vec::new(),
            weight_total: 0,
            credit_balance: 0,
            next_acct: cfg.accounting_period_ns,
            nr_parked: 0,
            balance_bias: 0,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> SchedConfig {
        self.cfg
    }

    /// Number of pCPUs.
    pub fn nr_pcpus(&self) -> usize {
        self.nr_pcpus
    }

    // ----------------------------------------------------------------- domains

    fn check_params(weight: u32, cap: u32) -> Result<(), SchedError> {
        if !(1..=MAX_WEIGHT).contains(&weight) {
            return Err(SchedError::InvalidWeight);
        }
        if cap > MAX_CAP {
            return Err(SchedError::InvalidCap);
        }
        Ok(())
    }

    /// Registers a domain with `weight` (1..=65535; Xen's default is
    /// [`DEFAULT_WEIGHT`]) and `cap` (percent of one pCPU, 0 = uncapped).
    pub fn add_domain(&mut self, d: DomainId, weight: u32, cap: u32) -> Result<(), SchedError> {
        Self::check_params(weight, cap)?;
        if self.doms.contains_key(&d) {
            return Err(SchedError::DomainExists);
        }
        self.doms.insert(
            d,
            Domain {
                weight,
                cap,
                vcpus: Vec::new(),
                active_vcpus: 0,
            },
        );
        Ok(())
    }

    /// Changes a domain's weight and cap (takes effect at the next accounting).
    pub fn set_params(&mut self, d: DomainId, weight: u32, cap: u32) -> Result<(), SchedError> {
        Self::check_params(weight, cap)?;
        let dom = self.doms.get_mut(&d).ok_or(SchedError::NoSuchDomain)?;
        let n = u64::from(dom.active_vcpus);
        self.weight_total = self.weight_total - u64::from(dom.weight) * n + u64::from(weight) * n;
        dom.weight = weight;
        dom.cap = cap;
        Ok(())
    }

    /// A domain's `(weight, cap)`.
    pub fn params(&self, d: DomainId) -> Option<(u32, u32)> {
        self.doms.get(&d).map(|dom| (dom.weight, dom.cap))
    }

    /// Removes a domain and all its vCPUs. Returns the pCPUs that were running
    /// one of them: they must reschedule (they are no longer running anything).
    pub fn remove_domain(&mut self, d: DomainId) -> CpuMask {
        let mut kick = CpuMask::empty();
        let Some(dom) = self.doms.get(&d) else {
            return kick;
        };
        for v in dom.vcpus.clone() {
            if let Some(c) = self.remove_vcpu(v) {
                kick.insert(c);
            }
        }
        self.doms.remove(&d);
        kick
    }

    // ------------------------------------------------------------------- vCPUs

    /// Adds a vCPU to domain `d`, blocked (offline) until the first [`wake`](Self::wake).
    pub fn add_vcpu(
        &mut self,
        d: DomainId,
        v: VcpuId,
        affinity: CpuMask,
    ) -> Result<(), SchedError> {
        if self.vcpus.contains_key(&v) {
            return Err(SchedError::VcpuExists);
        }
        let first = affinity
            .and(self.online)
            .first()
            .ok_or(SchedError::EmptyAffinity)?;
        let dom = self.doms.get_mut(&d).ok_or(SchedError::NoSuchDomain)?;
        dom.vcpus.push(v);
        self.vcpus.insert(
            v,
            Vcpu {
                dom: d,
                affinity,
                runnable: false,
                parked: false,
                loc: Loc::Off,
                processor: first.index(),
                last_ran: None,
                pri: Priority::Under,
                credit: 0,
                active: false,
                yielding: false,
                migrate: false,
                burn_mark: 0,
                run_start: 0,
                runtime_ns: 0,
                ran_here_ns: alloc::vec![0; self.nr_pcpus],
                ran_here_last_ns: alloc::vec![0; self.nr_pcpus],
            },
        );
        Ok(())
    }

    /// Removes a vCPU. If it was running, returns its pCPU, which is now
    /// running nothing and must reschedule.
    pub fn remove_vcpu(&mut self, v: VcpuId) -> Option<PcpuId> {
        let vc = self.vcpus.get(&v)?;
        let (loc, active, parked, dom) = (vc.loc, vc.active, vc.parked, vc.dom);
        if active {
            self.acct_stop(v);
        }
        if parked {
            self.nr_parked -= 1;
        }
        let mut ret = None;
        match loc {
            Loc::Off => {}
            Loc::Queued(c) => self.pcpus[c].runq.retain(|&x| x != v),
            Loc::Running(c) => {
                self.pcpus[c].curr = None;
                ret = Some(PcpuId(c as u32));
            }
        }
        if let Some(dom) = self.doms.get_mut(&dom) {
            dom.vcpus.retain(|&x| x != v);
        }
        self.vcpus.remove(&v);
        ret
    }

    /// Changes a vCPU's hard affinity. Returns a pCPU to interrupt, if any: the
    /// pCPU running it when that is no longer allowed (it must reschedule and
    /// will migrate the vCPU), or a pCPU that can now run it.
    pub fn set_affinity(
        &mut self,
        v: VcpuId,
        affinity: CpuMask,
    ) -> Result<Option<PcpuId>, SchedError> {
        if affinity.and(self.online).is_empty() {
            return Err(SchedError::EmptyAffinity);
        }
        let vc = self.vcpus.get_mut(&v).ok_or(SchedError::NoSuchVcpu)?;
        vc.affinity = affinity;
        let allowed = |c: usize| affinity.contains(PcpuId(c as u32));
        match vc.loc {
            Loc::Running(c) => Ok((!allowed(c)).then_some(PcpuId(c as u32))),
            Loc::Queued(c) if !allowed(c) => {
                self.pcpus[c].runq.retain(|&x| x != v);
                self.vcpu_mut(v).loc = Loc::Off;
                Ok(self.place(v))
            }
            Loc::Queued(c) => {
                // Still allowed here; let an idle pCPU of the new mask steal it.
                Ok(self.kick_idler(affinity, Some(c)))
            }
            Loc::Off => {
                if !allowed(vc.processor) {
                    vc.processor = affinity.and(self.online).first().map_or(0, PcpuId::index);
                }
                Ok(None)
            }
        }
    }

    /// Makes a vCPU runnable (it woke up, or came online). Returns the pCPU to
    /// interrupt (IPI) so that it reschedules: an idle pCPU the vCPU was queued
    /// on, or a busy one where the vCPU outranks the running vCPU (preemption).
    ///
    /// A vCPU waking from blocked with priority `Under` is boosted.
    pub fn wake(&mut self, v: VcpuId, _now_ns: u64) -> Option<PcpuId> {
        let vc = self.vcpus.get_mut(&v)?;
        if vc.runnable {
            return None;
        }
        vc.runnable = true;
        if vc.loc != Loc::Off {
            // Blocked while still current on its pCPU, and woken again before
            // that pCPU rescheduled: it just keeps running.
            return None;
        }
        if vc.parked {
            return None;
        }
        if vc.pri == Priority::Under {
            vc.pri = Priority::Boost;
        }
        self.place(v)
    }

    /// Makes a vCPU not runnable (blocked or offline). If it is running,
    /// returns its pCPU, which must reschedule; until it does, the vCPU is
    /// still that pCPU's current vCPU.
    pub fn sleep(&mut self, v: VcpuId, _now_ns: u64) -> Option<PcpuId> {
        let vc = self.vcpus.get_mut(&v)?;
        vc.runnable = false;
        match vc.loc {
            Loc::Off => None,
            Loc::Queued(c) => {
                vc.loc = Loc::Off;
                self.pcpus[c].runq.retain(|&x| x != v);
                None
            }
            Loc::Running(c) => Some(PcpuId(c as u32)),
        }
    }

    /// The running vCPU `v` gives up the pCPU (e.g. `SCHEDOP_yield`). Returns
    /// the pCPU that must now call [`schedule`](Self::schedule) (if `v` is
    /// running). It is requeued behind one vCPU of lower priority if there is one.
    pub fn yield_vcpu(&mut self, v: VcpuId, _now_ns: u64) -> Option<PcpuId> {
        let vc = self.vcpus.get_mut(&v)?;
        match vc.loc {
            Loc::Running(c) => {
                vc.yielding = true;
                Some(PcpuId(c as u32))
            }
            _ => None,
        }
    }

    // -------------------------------------------------------------- scheduling

    /// The periodic timer of `cpu` fired (call it whenever `now_ns` reaches
    /// [`next_event`](Self::next_event)). Runs the accounting when due, burns
    /// the running vCPU's credit, ends its boost and makes it active.
    ///
    /// Returns the pCPUs that must call [`schedule`](Self::schedule) now: this
    /// one when its slice is over (or its vCPU was parked), others whose
    /// running vCPU was parked or that received work.
    pub fn tick(&mut self, cpu: PcpuId, now_ns: u64) -> CpuMask {
        let mut kick = CpuMask::empty();
        let c = cpu.index();
        if c >= self.nr_pcpus {
            return kick;
        }
        if now_ns >= self.next_acct {
            self.account(now_ns, &mut kick);
            self.next_acct = if now_ns - self.next_acct >= self.cfg.accounting_period_ns {
                now_ns.saturating_add(self.cfg.accounting_period_ns)
            } else {
                self.next_acct.saturating_add(self.cfg.accounting_period_ns)
            };
        }
        if let Some(v) = self.pcpus[c].curr {
            if now_ns >= self.pcpus[c].next_tick {
                self.pcpus[c].next_tick = now_ns.saturating_add(self.cfg.tick_ns);
                self.burn(v, now_ns);
                let vc = self.vcpu_mut(v);
                // Caught running by a tick: it uses a non-negligible amount of
                // CPU, so no more boost, and it starts earning credit.
                if vc.pri == Priority::Boost {
                    vc.pri = Priority::Under;
                }
                if !vc.active {
                    self.acct_start(v);
                }
                // Others wait here while a pCPU this vCPU may use idles:
                // move it there (Xen's migrate-running check in
                // `csched_vcpu_acct`), so the waiters get this pCPU.
                if !self.pcpus[c].runq.is_empty() {
                    let aff = self.vcpu(v).affinity;
                    if self.kick_idler(aff, Some(c)).is_some_and(|t| {
                        // The idler was only marked to find it; the
                        // migration itself is done by `schedule` on `cpu`.
                        self.pcpus[t.index()].tickled = false;
                        true
                    }) {
                        self.vcpu_mut(v).migrate = true;
                        kick.insert(cpu);
                    }
                }
            }
            let vc = self.vcpu(v);
            if now_ns >= self.pcpus[c].slice_end || vc.parked || !vc.runnable {
                kick.insert(cpu);
            }
        }
        kick
    }

    /// Picks what `cpu` runs next. Call it when told to (see the crate docs),
    /// when the running vCPU blocks ([`sleep`](Self::sleep)) or yields, and
    /// when its slice is over.
    pub fn schedule(&mut self, cpu: PcpuId, now_ns: u64) -> Decision {
        let mut kick = CpuMask::empty();
        let c = cpu.index();
        let idle = Decision {
            next: None,
            run_for_ns: u64::MAX,
            migrated_from: None,
            kick,
        };
        if c >= self.nr_pcpus {
            return idle;
        }
        self.pcpus[c].tickled = false;

        // 1. Account for, and put away, the current vCPU.
        if let Some(p) = self.pcpus[c].curr {
            self.burn(p, now_ns);
            let ratelimit = self.cfg.ratelimit_ns;
            let vc = self.vcpu_mut(p);
            let migrate = core::mem::take(&mut vc.migrate);
            let may_stay = vc.runnable && !vc.parked && vc.affinity.contains(cpu) && !migrate;
            let ran = now_ns.saturating_sub(vc.run_start);
            if may_stay && !vc.yielding && ratelimit > 0 && ran < ratelimit {
                // Rate limit: keep the current vCPU until it has run `ratelimit`.
                let run_for = (ratelimit - ran).max(MIN_TIMER_NS);
                self.pcpus[c].slice_end = now_ns.saturating_add(run_for);
                return Decision {
                    next: Some(p),
                    run_for_ns: run_for,
                    migrated_from: None,
                    kick,
                };
            }
            let yielding = vc.yielding;
            vc.yielding = false;
            vc.loc = Loc::Off;
            let wants_cpu = vc.runnable && !vc.parked;
            // Put off the pCPU before its slice was over (a boosted vCPU
            // woke): it goes back ahead of its equals, not behind them.
            // Otherwise every wake-up of a nearly idle vCPU (dom0's, every
            // few ms) rotates the busy ones round-robin, and their weights
            // no longer show.
            let preempted = may_stay && !yielding && now_ns < self.pcpus[c].slice_end;
            self.pcpus[c].curr = None;
            if preempted {
                self.runq_insert_first(p, c);
            } else if may_stay {
                self.runq_insert(p, c, yielding);
            } else if wants_cpu {
                // Its affinity no longer includes this pCPU, or an idle pCPU
                // can take it: migrate it.
                if let Some(t) = self.place(p) {
                    kick.insert(t);
                }
            }
        }

        // 2. Best local candidate; if it is only `Over` (or there is none),
        //    look for better work on other pCPUs.
        let local_pri = self.pcpus[c].runq.front().map(|&v| self.vcpu(v).pri);
        let mut next = None;
        if local_pri.is_none_or(|p| p <= Priority::Over) {
            next = self.steal(c, local_pri);
        }
        if next.is_none() {
            next = self.pcpus[c].runq.pop_front();
        }

        // 3. Switch it in.
        let decision = match next {
            None => Decision { kick, ..idle },
            Some(v) => {
                let tslice = self.cfg.tslice_ns;
                let vc = self.vcpu_mut(v);
                vc.loc = Loc::Running(c);
                vc.processor = c;
                let migrated_from = vc.last_ran.filter(|&l| l != c).map(|l| PcpuId(l as u32));
                vc.last_ran = Some(c);
                vc.burn_mark = now_ns;
                vc.run_start = now_ns;
                let pc = &mut self.pcpus[c];
                pc.curr = Some(v);
                pc.slice_end = now_ns.saturating_add(tslice);
                if pc.next_tick <= now_ns {
                    pc.next_tick = now_ns.saturating_add(self.cfg.tick_ns);
                }
                Decision {
                    next: Some(v),
                    run_for_ns: tslice,
                    migrated_from,
                    kick,
                }
            }
        };
        let mut decision = decision;

        // 4. Work left in our queue that an idle pCPU could run: wake one up
        //    per queued vCPU (work conservation).
        let queued: Vec<VcpuId> = self.pcpus[c].runq.iter().copied().collect();
        for v in queued {
            let aff = self.vcpu(v).affinity;
            match self.kick_idler(aff, Some(c)) {
                Some(t) => decision.kick.insert(t),
                None => break,
            }
        }
        decision.kick.remove(cpu);
        decision
    }

    /// The latest time (ns) at which the hypervisor must call
    /// [`tick`](Self::tick) on `cpu`: the next tick or end of slice of its
    /// running vCPU and, on pCPU 0 (the accounting master), the next
    /// accounting while any vCPU earns credit or is parked. `u64::MAX` if
    /// nothing is due (an idle pCPU sleeps until interrupted).
    pub fn next_event(&self, cpu: PcpuId) -> u64 {
        let c = cpu.index();
        let Some(pc) = self.pcpus.get(c) else {
            return u64::MAX;
        };
        let mut t = u64::MAX;
        if pc.curr.is_some() {
            t = t.min(pc.slice_end).min(pc.next_tick);
        }
        if c == 0 && (self.weight_total > 0 || self.nr_parked > 0) {
            t = t.min(self.next_acct);
        }
        t
    }

    /// The vCPU `cpu` is running, if any.
    pub fn current(&self, cpu: PcpuId) -> Option<VcpuId> {
        self.pcpus.get(cpu.index()).and_then(|p| p.curr)
    }

    /// A snapshot of a vCPU's scheduling state.
    pub fn vcpu_info(&self, v: VcpuId) -> Option<VcpuInfo> {
        let vc = self.vcpus.get(&v)?;
        let state = match vc.loc {
            Loc::Running(c) => VcpuState::Running(PcpuId(c as u32)),
            Loc::Queued(c) => VcpuState::Queued(PcpuId(c as u32)),
            Loc::Off if vc.runnable && vc.parked => VcpuState::Parked,
            Loc::Off => VcpuState::Blocked,
        };
        Some(VcpuInfo {
            domain: vc.dom,
            state,
            priority: vc.pri,
            credit: vc.credit,
            active: vc.active,
            affinity: vc.affinity,
            processor: PcpuId(vc.processor as u32),
            runtime_ns: vc.runtime_ns,
        })
    }

    /// Writes the run queues, like Xen's `r` debug key: global parameters,
    /// the active domains, and per pCPU its current vCPU and run queue with
    /// priority and credit.
    pub fn dump(&self, out: &mut impl fmt::Write) -> fmt::Result {
        writeln!(
            out,
            "Scheduler: SMP Credit Scheduler (credit)\n\
             info:\n\tncpus = {}\n\tweight = {}\n\tcredit balance = {}\n\
             \ttslice = {}us\n\tratelimit = {}us\n\ttick = {}us\n\taccounting period = {}us\n\
             \tnext accounting = {}ns\n\tparked = {}",
            self.nr_pcpus,
            self.weight_total,
            self.credit_balance,
            self.cfg.tslice_ns / 1000,
            self.cfg.ratelimit_ns / 1000,
            self.cfg.tick_ns / 1000,
            self.cfg.accounting_period_ns / 1000,
            self.next_acct,
            self.nr_parked,
        )?;
        writeln!(out, "active domains:")?;
        for d in &self.active_doms {
            let dom = &self.doms[d];
            writeln!(
                out,
                "\t{d}: weight={} cap={} active vcpus={}",
                dom.weight, dom.cap, dom.active_vcpus
            )?;
        }
        for (c, pc) in self.pcpus.iter().enumerate() {
            write!(out, "CPU[{c:02}] nr_queued={}", pc.runq.len())?;
            if pc.tickled {
                write!(out, " tickled")?;
            }
            match pc.curr {
                Some(v) => {
                    write!(out, " curr=")?;
                    self.dump_vcpu(out, v)?;
                }
                None => writeln!(out, " curr=idle")?,
            }
            for (i, &v) in pc.runq.iter().enumerate() {
                write!(out, "\t{i:3}: ")?;
                self.dump_vcpu(out, v)?;
            }
        }
        let parked: Vec<VcpuId> = self
            .vcpus
            .iter()
            .filter(|(_, vc)| vc.parked)
            .map(|(&v, _)| v)
            .collect();
        if !parked.is_empty() {
            writeln!(out, "parked:")?;
            for v in parked {
                write!(out, "\t")?;
                self.dump_vcpu(out, v)?;
            }
        }
        Ok(())
    }

    fn dump_vcpu(&self, out: &mut impl fmt::Write, v: VcpuId) -> fmt::Result {
        let vc = self.vcpu(v);
        writeln!(
            out,
            "[{}.{}] pri={} flags={}{}{} credit={} cpu={} affinity={}",
            vc.dom,
            v,
            vc.pri.xen_value(),
            if vc.active { "A" } else { "-" },
            if vc.parked { "P" } else { "-" },
            if vc.yielding { "Y" } else { "-" },
            vc.credit,
            vc.processor,
            vc.affinity
        )
    }

    /// Checks the internal invariants (a debugging aid for tests): every
    /// queued vCPU is runnable, unparked, allowed on its pCPU and queued once;
    /// run queues are sorted by priority; no vCPU is both queued and running
    /// or running on two pCPUs; the active-weight bookkeeping adds up.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let mut seen = BTreeMap::new();
        for (c, pc) in self.pcpus.iter().enumerate() {
            let cpu = PcpuId(c as u32);
            if let Some(v) = pc.curr {
                let vc = self.vcpus.get(&v).ok_or("current vCPU does not exist")?;
                if vc.loc != Loc::Running(c) {
                    return Err("current vCPU's location is wrong");
                }
                if seen.insert(v, c).is_some() {
                    return Err("vCPU is current on two pCPUs");
                }
            }
            let mut prev = Priority::Boost;
            for &v in &pc.runq {
                let vc = self.vcpus.get(&v).ok_or("queued vCPU does not exist")?;
                if vc.loc != Loc::Queued(c) {
                    return Err("queued vCPU's location is wrong");
                }
                if !vc.runnable || vc.parked {
                    return Err("queued vCPU is not runnable or is parked");
                }
                if !vc.affinity.contains(cpu) {
                    return Err("queued vCPU is not allowed on its pCPU");
                }
                if vc.pri > prev {
                    return Err("run queue is not sorted by priority");
                }
                prev = vc.pri;
                if seen.insert(v, c).is_some() {
                    return Err("vCPU is queued twice or queued and running");
                }
            }
        }
        for (&v, vc) in &self.vcpus {
            if vc.loc == Loc::Off && seen.contains_key(&v) {
                return Err("off vCPU found on a pCPU");
            }
            if vc.loc != Loc::Off && !seen.contains_key(&v) {
                return Err("vCPU location points nowhere");
            }
            if matches!(vc.loc, Loc::Queued(_)) && vc.parked {
                return Err("parked vCPU is queued");
            }
        }
        let mut weight = 0u64;
        let mut parked = 0;
        for (d, dom) in &self.doms {
            let active = dom
                .vcpus
                .iter()
                .filter(|v| self.vcpus.get(v).is_some_and(|vc| vc.active))
                .count() as u32;
            if active != dom.active_vcpus {
                return Err("domain's active vCPU count is wrong");
            }
            if (active > 0) != self.active_doms.contains(d) {
                return Err("active domain list is wrong");
            }
            weight += u64::from(dom.weight) * u64::from(active);
            parked += dom
                .vcpus
                .iter()
                .filter(|v| self.vcpus.get(v).is_some_and(|vc| vc.parked))
                .count();
        }
        if weight != self.weight_total {
            return Err("total active weight is wrong");
        }
        if parked != self.nr_parked {
            return Err("parked count is wrong");
        }
        Ok(())
    }

    // --------------------------------------------------------------- internals

    fn vcpu(&self, v: VcpuId) -> &Vcpu {
        &self.vcpus[&v]
    }

    fn vcpu_mut(&mut self, v: VcpuId) -> &mut Vcpu {
        self.vcpus.get_mut(&v).expect("vCPU exists")
    }

    /// Charges a running vCPU for the CPU time since its last burn.
    fn burn(&mut self, v: VcpuId, now: u64) {
        let vc = self.vcpu_mut(v);
        let delta = now.saturating_sub(vc.burn_mark);
        vc.credit = vc.credit.saturating_sub(delta.min(i64::MAX as u64) as i64);
        vc.runtime_ns = vc.runtime_ns.saturating_add(delta);
        if let Some(here) = vc.ran_here_ns.get_mut(vc.processor) {
            *here = here.saturating_add(delta);
        }
        vc.burn_mark = vc.burn_mark.max(now);
        // A vCPU off the active list that has used up its saved credit starts
        // earning again (Xen waits for a tick to catch it running, which a
        // vCPU running in short bursts may dodge for a long time, drifting
        // far below zero and losing its boost).
        if vc.credit < 0 && !vc.active {
            self.acct_start(v);
        }
    }

    fn acct_start(&mut self, v: VcpuId) {
        let vc = self.vcpu_mut(v);
        if vc.active {
            return;
        }
        vc.active = true;
        let d = vc.dom;
        let dom = self.doms.get_mut(&d).expect("domain exists");
        dom.active_vcpus += 1;
        // Weight is per active vCPU, as in Xen.
        self.weight_total += u64::from(dom.weight);
        if dom.active_vcpus == 1 {
            self.active_doms.push(d);
        }
    }

    fn acct_stop(&mut self, v: VcpuId) {
        let vc = self.vcpu_mut(v);
        if !vc.active {
            return;
        }
        vc.active = false;
        let d = vc.dom;
        let dom = self.doms.get_mut(&d).expect("domain exists");
        dom.active_vcpus -= 1;
        self.weight_total -= u64::from(dom.weight);
        if dom.active_vcpus == 0 {
            self.active_doms.retain(|&x| x != d);
        }
    }

    /// Inserts into `c`'s run queue after every vCPU of higher or equal
    /// priority (FIFO within a priority). A yielding vCPU goes one further,
    /// behind one vCPU of lower priority if there is one.
    fn runq_insert(&mut self, v: VcpuId, c: usize, yielding: bool) {
        let me = self.vcpu(v);
        let runq = &self.pcpus[c].runq;
        let mut pos = runq
            .iter()
            .position(|x| queue_order(&self.vcpus[x], me) == core::cmp::Ordering::Greater)
            .unwrap_or(runq.len());
        if yielding && pos < runq.len() {
            pos += 1;
        }
        self.pcpus[c].runq.insert(pos, v);
        let vc = self.vcpu_mut(v);
        vc.loc = Loc::Queued(c);
        vc.processor = c;
    }

    /// Inserts into `c`'s run queue ahead of every vCPU of its priority.
    fn runq_insert_first(&mut self, v: VcpuId, c: usize) {
        let pri = self.vcpu(v).pri;
        let runq = &self.pcpus[c].runq;
        let pos = runq
            .iter()
            .position(|x| self.vcpus[x].pri <= pri)
            .unwrap_or(runq.len());
        self.pcpus[c].runq.insert(pos, v);
        let vc = self.vcpu_mut(v);
        vc.loc = Loc::Queued(c);
        vc.processor = c;
    }

    /// Chooses a pCPU for a vCPU that became runnable (Xen's `csched_cpu_pick`,
    /// simplified): its previous pCPU if idle, else any idle pCPU it may run
    /// on, else its previous pCPU, else the first allowed one.
    fn pick_cpu(&self, v: VcpuId) -> usize {
        let vc = self.vcpu(v);
        let allowed = vc.affinity.and(self.online);
        let free = |c: usize| self.pcpus[c].curr.is_none() && !self.pcpus[c].tickled;
        let prev = vc.processor;
        let prev_ok = allowed.contains(PcpuId(prev as u32));
        if prev_ok && free(prev) && self.pcpus[prev].runq.is_empty() {
            return prev;
        }
        // Scan from prev+1 round-robin so that wake-ups spread out.
        let n = self.nr_pcpus;
        for i in 1..=n {
            let c = (prev + i) % n;
            if allowed.contains(PcpuId(c as u32)) && free(c) && self.pcpus[c].runq.is_empty() {
                return c;
            }
        }
        if prev_ok {
            return prev;
        }
        allowed.first().map_or(0, PcpuId::index)
    }

    /// Queues a runnable, unparked, off-CPU vCPU on a suitable pCPU and says
    /// which pCPU to tickle (Xen's `__runq_tickle`, simplified).
    fn place(&mut self, v: VcpuId) -> Option<PcpuId> {
        let c = self.pick_cpu(v);
        self.runq_insert(v, c, false);
        let pri = self.vcpu(v).pri;
        let pc = &self.pcpus[c];
        match pc.curr {
            None => {
                if pc.tickled {
                    None
                } else {
                    self.pcpus[c].tickled = true;
                    Some(PcpuId(c as u32))
                }
            }
            Some(cur) if pri > self.vcpu(cur).pri => Some(PcpuId(c as u32)),
            Some(_) => {
                // No preemption here; an idle pCPU the vCPU may run on can
                // steal it.
                let aff = self.vcpu(v).affinity;
                self.kick_idler(aff, Some(c))
            }
        }
    }

    /// Marks and returns an idle, not yet tickled pCPU in `mask` (other than `except`).
    fn kick_idler(&mut self, mask: CpuMask, except: Option<usize>) -> Option<PcpuId> {
        let cand = mask.and(self.online).iter().find(|p| {
            let c = p.index();
            Some(c) != except && self.pcpus[c].curr.is_none() && !self.pcpus[c].tickled
        })?;
        self.pcpus[cand.index()].tickled = true;
        Some(cand)
    }

    /// Load balancing (Xen's `csched_load_balance` + `csched_runq_steal`):
    /// takes from another pCPU's run queue the first vCPU of strictly higher
    /// priority than `than` (None = idle) that may run on `c`.
    fn steal(&mut self, c: usize, than: Option<Priority>) -> Option<VcpuId> {
        let n = self.nr_pcpus;
        let cpu = PcpuId(c as u32);
        for i in 0..n {
            let peer = (self.balance_bias + i) % n;
            if peer == c {
                continue;
            }
            let mut found = None;
            for (idx, &v) in self.pcpus[peer].runq.iter().enumerate() {
                let vc = self.vcpu(v);
                if than.is_some_and(|p| vc.pri <= p) {
                    break;
                }
                if vc.affinity.contains(cpu) {
                    found = Some(idx);
                    break;
                }
            }
            if let Some(idx) = found {
                let v = self.pcpus[peer].runq.remove(idx).expect("index in range");
                self.vcpu_mut(v).loc = Loc::Off;
                self.balance_bias = peer;
                return Some(v);
            }
        }
        None
    }

    fn park(&mut self, v: VcpuId, kick: &mut CpuMask) {
        let vc = self.vcpu_mut(v);
        if vc.parked {
            return;
        }
        vc.parked = true;
        let loc = vc.loc;
        self.nr_parked += 1;
        match loc {
            Loc::Off => {}
            Loc::Queued(c) => {
                self.pcpus[c].runq.retain(|&x| x != v);
                self.vcpu_mut(v).loc = Loc::Off;
            }
            Loc::Running(c) => kick.insert(PcpuId(c as u32)),
        }
    }

    fn unpark(&mut self, v: VcpuId, kick: &mut CpuMask) {
        let vc = self.vcpu_mut(v);
        if !vc.parked {
            return;
        }
        vc.parked = false;
        let wants_cpu = vc.runnable && vc.loc == Loc::Off;
        self.nr_parked -= 1;
        // Not boosted: it is not waking from blocked.
        if wants_cpu {
            if let Some(t) = self.place(v) {
                kick.insert(t);
            }
        }
    }

    /// The accounting (Xen's `csched_acct`): hands out one period of credit per
    /// pCPU to the active domains by weight, recomputes priorities, parks and
    /// unparks capped vCPUs, and retires vCPUs that stopped using their credit.
    /// Each active vCPU's fair share of one accounting period, computed per
    /// physical CPU: every pCPU's period is split between the active vCPUs
    /// allowed on it, in proportion to their weight (Xen's per-vCPU weight)
    /// divided by how many pCPUs each may use. With no pinning this is
    /// Xen's credit1 split (credit of all pCPUs shared by weight); with
    /// pinning, vCPUs confined to one pCPU share that pCPU by weight —
    /// credit1 proper hands them credit of pCPUs they can never use, so
    /// none of them runs out and the weights are lost.
    fn fair_shares(&self) -> BTreeMap<VcpuId, i128> {
        let period = i128::from(self.cfg.accounting_period_ns);
        // Weight over affinity size, scaled by the pCPU count to stay
        // integral.
        let scale = self.nr_pcpus as i128;
        let active: Vec<(VcpuId, &Vcpu, i128, CpuMask)> = self
            .vcpus
            .iter()
            .filter(|(_, vc)| vc.active)
            .map(|(&v, vc)| {
                let allowed = vc.affinity.and(self.online);
                let count = allowed.iter().count().max(1) as i128;
                let w = i128::from(self.doms[&vc.dom].weight) * scale / count;
                (v, vc, w.max(1), allowed)
            })
            .collect();
        let mut shares = BTreeMap::new();
        for c in self.online.iter() {
            let here: Vec<(VcpuId, i128, i128)> = active
                .iter()
                .filter(|(_, _, _, a)| a.contains(c))
                .map(|&(v, vc, w, _)| (v, w, usable_share(vc, c.index())))
                .collect();
            for (v, share) in water_fill(period, here) {
                *shares.entry(v).or_insert(0) += share;
            }
        }
        shares
    }

    fn account(&mut self, now: u64, kick: &mut CpuMask) {
        // Burn the running vCPUs first, so the accounting sees exact usage.
        for c in 0..self.nr_pcpus {
            if let Some(v) = self.pcpus[c].curr {
                self.burn(v, now);
            }
        }
        let period = i128::from(self.cfg.accounting_period_ns);
        if self.weight_total == 0 {
            self.credit_balance = 0;
            return;
        }
        for vc in self.vcpus.values_mut() {
            core::mem::swap(&mut vc.ran_here_ns, &mut vc.ran_here_last_ns);
            vc.ran_here_ns.fill(0);
        }
        let fair_shares = self.fair_shares();
        let mut balance: i128 = 0;
        let order = core::mem::take(&mut self.active_doms);
        let mut front = Vec::new();
        let mut rest = Vec::new();
        for d in order {
            let dom = &self.doms[&d];
            let n = i128::from(dom.active_vcpus);
            if n == 0 {
                continue;
            }
            let to_front = false;
            let mut cap_per_vcpu = None;
            if dom.cap != 0 {
                let cap = ceil_div(i128::from(dom.cap) * period, 100);
                cap_per_vcpu = Some(ceil_div(cap, n));
            }
            let vcpus: Vec<VcpuId> = dom.vcpus.clone();
            // Debt is forgiven only below four periods (Xen: one): with a
            // lower floor a low-weight vCPU that ran a whole slice while
            // everyone was Over would get that run free, and shares drift
            // towards equal.
            let min_credit = -4 * (self.cfg.accounting_period_ns as i64);
            let max_credit = self.cfg.accounting_period_ns as i64;
            for v in vcpus {
                let vc = self.vcpu_mut(v);
                if !vc.active {
                    continue;
                }
                // A capped domain earns at most its cap, spread over its
                // active vCPUs.
                let mut fair = fair_shares.get(&v).copied().unwrap_or(0);
                if let Some(cap) = cap_per_vcpu {
                    fair = fair.min(cap);
                }
                vc.credit = vc.credit.saturating_add(fair as i64);
                if vc.credit < 0 {
                    vc.pri = Priority::Over;
                    let credit = vc.credit;
                    if cap_per_vcpu.is_some_and(|cp| i128::from(credit) < -cp) {
                        self.park(v, kick);
                    }
                    let vc = self.vcpu_mut(v);
                    if vc.credit < min_credit {
                        vc.credit = min_credit;
                    }
                    balance += i128::from(vc.credit);
                } else {
                    vc.pri = Priority::Under;
                    self.unpark(v, kick);
                    let vc = self.vcpu_mut(v);
                    if vc.credit > max_credit && vc.runnable {
                        // Waiting for the pCPU is not leaving its share
                        // unused: it keeps what it earned (up to as much as
                        // it may owe), so a vCPU that others held off
                        // catches up rather than losing its weight.
                        vc.credit = vc.credit.min(-min_credit);
                        balance += i128::from(vc.credit);
                    } else if vc.credit > max_credit {
                        // Not using its share: stop earning, keep half as a
                        // head start for when it becomes busy again.
                        vc.credit /= 2;
                        let credit = vc.credit;
                        self.acct_stop(v);
                        // acct_stop may have removed the domain from the
                        // (now detached) active list; nothing to undo there.
                        balance += i128::from(credit);
                    } else {
                        balance += i128::from(vc.credit);
                    }
                }
            }
            if self.doms[&d].active_vcpus > 0 {
                if to_front {
                    front.push(d);
                } else {
                    rest.push(d);
                }
            }
        }
        // Domains activated during this pass (none today) would be in
        // `self.active_doms`; keep them after the reordered list.
        let added = core::mem::take(&mut self.active_doms);
        front.reverse();
        front.extend(rest);
        for d in added {
            if !front.contains(&d) {
                front.push(d);
            }
        }
        self.active_doms = front;
        self.credit_balance = balance.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;

        // Priorities changed: re-sort every run queue (stable, so FIFO order
        // within a priority is kept).
        for c in 0..self.nr_pcpus {
            let mut q: Vec<VcpuId> = self.pcpus[c].runq.drain(..).collect();
            q.sort_by(|a, b| queue_order(&self.vcpus[a], &self.vcpus[b]));
            self.pcpus[c].runq = q.into();
        }
    }
}

#[cfg(test)]
mod tests;
