//! Running one vCPU on this physical CPU until it blocks, yields, dies or
//! its slice ends.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use rxen_xen_abi::evtchn::VIRQ_TIMER;

use crate::arch::{self, apic, exits, percpu};
use crate::domain::runstate::Runstate;
use crate::domain::vcpu::{RunState, Vcpu, VcpuInner};
use crate::domain::{self, Domain};
use crate::time;

/// What an exit handler wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Back into the guest.
    Continue,
    /// Give the CPU to others if any wait.
    Yield,
    /// Wait for an event or the timer (HLT with interrupts on, SCHEDOP_block/poll).
    Block,
    /// The vCPU went offline (HLT with interrupts off).
    Down,
    /// The domain is shutting down.
    Stop,
    /// The domain is paused by its controller: off the CPU, still runnable.
    Pause,
}

/// Longest the host timer is left unarmed.
const MAX_SLEEP_NS: u64 = 100_000_000;

pub fn run_vcpu(vcpu: Arc<Vcpu>) {
    let Some(dom) = vcpu.domain.upgrade() else {
        super::vcpu_stopped(&vcpu);
        return;
    };
    // On the CPU *before* looking at its state: whoever stops it (destroy,
    // pause) sets the state first and then waits for it to be off every
    // CPU, so one of the two always sees the other.
    let me = percpu::cpu_index();
    vcpu.pcpu.store(me as u32, Ordering::SeqCst);
    vcpu.set_on_cpu(true);
    // A paused domain's vCPU stays runnable: unpausing queues it again. One
    // that is not runnable died while queued.
    if dom.is_paused() || dom.is_dying() || !vcpu.transition(RunState::Runnable, RunState::Running)
    {
        vcpu.set_on_cpu(false);
        super::vcpu_stopped(&vcpu);
        return;
    }
    vcpu.runstate.change(Runstate::Running);
    // Running again: whatever SCHEDOP_poll it was in is over.
    vcpu.poll_deadline.store(0, Ordering::SeqCst);
    vcpu.poll_ports.lock().clear();
    let next = {
        let mut inner = vcpu.inner.lock();
        if let Some(vector) = vcpu.take_startup() {
            inner.arch.reset_startup(vector);
            inner.lapic =
                crate::arch::vlapic::VirtualLapic::new(rxen_guest_layout::apic_id(vcpu.id));
            vcpu.timer_deadline.store(0, Ordering::SeqCst);
        }
        exits::refresh_time(&dom, &vcpu, &mut inner);
        vcpu.runstate
            .publish(&dom.memory.lock(), dom.runstate_update_flag());
        let next = guest_loop(&dom, &vcpu, &mut inner);
        inner.arch.save_fpu();
        vcpu.runstate.change(match next {
            Next::Continue | Next::Yield | Next::Pause => Runstate::Runnable,
            Next::Block => Runstate::Blocked,
            Next::Down | Next::Stop => Runstate::Offline,
        });
        vcpu.runstate
            .publish(&dom.memory.lock(), dom.runstate_update_flag());
        next
    };
    vcpu.set_on_cpu(false);
    after_run(&dom, &vcpu, next);
    domain::reap(&dom);
}

fn guest_loop(dom: &Arc<Domain>, vcpu: &Arc<Vcpu>, inner: &mut VcpuInner) -> Next {
    loop {
        if vcpu.state() == RunState::Dead || !dom.is_running() {
            return Next::Stop;
        }
        if vcpu.held_by_init() || vcpu.take_down() {
            // An INIT IPI (this vCPU now waits for STARTUP), or VCPUOP_down.
            return Next::Down;
        }
        if dom.is_paused() {
            return Next::Pause;
        }
        fire_own_timer(dom, vcpu);
        exits::deliver_interrupts(dom, vcpu, inner);
        arm_host_timer(next_deadline(vcpu));
        if vcpu.enter_guest(&dom.npt_generation) {
            inner.arch.request_tlb_flush();
        }
        let exit = inner.arch.run();
        vcpu.leave_guest();
        inner.arch.reinject_interrupted_event();
        // Let the host interrupt that ended the guest (if any) be taken.
        arch::enable_interrupts();
        arch::interrupts_disable_save();
        let next = exits::handle(dom, vcpu, inner, exit);
        if next != Next::Continue {
            return next;
        }
        let now = time::now_ns();
        if now >= NEXT_GLOBAL[percpu::cpu_index()].load(Ordering::Relaxed) {
            fire_expired_timers();
        }
        // The policy's tick (end of slice, accounting) or another CPU asked
        // this one to choose again.
        let tick = now >= super::next_event() && super::tick_if_due();
        if super::take_resched() || tick {
            return Next::Continue;
        }
    }
}

fn after_run(dom: &Arc<Domain>, vcpu: &Arc<Vcpu>, next: Next) {
    match next {
        // Preempted: still runnable; the policy requeues it.
        Next::Continue => {
            vcpu.transition(RunState::Running, RunState::Runnable);
        }
        Next::Yield => {
            vcpu.transition(RunState::Running, RunState::Runnable);
            super::vcpu_yielded(vcpu);
        }
        Next::Pause => {
            vcpu.transition(RunState::Running, RunState::Runnable);
            super::vcpu_stopped(vcpu);
            // An unpause that came while it was leaving found it running.
            if !dom.is_paused() {
                super::make_runnable(vcpu);
            }
        }
        Next::Block => {
            // The policy hears of it *before* the state says Blocked: a
            // waker that sees Blocked then finds the policy asleep and
            // queues the vCPU. (The other order loses the vCPU: the wake
            // lands while the policy still counts it running, then the
            // sleep undoes it, and nothing ever runs it again.)
            super::vcpu_stopped(vcpu);
            if vcpu.transition(RunState::Running, RunState::Blocked) {
                // An event may have arrived while we were deciding to block.
                if has_work(dom, vcpu) && vcpu.transition(RunState::Blocked, RunState::Runnable) {
                    vcpu.runstate.change(Runstate::Runnable);
                    super::make_runnable(vcpu);
                }
            }
        }
        Next::Down => {
            // As for Block: the policy first, then the state a STARTUP
            // looks at.
            super::vcpu_stopped(vcpu);
            vcpu.transition(RunState::Running, RunState::Down);
            // A STARTUP, or VCPUOP_up, that arrived while it was going down.
            crate::smp_guest::start_if_down(vcpu);
            if vcpu.revive_if_asked() {
                vcpu.runstate.change(Runstate::Runnable);
                super::make_runnable(vcpu);
            }
            if dom.vcpus().iter().all(|v| v.state() == RunState::Down) {
                crate::println!("rxen: d{}: all vCPUs halted with interrupts off", dom.id);
                dom.shutdown(rxen_xen_abi::sched::ShutdownReason::Poweroff);
            }
        }
        Next::Stop => {
            vcpu.set_state(RunState::Dead);
            super::vcpu_stopped(vcpu);
        }
    }
}

/// Whether a blocked vCPU has reason to run again.
pub fn has_work(dom: &Domain, vcpu: &Vcpu) -> bool {
    let deadline = vcpu.timer_deadline.load(Ordering::SeqCst);
    let poll = vcpu.poll_deadline.load(Ordering::SeqCst);
    let polled = vcpu.poll_ports.lock().iter().any(|&p| dom.is_pending(p));
    let now = time::now_ns();
    vcpu.upcall_pending()
        || (deadline != 0 && deadline <= now)
        || (poll != 0 && poll <= now)
        || polled
        || !dom.is_running()
        || exits::lapic_pending(vcpu)
}

fn fire_own_timer(dom: &Domain, vcpu: &Vcpu) {
    let deadline = vcpu.timer_deadline.load(Ordering::SeqCst);
    if deadline != 0
        && deadline <= time::now_ns()
        && vcpu
            .timer_deadline
            .compare_exchange(deadline, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    {
        dom.send_virq(vcpu.id, VIRQ_TIMER);
    }
}

fn next_deadline(vcpu: &Vcpu) -> u64 {
    let own = vcpu.timer_deadline.load(Ordering::SeqCst);
    let mut next =
        super::next_event().min(NEXT_GLOBAL[percpu::cpu_index()].load(Ordering::Relaxed));
    if own != 0 {
        next = next.min(own);
    }
    next
}

/// Per CPU: the earliest timer of a vCPU not running, as last computed.
static NEXT_GLOBAL: [core::sync::atomic::AtomicU64; percpu::MAX_CPUS] =
    [const { core::sync::atomic::AtomicU64::new(u64::MAX) }; percpu::MAX_CPUS];

/// Fires the timers (and poll timeouts) of vCPUs that are not running and
/// whose deadline passed; returns the earliest deadline still pending.
pub fn fire_expired_timers() -> u64 {
    if percpu::cpu_index() == 0 {
        crate::console::poll_input();
    }
    let now = time::now_ns();
    let mut earliest = u64::MAX;
    for dom in domain::all() {
        for v in dom.vcpus() {
            if v.on_cpu() {
                continue;
            }
            let deadline = v.timer_deadline.load(Ordering::SeqCst);
            if deadline != 0 {
                if deadline <= now {
                    if v.timer_deadline
                        .compare_exchange(deadline, 0, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok()
                    {
                        dom.send_virq(v.id, VIRQ_TIMER);
                    }
                } else {
                    earliest = earliest.min(deadline);
                }
            }
            let poll = v.poll_deadline.load(Ordering::SeqCst);
            if poll != 0 {
                if poll <= now {
                    super::kick(v);
                } else {
                    earliest = earliest.min(poll);
                }
            }
        }
        if let Some(console) = &dom.console {
            console.drain(dom.id);
        }
    }
    crate::console::control::flush_if_idle();
    NEXT_GLOBAL[percpu::cpu_index()].store(earliest, Ordering::Relaxed);
    earliest
}

/// Programs this CPU's timer for system time `deadline` (capped).
pub fn arm_host_timer(deadline: u64) {
    let now = time::now_ns();
    let delta = deadline.saturating_sub(now).clamp(20_000, MAX_SLEEP_NS);
    apic::arm_timer(delta);
}
