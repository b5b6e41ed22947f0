//! Scheduling vCPUs onto physical CPUs: one shared run queue served in
//! order, time slices enforced by the host timer, idle CPUs halt until an
//! IPI or a timer wakes them. (The credit scheduler with weights, caps and
//! affinity replaces this policy in the next milestone.)

pub mod run;

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::percpu::{self, MAX_CPUS};
use crate::arch::{apic, interrupts};
use crate::domain::vcpu::{RunState, Vcpu};
use crate::sync::TicketLock;

pub use run::fire_expired_timers;

/// How long a vCPU runs before others waiting get the CPU.
pub const SLICE_NS: u64 = 10_000_000;

static RUN_QUEUE: TicketLock<VecDeque<Arc<Vcpu>>> = TicketLock::new(VecDeque::new());
static IDLE: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// Puts a runnable vCPU in the queue and wakes an idle CPU for it.
pub fn enqueue(vcpu: Arc<Vcpu>) {
    RUN_QUEUE.lock().push_back(vcpu);
    wake_idle_cpu();
}

fn dequeue() -> Option<Arc<Vcpu>> {
    RUN_QUEUE.lock().pop_front()
}

pub fn queue_is_empty() -> bool {
    RUN_QUEUE.lock().is_empty()
}

fn wake_idle_cpu() {
    let me = percpu::cpu_index();
    let cpus = crate::arch::smp::cpus_online();
    if let Some(cpu) = (0..cpus).find(|&c| c != me && IDLE[c].load(Ordering::SeqCst)) {
        apic::send_ipi(
            percpu::cpu(cpu).apic_id.load(Ordering::Relaxed),
            interrupts::VECTOR_KICK,
        );
    }
}

/// Something happened for `vcpu` (an event, its timer): make it run soon.
/// A blocked vCPU becomes runnable; one running elsewhere is interrupted
/// so it sees the event at its next entry.
pub fn kick(vcpu: &Arc<Vcpu>) {
    if vcpu.transition(RunState::Blocked, RunState::Runnable) {
        vcpu.runstate.change(crate::domain::runstate::Runstate::Runnable);
        enqueue(vcpu.clone());
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

/// The run queues and what each CPU runs (debug key 'r').
pub fn dump_run_queues() {
    let cpus = crate::arch::smp::cpus_online();
    crate::println!("rxen: run queues:");
    for cpu in 0..cpus {
        let running = crate::domain::all()
            .iter()
            .flat_map(|d| d.vcpus.iter().cloned())
            .find(|v| v.on_cpu() && v.pcpu.load(Ordering::Relaxed) as usize == cpu);
        match running {
            Some(v) => crate::println!("rxen:   cpu{cpu}: running d{}v{}", v.domain_id, v.id),
            None => crate::println!("rxen:   cpu{cpu}: idle"),
        }
    }
    let queue: alloc::vec::Vec<_> = RUN_QUEUE
        .lock()
        .iter()
        .map(|v| (v.domain_id, v.id))
        .collect();
    crate::println!("rxen:   waiting: {:?}", queue);
}

/// Every physical CPU ends up here once the machine is set up.
pub fn run_forever() -> ! {
    let me = percpu::cpu_index();
    loop {
        if let Some(vcpu) = dequeue() {
            run::run_vcpu(vcpu);
            continue;
        }
        IDLE[me].store(true, Ordering::SeqCst);
        // Re-check after announcing idleness: an enqueue in between would
        // otherwise not wake us.
        if queue_is_empty() {
            let next = fire_expired_timers();
            run::arm_host_timer(next);
            crate::arch::wait_for_interrupt();
            crate::arch::interrupts_disable_save();
        }
        IDLE[me].store(false, Ordering::SeqCst);
        fire_expired_timers();
        crate::console::poll_input();
    }
}
