//! vcpu_op: where a vCPU's vcpu_info lives, its single-shot timer, its
//! runstate area, and whether it is up (taken down and brought back).

use core::sync::atomic::Ordering;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::vcpu::*;

use super::{err, ok, Call, Outcome};
use crate::domain::memory::PAGE;
use crate::domain::runstate;
use crate::domain::vcpu::{RunState, Vcpu};
use crate::mm::machine;
use crate::time;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, vcpu_id, arg, ..] = call.args;
    let Some(target) = u32::try_from(vcpu_id)
        .ok()
        .and_then(|i| call.dom.vcpu(i))
        .cloned()
    else {
        return err(errno::ENOENT);
    };
    let result = match cmd {
        VCPUOP_REGISTER_VCPU_INFO => register_vcpu_info(call, &target, arg),
        VCPUOP_STOP_PERIODIC_TIMER => Ok(0),
        VCPUOP_SET_PERIODIC_TIMER => Err(errno::ENOSYS),
        VCPUOP_SET_SINGLESHOT_TIMER => set_singleshot(call, &target, arg),
        VCPUOP_STOP_SINGLESHOT_TIMER => {
            target.timer_deadline.store(0, Ordering::SeqCst);
            Ok(0)
        }
        VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA => register_runstate(call, &target, arg),
        VCPUOP_GET_RUNSTATE_INFO => {
            let info = target.runstate.snapshot();
            call.write(arg, &info).map(|()| 0)
        }
        VCPUOP_DOWN => {
            // Linux takes its other vCPUs down and up again around
            // re-registering their vcpu_info after a restore.
            target.ask_down();
            crate::sched::kick(&target);
            Ok(0)
        }
        VCPUOP_UP => vcpu_up(&target),
        VCPUOP_IS_UP => Ok(u64::from(!matches!(
            target.state(),
            RunState::Down | RunState::Dead
        ))),
        _ => Err(errno::ENOSYS),
    };
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

/// VCPUOP_up: a vCPU VCPUOP_down took down carries on where it stopped;
/// one that is up is left alone; one never started cannot be (Xen's
/// -EINVAL: an HVM vCPU starts by INIT/STARTUP).
fn vcpu_up(target: &alloc::sync::Arc<Vcpu>) -> Result<u64, Errno> {
    if target.ask_up() {
        if target.revive_if_asked() {
            target.runstate.change(runstate::Runstate::Runnable);
            crate::sched::make_runnable(target);
        }
        return Ok(0);
    }
    match target.state() {
        RunState::Down => Err(errno::EINVAL),
        _ => Ok(0),
    }
}

/// Moves the vCPU's vcpu_info into guest RAM at gfn:offset, copying what
/// is there now, then raises a (harmless) upcall as Xen does.
fn register_vcpu_info(call: &mut Call, target: &Vcpu, arg: u64) -> Result<u64, Errno> {
    let req: VcpuRegisterVcpuInfo = call.read(arg)?;
    let offset = u64::from(req.offset);
    if offset + 64 > PAGE || offset % 8 != 0 {
        return Err(errno::EINVAL);
    }
    let pa = call.dom.writable_ram_frame(req.mfn)?;
    let new = pa + offset;
    let old = target.vcpu_info_pa.load(Ordering::SeqCst);
    if old == new {
        return Ok(0);
    }
    if old != call.dom.shared_info_pa + shared_info::vcpu_info(target.id).unwrap_or(0) as u64 {
        return Err(errno::EBUSY); // already moved once
    }
    // rxen writes the vcpu_info by machine address from now on: the page
    // stays alive (a reference held, as Xen holds one) whatever the guest
    // later does with it, until the domain goes.
    if !crate::mm::pages::get(pa, call.dom.id) {
        return Err(errno::EINVAL);
    }
    // Both are 64-byte vcpu_info slots in frames the domain holds.
    machine::copy(old, new, 64);
    target.vcpu_info_pa.store(new, Ordering::SeqCst);
    target.vcpu_info_page.store(pa, Ordering::SeqCst);
    // As Xen: every selector bit and the upcall flag set (a harmless
    // spurious upcall that makes the guest look at its ports).
    machine::atomic_u64(new + 8).store(u64::MAX, Ordering::SeqCst);
    machine::atomic_u8(new).store(1, Ordering::SeqCst);
    super::time::write_pvclock(new);
    Ok(0)
}

fn set_singleshot(call: &mut Call, target: &Vcpu, arg: u64) -> Result<u64, Errno> {
    let req: VcpuSetSingleshotTimer = call.read(arg)?;
    if req.flags & VCPU_SSHOTTMR_FUTURE != 0 && req.timeout_abs_ns < time::now_ns() {
        return Err(errno::ETIME);
    }
    // A deadline in the past fires at once (6.1 passes no FUTURE flag).
    target
        .timer_deadline
        .store(req.timeout_abs_ns.max(1), Ordering::SeqCst);
    Ok(0)
}

/// set_timer_op: the old single-shot interface (absolute ns; 0 cancels).
pub fn set_timer_op(call: &mut Call) -> Outcome {
    call.vcpu
        .timer_deadline
        .store(call.args[0], Ordering::SeqCst);
    ok(0)
}

fn register_runstate(call: &mut Call, target: &Vcpu, arg: u64) -> Result<u64, Errno> {
    let area: VcpuRegisterMemoryArea = call.read(arg)?;
    if area.addr == 0 {
        target.runstate.set_area(0);
        return Ok(0);
    }
    // Translated once: the area is a per-CPU kernel variable, which stays
    // where it is.
    let gpa = {
        let mem = call.dom.memory.lock();
        crate::domain::guest_access::virt_to_phys(
            &mem,
            call.inner.arch.paging(),
            area.addr,
            crate::arch::guest_paging::Access::Write,
        )?
    };
    if !runstate::fits_in_page(gpa) || call.dom.memory.lock().translate_writable(gpa).is_none() {
        return Err(errno::EINVAL);
    }
    target.runstate.set_area(gpa);
    target
        .runstate
        .publish(&call.dom.memory.lock(), call.dom.runstate_update_flag());
    Ok(0)
}
