//! event_channel_op: binding VIRQs and IPIs, sending, unmasking, closing.
//! The FIFO ABI is not offered (Linux then uses the 2-level one).

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::evtchn::*;

use super::{err, ok, Call, Outcome};
use crate::evtchn::Binding;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, arg, ..] = call.args;
    let result = match cmd {
        EVTCHNOP_BIND_VIRQ => bind_virq(call, arg),
        EVTCHNOP_BIND_IPI => bind_ipi(call, arg),
        EVTCHNOP_ALLOC_UNBOUND => alloc_unbound(call, arg),
        EVTCHNOP_SEND => send(call, arg),
        EVTCHNOP_UNMASK => {
            let p: EvtchnPortArg = match call.read(arg) {
                Ok(p) => p,
                Err(e) => return err(e),
            };
            call.dom.unmask(p.port).map(|()| 0)
        }
        EVTCHNOP_CLOSE => {
            let p: EvtchnPortArg = match call.read(arg) {
                Ok(p) => p,
                Err(e) => return err(e),
            };
            call.dom.close_port(p.port).map(|()| 0)
        }
        EVTCHNOP_STATUS => status(call, arg),
        EVTCHNOP_BIND_VCPU => {
            let b: EvtchnBindVcpu = match call.read(arg) {
                Ok(b) => b,
                Err(e) => return err(e),
            };
            if b.vcpu as usize >= call.dom.vcpus.len() {
                return err(errno::ENOENT);
            }
            call.dom.events.lock().bind_vcpu(b.port, b.vcpu).map(|()| 0)
        }
        // No other domain offers ports yet (no control domain).
        EVTCHNOP_BIND_INTERDOMAIN => Err(errno::EINVAL),
        _ => Err(errno::ENOSYS),
    };
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

fn bind_virq(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let mut b: EvtchnBindVirq = call.read(arg)?;
    if b.vcpu as usize >= call.dom.vcpus.len() {
        return Err(errno::ENOENT);
    }
    b.port = call.dom.events.lock().bind_virq(b.virq, b.vcpu)?;
    call.write(arg, &b)?;
    Ok(0)
}

fn bind_ipi(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let mut b: EvtchnBindIpi = call.read(arg)?;
    if b.vcpu as usize >= call.dom.vcpus.len() {
        return Err(errno::ENOENT);
    }
    b.port = call.dom.events.lock().bind_ipi(b.vcpu)?;
    call.write(arg, &b)?;
    Ok(0)
}

fn alloc_unbound(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let mut a: EvtchnAllocUnbound = call.read(arg)?;
    call.check_self(a.dom)?;
    let remote = if a.remote_dom == rxen_xen_abi::memory::DOMID_SELF {
        call.dom.id
    } else {
        a.remote_dom
    };
    a.port = call.dom.events.lock().alloc_unbound(remote)?;
    call.write(arg, &a)?;
    Ok(0)
}

fn send(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let p: EvtchnPortArg = call.read(arg)?;
    let (binding, _) = call.dom.events.lock().binding(p.port)?;
    match binding {
        Binding::Hypervisor => {
            call.dom.console.drain(call.dom.id);
            Ok(0)
        }
        Binding::Ipi => {
            call.dom.set_pending(p.port);
            Ok(0)
        }
        // Xen drops notifications on unbound ports silently.
        Binding::Unbound { .. } => Ok(0),
        Binding::Virq { .. } | Binding::Free => Err(errno::EINVAL),
    }
}

fn status(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let mut s: EvtchnStatus = call.read(arg)?;
    call.check_self(s.dom)?;
    let state = match call.dom.events.lock().binding(s.port) {
        Ok((Binding::Virq { virq }, vcpu)) => (EvtchnState::Virq(virq), vcpu),
        Ok((Binding::Ipi, vcpu)) => (EvtchnState::Ipi, vcpu),
        Ok((Binding::Unbound { remote }, vcpu)) => (EvtchnState::Unbound { dom: remote }, vcpu),
        Ok((Binding::Hypervisor, vcpu)) => (EvtchnState::Unbound { dom: 0 }, vcpu),
        Ok((Binding::Free, _)) | Err(_) => (EvtchnState::Closed, 0),
    };
    s.set(state.1, state.0);
    call.write(arg, &s)?;
    Ok(0)
}
