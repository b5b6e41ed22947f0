//! event_channel_op: binding VIRQs, IPIs and other domains' ports,
//! sending, unmasking, closing, status; the FIFO ABI's set-up calls (see
//! `evtchn::fifo` for when it is offered).

use rxen_event_channel::is_per_vcpu_virq;
use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::evtchn::*;
use rxen_xen_abi::memory::DOMID_SELF;

use super::{err, ok, Call, Outcome};
use crate::evtchn;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, arg, ..] = call.args;
    let result = match cmd {
        EVTCHNOP_BIND_VIRQ => bind_virq(call, arg),
        EVTCHNOP_BIND_IPI => bind_ipi(call, arg),
        EVTCHNOP_ALLOC_UNBOUND => alloc_unbound(call, arg),
        EVTCHNOP_BIND_INTERDOMAIN => bind_interdomain(call, arg),
        EVTCHNOP_SEND => port_arg(call, arg).and_then(|p| evtchn::send(call.dom, p)),
        EVTCHNOP_UNMASK => port_arg(call, arg).and_then(|p| call.dom.unmask(p)),
        EVTCHNOP_CLOSE => port_arg(call, arg).and_then(|p| evtchn::close(call.dom, p)),
        EVTCHNOP_STATUS => status(call, arg),
        EVTCHNOP_BIND_VCPU => bind_vcpu(call, arg),
        EVTCHNOP_INIT_CONTROL => init_control(call, arg),
        EVTCHNOP_EXPAND_ARRAY => call
            .read::<EvtchnExpandArray>(arg)
            .and_then(|a| call.dom.expand_fifo_array(a.array_gfn)),
        EVTCHNOP_SET_PRIORITY => call
            .read::<EvtchnSetPriority>(arg)
            .and_then(|p| call.dom.set_fifo_priority(p.port, p.priority)),
        // No physical IRQs (no devices).
        EVTCHNOP_BIND_PIRQ => Err(errno::EPERM),
        _ => Err(errno::ENOSYS),
    };
    match result {
        Ok(()) => ok(0),
        Err(e) => err(e),
    }
}

fn port_arg(call: &mut Call, arg: u64) -> Result<u32, Errno> {
    call.read::<EvtchnPortArg>(arg).map(|p| p.port)
}

fn init_control(call: &mut Call, arg: u64) -> Result<(), Errno> {
    let mut c: EvtchnInitControl = call.read(arg)?;
    call.dom
        .init_fifo_control(c.vcpu, c.control_gfn, c.offset)?;
    c.link_bits = rxen_event_channel::fifo::LINK_BITS;
    call.write(arg, &c)
}

fn nr_vcpus(call: &Call) -> u32 {
    call.dom.vcpus().len() as u32
}

fn bind_virq(call: &mut Call, arg: u64) -> Result<(), Errno> {
    let mut b: EvtchnBindVirq = call.read(arg)?;
    if b.virq < NR_VIRQS && !is_per_vcpu_virq(b.virq) && !call.dom.is_control() {
        // Global VIRQs go to their handler, the control domain.
        return Err(errno::EBUSY);
    }
    b.port = call
        .dom
        .events
        .lock()
        .bind_virq(b.virq, b.vcpu, nr_vcpus(call))?;
    call.write(arg, &b)
}

fn bind_ipi(call: &mut Call, arg: u64) -> Result<(), Errno> {
    let mut b: EvtchnBindIpi = call.read(arg)?;
    b.port = call.dom.events.lock().bind_ipi(b.vcpu, nr_vcpus(call))?;
    call.write(arg, &b)
}

fn bind_vcpu(call: &mut Call, arg: u64) -> Result<(), Errno> {
    let b: EvtchnBindVcpu = call.read(arg)?;
    call.dom
        .events
        .lock()
        .bind_vcpu(b.port, b.vcpu, nr_vcpus(call))
}

/// A port in `dom` (the caller, or a domain the control domain sets up)
/// that `remote_dom` may bind; DOMID_SELF as remote means the caller.
fn alloc_unbound(call: &mut Call, arg: u64) -> Result<(), Errno> {
    let mut a: EvtchnAllocUnbound = call.read(arg)?;
    let owner = call.target(a.dom)?;
    let remote = if a.remote_dom == DOMID_SELF {
        call.dom.id
    } else {
        a.remote_dom
    };
    a.port = owner.events.lock().alloc_unbound(remote)?;
    call.write(arg, &a)
}

fn bind_interdomain(call: &mut Call, arg: u64) -> Result<(), Errno> {
    let mut b: EvtchnBindInterdomain = call.read(arg)?;
    let remote = if b.remote_dom == DOMID_SELF || b.remote_dom == call.dom.id {
        call.dom.clone()
    } else {
        crate::domain::get(b.remote_dom).ok_or(errno::ESRCH)?
    };
    b.local_port = evtchn::bind_interdomain(call.dom, &remote, b.remote_port)?;
    call.write(arg, &b)
}

fn status(call: &mut Call, arg: u64) -> Result<(), Errno> {
    let mut s: EvtchnStatus = call.read(arg)?;
    let owner = call.target(s.dom)?;
    let (state, vcpu) = owner.events.lock().status(s.port)?;
    s.set(vcpu, state);
    call.write(arg, &s)
}
