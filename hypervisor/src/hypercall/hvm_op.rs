//! hvm_op: HVM parameters (event callback vector, console and xenstore
//! rings), of the caller or, for the control domain, of the domains it
//! builds.

use core::sync::atomic::Ordering;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::hvm::*;

use super::{err, ok, Call, Outcome};
use crate::domain::NR_PARAMS;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, arg, ..] = call.args;
    let result = match cmd {
        HVMOP_SET_PARAM => set_param(call, arg),
        HVMOP_GET_PARAM => get_param(call, arg),
        HVMOP_SET_EVTCHN_UPCALL_VECTOR => set_upcall_vector(call, arg),
        _ => Err(errno::ENOSYS),
    };
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

/// HVMOP_set_evtchn_upcall_vector: the caller's vCPU `vcpu` takes its
/// event upcalls on `vector` rather than on the domain's callback vector.
/// Linux uses it when Xen offers it (Xen 4.17 does; rxen's CPUID does not
/// yet), and asks again after a resume: a guest saved on Xen and restored
/// here BUG()s if this fails.
fn set_upcall_vector(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let req: XenHvmSetEvtchnUpcallVector = call.read(arg)?;
    if req.vector < 0x10 {
        return Err(errno::EINVAL);
    }
    let vcpu = call.dom.vcpu(req.vcpu).ok_or(errno::ENOENT)?;
    vcpu.upcall_vector.store(req.vector, Ordering::SeqCst);
    Ok(0)
}

fn index(param: &XenHvmParam) -> Result<usize, Errno> {
    let i = param.index as usize;
    if i >= NR_PARAMS {
        return Err(errno::EINVAL);
    }
    Ok(i)
}

fn set_param(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let param: XenHvmParam = call.read(arg)?;
    let target = call.target(param.domid)?;
    let i = index(&param)?;
    if target.id != call.dom.id {
        // The toolstack setting up a new domain: any parameter.
        target.params.lock()[i] = param.value;
        return Ok(0);
    }
    match param.index {
        HVM_PARAM_CALLBACK_IRQ => {
            let vector = match callback_via(param.value) {
                CallbackVia::Vector(v) if v >= 0x10 => v,
                CallbackVia::Vector(_) => return Err(errno::EINVAL),
                // Other kinds (GSI, INTx) have no meaning for PVH; Linux
                // writes 1 only as a marker.
                _ => 0,
            };
            if vector != 0 {
                call.dom.callback_vector.store(vector, Ordering::SeqCst);
            }
        }
        // What the builder set up is not the guest's to change.
        HVM_PARAM_CONSOLE_PFN
        | HVM_PARAM_CONSOLE_EVTCHN
        | HVM_PARAM_STORE_PFN
        | HVM_PARAM_STORE_EVTCHN => return Err(errno::EPERM),
        _ => {}
    }
    call.dom.params.lock()[i] = param.value;
    Ok(0)
}

fn get_param(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let mut param: XenHvmParam = call.read(arg)?;
    let target = call.target(param.domid)?;
    let i = index(&param)?;
    param.value = target.params.lock()[i];
    call.write(arg, &param)?;
    Ok(0)
}
