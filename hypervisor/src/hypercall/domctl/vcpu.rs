//! The vCPU sub-ops: what each vCPU is doing (`xl vcpu-list`, xentop),
//! where it may run (`xl vcpu-pin`), plus NUMA node affinity (one node),
//! and its registers as a `vcpu_guest_context` (a cancelled suspend's
//! result is set there).

use alloc::sync::Arc;
use alloc::vec::Vec;

use rxen_credit_sched::CpuMask;
use rxen_xen_abi::domctl::*;
use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::vcpu::{UserRegs, VCPU_GUEST_CONTEXT_SIZE};

use super::Op;
use crate::domain::vcpu::{RunState, Vcpu};
use crate::domain::Domain;

/// Bytes of a bitmap the toolstack passes; more is refused.
const MAX_BITMAP_BYTES: u32 = 4096;

fn vcpu_of(d: &Domain, id: u32) -> Result<Arc<Vcpu>, Errno> {
    if id >= d.max_vcpus {
        return Err(errno::EINVAL);
    }
    d.vcpu(id).cloned().ok_or(errno::ESRCH)
}

/// XEN_DOMCTL_getvcpuinfo (offline vCPUs too).
pub fn info(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let mut req: DomctlGetVcpuInfo = op.payload();
    let v = vcpu_of(d, req.vcpu)?;
    let state = v.state();
    req.online = u8::from(!matches!(state, RunState::Down | RunState::Dead));
    req.blocked = u8::from(state == RunState::Blocked);
    req.running = u8::from(state == RunState::Running);
    req.cpu_time = v.cpu_time();
    req.cpu = v.pcpu.load(core::sync::atomic::Ordering::Relaxed);
    op.set_payload(&req);
    Ok(())
}

/// Reads a `xenctl_bitmap` of CPUs.
fn read_mask(op: &Op, map: &XenctlBitmap) -> Result<CpuMask, Errno> {
    let bytes = map.nr_bits.div_ceil(8);
    if bytes > MAX_BITMAP_BYTES || map.bitmap == 0 {
        return Err(errno::EINVAL);
    }
    let buf: Vec<u8> = op.call.read_array(map.bitmap, bytes as usize)?;
    let mut bits = 0u128;
    for (i, b) in buf.iter().take(16).enumerate() {
        bits |= u128::from(*b) << (8 * i);
    }
    if map.nr_bits < 128 {
        bits &= (1u128 << map.nr_bits) - 1;
    }
    Ok(CpuMask::from_bits(bits))
}

/// Writes `mask` into a `xenctl_bitmap` (bits beyond it zero).
fn write_mask(op: &Op, map: &XenctlBitmap, mask: CpuMask) -> Result<(), Errno> {
    if map.bitmap == 0 {
        return Ok(());
    }
    let bytes = map.nr_bits.div_ceil(8);
    if bytes > MAX_BITMAP_BYTES {
        return Err(errno::EINVAL);
    }
    let bits = mask.bits().to_le_bytes();
    let buf: Vec<u8> = (0..bytes as usize)
        .map(|i| bits.get(i).copied().unwrap_or(0))
        .collect();
    op.call.write_bytes(map.bitmap, &buf)
}

/// XEN_DOMCTL_setvcpuaffinity: hard affinity goes to the scheduler; soft
/// affinity (a preference rxen's credit scheduler does not weigh) is
/// accepted and reported as all CPUs. The effective maps come back.
pub fn set_affinity(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlVcpuAffinity = op.payload();
    let v = vcpu_of(d, req.vcpu)?;
    if req.flags & (XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT) == 0 {
        return Err(errno::EINVAL);
    }
    if req.flags & XEN_VCPUAFFINITY_HARD != 0 {
        let mask = read_mask(op, &req.cpumap_hard)?;
        let effective = crate::sched::set_affinity(&v, mask).ok_or(errno::EINVAL)?;
        write_mask(op, &req.cpumap_hard, effective)?;
    }
    if req.flags & XEN_VCPUAFFINITY_SOFT != 0 {
        read_mask(op, &req.cpumap_soft)?;
        write_mask(op, &req.cpumap_soft, crate::sched::online_cpus())?;
    }
    Ok(())
}

pub fn get_affinity(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlVcpuAffinity = op.payload();
    let v = vcpu_of(d, req.vcpu)?;
    if req.flags & XEN_VCPUAFFINITY_HARD != 0 {
        let hard = crate::sched::affinity(&v).unwrap_or_else(crate::sched::online_cpus);
        write_mask(op, &req.cpumap_hard, hard)?;
    }
    if req.flags & XEN_VCPUAFFINITY_SOFT != 0 {
        write_mask(op, &req.cpumap_soft, crate::sched::online_cpus())?;
    }
    Ok(())
}

/// One NUMA node: any map that includes node 0 is the whole machine.
pub fn set_node_affinity(op: &mut Op, _d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlNodeAffinity = op.payload();
    let nodes = read_mask(op, &req.nodemap)?;
    if nodes.is_empty() {
        return Err(errno::EINVAL);
    }
    Ok(())
}

pub fn get_node_affinity(op: &mut Op, _d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlNodeAffinity = op.payload();
    write_mask(op, &req.nodemap, CpuMask::first_n(1))
}

/// XEN_DOMCTL_getvcpucontext of an HVM vCPU: its general and control
/// registers and whether it is up (the domain paused or shut down).
pub fn get_context(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlVcpuContext = op.payload();
    let v = stopped_vcpu(op, d, req.vcpu)?;
    let (regs, cr) = v.inner.try_lock().ok_or(errno::EAGAIN)?.arch.user_regs();
    if req.ctxt != 0 {
        op.call
            .write_bytes(req.ctxt, &regs.context(v.is_up(), cr))?;
    }
    Ok(())
}

/// XEN_DOMCTL_setvcpucontext of an HVM vCPU: its general registers, as
/// Xen applies them (segments and control registers come with the HVM
/// context records instead).
pub fn set_context(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlVcpuContext = op.payload();
    let v = stopped_vcpu(op, d, req.vcpu)?;
    if req.ctxt == 0 {
        return Err(errno::EINVAL);
    }
    let bytes: Vec<u8> = op.call.read_array(req.ctxt, VCPU_GUEST_CONTEXT_SIZE)?;
    let ctx: &[u8; VCPU_GUEST_CONTEXT_SIZE] =
        bytes.as_slice().try_into().map_err(|_| errno::EFAULT)?;
    let regs = UserRegs::read(ctx);
    v.inner
        .try_lock()
        .ok_or(errno::EAGAIN)?
        .arch
        .set_user_regs(&regs);
    Ok(())
}

/// A vCPU of another domain that is off its CPU for good or for now
/// (paused or shut down): its registers may be read and written.
fn stopped_vcpu(op: &Op, d: &Arc<Domain>, id: u32) -> Result<Arc<Vcpu>, Errno> {
    if d.id == op.call.dom.id {
        return Err(errno::EINVAL);
    }
    let v = vcpu_of(d, id)?;
    let stopped = d.is_paused() || !d.is_running();
    if !stopped || v.on_cpu() {
        return Err(errno::EBUSY);
    }
    Ok(v)
}
