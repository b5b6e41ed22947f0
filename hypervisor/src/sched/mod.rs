//! Scheduling vCPUs onto physical CPUs with Xen's credit scheduler: the
//! policy (weights, caps, affinity, boost, work stealing) is the
//! `rxen-credit-sched` crate, behind one lock; this module is the
//! mechanism: per-CPU loops that ask it what to run, timers, and IPIs.

pub mod run;

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use rxen_credit_sched::{CpuMask, CreditScheduler, DomainId, PcpuId, SchedConfig, VcpuId};

use crate::arch::percpu::{self, MAX_CPUS};
use crate::arch::{apic, interrupts};
use crate::domain::vcpu::{RunState, Vcpu};
use crate::domain::Domain;
use crate::sync::TicketLock;
use crate::time;

pub use run::fire_expired_timers;

static POLICY: TicketLock<Option<CreditScheduler>> = TicketLock::new(None);
/// The vCPU objects behind the policy's ids.
static VCPUS: TicketLock<BTreeMap<u32, Arc<Vcpu>>> = TicketLock::new(BTreeMap::new());
/// Set (by an IPI or locally) when a CPU must ask the policy again.
static NEED_RESCHED: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// The policy's name for a vCPU: unique across domains.
pub fn vcpu_key(domid: u16, vcpu: u32) -> VcpuId {
    VcpuId((u32::from(domid) << 8) | vcpu)
}

/// Starts the policy for the CPUs that are online.
pub fn init() {
    let cpus = crate::arch::smp::cpus_online();
    let policy = CreditScheduler::new(cpus, SchedConfig::default())
        .expect("scheduler configuration is valid");
    *POLICY.lock() = Some(policy);
}

fn with_policy<R>(f: impl FnOnce(&mut CreditScheduler) -> R) -> R {
    f(POLICY.lock().as_mut().expect("sched::init ran"))
}

/// How a domain is scheduled: credit weight, cap (per cent of a CPU, 0 =
/// none) and the physical CPUs its vCPUs may use (`None`: all).
#[derive(Clone, Copy, Debug)]
pub struct SchedParams {
    pub weight: u32,
    pub cap: u32,
    pub affinity: Option<CpuMask>,
}

impl Default for SchedParams {
    fn default() -> Self {
        Self {
            weight: 256,
            cap: 0,
            affinity: None,
        }
    }
}

/// The physical CPUs that are online.
pub fn online_cpus() -> CpuMask {
    CpuMask::first_n(crate::arch::smp::cpus_online())
}

/// Registers a new domain and its vCPUs (all offline until woken).
pub fn add_domain(dom: &Arc<Domain>, params: SchedParams) -> Result<(), alloc::string::String> {
    let online = online_cpus();
    let affinity = params.affinity.map_or(online, |m| m.and(online));
    if affinity.is_empty() {
        return Err(alloc::string::String::from(
            "the CPUs it may run on are none this machine has",
        ));
    }
    with_policy(|p| {
        p.add_domain(DomainId(u32::from(dom.id)), params.weight, params.cap)
            .map_err(|e| alloc::format!("scheduler: {e:?}"))?;
        for v in dom.vcpus() {
            p.add_vcpu(
                DomainId(u32::from(dom.id)),
                vcpu_key(dom.id, v.id),
                affinity,
            )
            .map_err(|e| alloc::format!("scheduler: {e:?}"))?;
        }
        Ok::<(), alloc::string::String>(())
    })?;
    let mut map = VCPUS.lock();
    for v in dom.vcpus() {
        map.insert(vcpu_key(dom.id, v.id).0, v.clone());
    }
    Ok(())
}

/// The credit weight and cap of a domain.
pub fn params(domid: u16) -> Option<(u32, u32)> {
    with_policy(|p| p.params(DomainId(u32::from(domid))))
}

/// Sets a domain's weight and cap (XEN_DOMCTL_scheduler_op putinfo).
pub fn set_params(domid: u16, weight: u32, cap: u32) -> Result<(), ()> {
    with_policy(|p| p.set_params(DomainId(u32::from(domid)), weight, cap)).map_err(|_| ())
}

/// The hard affinity of a vCPU.
pub fn affinity(vcpu: &Vcpu) -> Option<CpuMask> {
    with_policy(|p| {
        p.vcpu_info(vcpu_key(vcpu.domain_id, vcpu.id))
            .map(|i| i.affinity)
    })
}

/// Sets a vCPU's hard affinity (restricted to online CPUs); returns the
/// affinity in effect, or `None` if that leaves no CPU.
pub fn set_affinity(vcpu: &Vcpu, mask: CpuMask) -> Option<CpuMask> {
    let mask = mask.and(online_cpus());
    if mask.is_empty() {
        return None;
    }
    let kick = with_policy(|p| p.set_affinity(vcpu_key(vcpu.domain_id, vcpu.id), mask).ok())?;
    if let Some(cpu) = kick {
        resched_cpu(cpu);
    }
    Some(mask)
}

/// Forgets a destroyed domain.
pub fn remove_domain(dom: &Domain) {
    let kick = with_policy(|p| p.remove_domain(DomainId(u32::from(dom.id))));
    resched_cpus(kick);
    let mut map = VCPUS.lock();
    for v in dom.vcpus() {
        map.remove(&vcpu_key(dom.id, v.id).0);
    }
}

/// `vcpu` became runnable: tell the policy, interrupt the CPU it names.
/// A vCPU of a paused domain waits until the domain is unpaused.
pub fn make_runnable(vcpu: &Arc<Vcpu>) {
    if vcpu.domain.upgrade().is_none_or(|d| d.is_paused()) {
        return;
    }
    let target = with_policy(|p| p.wake(vcpu_key(vcpu.domain_id, vcpu.id), time::now_ns()));
    if let Some(cpu) = target {
        resched_cpu(cpu);
    }
}

/// `vcpu` stopped being runnable (blocked, offline, dead).
fn make_not_runnable(vcpu: &Vcpu) {
    let _ = with_policy(|p| p.sleep(vcpu_key(vcpu.domain_id, vcpu.id), time::now_ns()));
}

fn resched_cpu(cpu: PcpuId) {
    let c = cpu.0 as usize;
    NEED_RESCHED[c].store(true, Ordering::SeqCst);
    if c != percpu::cpu_index() {
        apic::send_ipi(
            percpu::cpu(c).apic_id.load(Ordering::Relaxed),
            interrupts::VECTOR_KICK,
        );
    }
}

fn resched_cpus(mask: CpuMask) {
    for cpu in mask.iter() {
        resched_cpu(cpu);
    }
}

/// Whether this CPU was asked to reschedule (and clears the request).
pub fn take_resched() -> bool {
    NEED_RESCHED[percpu::cpu_index()].swap(false, Ordering::SeqCst)
}

/// The policy's periodic work for this CPU, when due: returns whether this
/// CPU must reschedule.
pub fn tick_if_due() -> bool {
    let me = PcpuId(percpu::cpu_index() as u32);
    let now = time::now_ns();
    let kick = with_policy(|p| {
        if now >= p.next_event(me) {
            p.tick(me, now)
        } else {
            CpuMask::empty()
        }
    });
    let mine = kick.contains(me);
    let mut others = kick;
    others.remove(me);
    resched_cpus(others);
    mine
}

/// When the policy needs this CPU's attention next (system time).
pub fn next_event() -> u64 {
    with_policy(|p| p.next_event(PcpuId(percpu::cpu_index() as u32)))
}

/// Interrupts every other CPU (idle ones then look for work).
pub fn wake_idle_cpus() {
    let me = percpu::cpu_index();
    for cpu in 0..crate::arch::smp::cpus_online() {
        if cpu != me {
            apic::send_ipi(
                percpu::cpu(cpu).apic_id.load(Ordering::Relaxed),
                interrupts::VECTOR_KICK,
            );
        }
    }
}

/// Something happened for `vcpu` (an event, its timer): make it run soon.
/// A blocked vCPU becomes runnable; one running elsewhere is interrupted
/// so it sees the event at its next entry.
pub fn kick(vcpu: &Arc<Vcpu>) {
    if vcpu.transition(RunState::Blocked, RunState::Runnable) {
        vcpu.runstate
            .change(crate::domain::runstate::Runstate::Runnable);
        make_runnable(vcpu);
        return;
    }
    if vcpu.on_cpu() {
        let cpu = vcpu.pcpu.load(Ordering::SeqCst) as usize;
        if cpu != percpu::cpu_index() {
            apic::send_ipi(
                percpu::cpu(cpu).apic_id.load(Ordering::Relaxed),
                interrupts::VECTOR_KICK,
            );
        }
    }
}

/// The run queues as the policy sees them (debug key 'r').
pub fn dump_run_queues() {
    let mut text = alloc::string::String::new();
    let _ = with_policy(|p| p.dump(&mut text));
    crate::println!("rxen: run queues (credit scheduler):");
    for line in text.lines() {
        crate::println!("rxen:   {line}");
    }
}

/// Every physical CPU ends up here once the machine is set up.
pub fn run_forever() -> ! {
    let me = PcpuId(percpu::cpu_index() as u32);
    loop {
        NEED_RESCHED[me.0 as usize].store(false, Ordering::SeqCst);
        let decision = with_policy(|p| p.schedule(me, time::now_ns()));
        let mut others = decision.kick;
        others.remove(me);
        resched_cpus(others);
        let vcpu = decision.next.and_then(|v| VCPUS.lock().get(&v.0).cloned());
        match vcpu {
            Some(vcpu) => run::run_vcpu(vcpu),
            None => idle(),
        }
    }
}

/// Nothing to run: halt until an interrupt (a wake-up IPI or a timer).
fn idle() {
    // A domain being built may have RAM to zero and kernel to decompress.
    if crate::mm::helpers::help() | crate::mm::scrub::help() {
        return;
    }
    let next = fire_expired_timers().min(next_event());
    if NEED_RESCHED[percpu::cpu_index()].load(Ordering::SeqCst) {
        return;
    }
    run::arm_host_timer(next);
    crate::arch::wait_for_interrupt();
    crate::arch::interrupts_disable_save();
    fire_expired_timers();
    tick_if_due();
}

/// For `after_run`: the vCPU stopped being runnable.
pub fn vcpu_stopped(vcpu: &Vcpu) {
    make_not_runnable(vcpu);
}

/// For `after_run`: the vCPU yielded.
pub fn vcpu_yielded(vcpu: &Vcpu) {
    let _ = with_policy(|p| p.yield_vcpu(vcpu_key(vcpu.domain_id, vcpu.id), time::now_ns()));
}
