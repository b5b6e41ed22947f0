//! IPIs between vCPUs of one domain through their virtual local APICs:
//! fixed vectors, NMIs, and INIT/STARTUP, which is how Linux starts and
//! restarts its secondary CPUs on Xen PVH.

use alloc::sync::Arc;

use crate::arch::vlapic::{IpiDest, IpiRequest};
use crate::domain::vcpu::{RunState, Vcpu};
use crate::domain::Domain;

/// Routes `ipi` from `from` to the vCPUs it names (not `from` itself for
/// fixed vectors: the sender's own APIC already took those).
pub fn handle_ipi(dom: &Arc<Domain>, from: &Arc<Vcpu>, ipi: IpiRequest) {
    let dest = match ipi {
        IpiRequest::Fixed { dest, .. }
        | IpiRequest::Nmi { dest }
        | IpiRequest::Init { dest }
        | IpiRequest::Startup { dest, .. } => dest,
    };
    for target in dom.vcpus() {
        let apic_id = rxen_guest_layout::apic_id(target.id);
        let hit = match dest {
            IpiDest::ApicId(id) => id == apic_id,
            IpiDest::SelfOnly => false,
            IpiDest::AllIncludingSelf | IpiDest::AllExcludingSelf => target.id != from.id,
        };
        if hit && target.id != from.id {
            deliver(target, ipi);
        }
    }
}

/// Starts a vCPU that is down and has a STARTUP waiting.
pub fn start_if_down(target: &Arc<Vcpu>) {
    if target.startup_received() && target.transition(RunState::Down, RunState::Runnable) {
        target
            .runstate
            .change(crate::domain::runstate::Runstate::Runnable);
        crate::sched::make_runnable(target);
    }
}

fn deliver(target: &Arc<Vcpu>, ipi: IpiRequest) {
    match ipi {
        IpiRequest::Fixed { vector, .. } => {
            target.post_vector(vector);
            crate::sched::kick(target);
        }
        IpiRequest::Nmi { .. } => {
            // Linux uses NMIs only as a fallback to stop CPUs; a kick is
            // the closest safe thing.
            crate::sched::kick(target);
        }
        IpiRequest::Init { .. } => {
            // INIT stops the CPU wherever it is (it then waits for
            // STARTUP): a running or halted vCPU is made to leave the
            // guest, and its loop takes it down.
            target.receive_init();
            crate::sched::kick(target);
        }
        IpiRequest::Startup { vector, .. } => {
            if target.receive_startup(vector) {
                // Down already: start it. Still on its way down (Linux
                // re-onlines a CPU right after it reported itself dead):
                // `after_run` starts it once it is.
                start_if_down(target);
            }
        }
    }
}
