//! sched_op: yield, block, poll, shutdown.

use core::sync::atomic::Ordering;

use rxen_xen_abi::errno;
use rxen_xen_abi::sched::*;

use super::{err, ok, Call, Outcome};
use crate::sched::run::Next;
use crate::time;

/// Ports one SCHEDOP_poll may name.
const MAX_POLL_PORTS: u32 = 128;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, arg, ..] = call.args;
    match cmd {
        SCHEDOP_YIELD => {
            if let Some(console) = &call.dom.console {
                console.drain(call.dom.id);
            }
            (Ok(0), Next::Yield)
        }
        SCHEDOP_BLOCK => {
            if call.vcpu.upcall_pending() {
                ok(0)
            } else {
                (Ok(0), Next::Block)
            }
        }
        SCHEDOP_SHUTDOWN => {
            let req: SchedShutdown = match call.read(arg) {
                Ok(r) => r,
                Err(e) => return err(e),
            };
            match ShutdownReason::from_u32(req.reason) {
                Some(reason) => {
                    call.dom.shutdown(reason);
                    (Ok(0), Next::Stop)
                }
                None => err(errno::EINVAL),
            }
        }
        SCHEDOP_SHUTDOWN_CODE => ok(0),
        SCHEDOP_POLL => poll(call, arg),
        SCHEDOP_REMOTE_SHUTDOWN => remote_shutdown(call, arg),
        _ => err(errno::ENOSYS),
    }
}

/// Blocks until one of the listed ports is pending (masked or not) or the
/// timeout passes.
fn poll(call: &mut Call, arg: u64) -> Outcome {
    let req: SchedPoll = match call.read(arg) {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    if req.nr_ports > MAX_POLL_PORTS {
        return err(errno::EINVAL);
    }
    let mut ports = alloc::vec![0u8; req.nr_ports as usize * 4];
    if let Err(e) = call.read_bytes(req.ports, &mut ports) {
        return err(e);
    }
    let ports: alloc::vec::Vec<u32> = ports
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if ports.iter().any(|&p| call.dom.is_pending(p)) {
        return ok(0);
    }
    if req.timeout != 0 && req.timeout <= time::now_ns() {
        return ok(0);
    }
    call.vcpu.poll_deadline.store(req.timeout, Ordering::SeqCst);
    *call.vcpu.poll_ports.lock() = ports;
    (Ok(0), Next::Block)
}

/// SCHEDOP_remote_shutdown: the control domain shuts another down (xl's
/// fallback for guests that ignore the xenstore request).
fn remote_shutdown(call: &mut Call, arg: u64) -> Outcome {
    let req: SchedRemoteShutdown = match call.read(arg) {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    let target = match call.target(req.domain_id) {
        Ok(t) => t,
        Err(e) => return err(e),
    };
    if let Err(e) = crate::policy::privileged(call.dom) {
        return err(e);
    }
    let Some(reason) = ShutdownReason::from_u32(req.reason) else {
        return err(errno::EINVAL);
    };
    target.shutdown(reason);
    if target.id == call.dom.id {
        return (Ok(0), Next::Stop);
    }
    ok(0)
}
