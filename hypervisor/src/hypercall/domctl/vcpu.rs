//! The vCPU sub-ops: what each vCPU is doing (`xl vcpu-list`, xentop) and
//! where it may run (`xl vcpu-pin`), plus NUMA node affinity (one node).

use alloc::sync::Arc;
use alloc::vec::Vec;

use rxen_credit_sched::CpuMask;
use rxen_xen_abi::domctl::*;
use rxen_xen_abi::errno::{self, Errno};

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
