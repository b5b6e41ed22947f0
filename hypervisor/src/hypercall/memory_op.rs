//! memory_op: placing shared_info and grant-table frames in the guest's
//! physical address space, and the memory map.

use core::sync::atomic::Ordering;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::memory::*;
use rxen_xen_abi::vcpu::shared_info;

use super::{err, ok, Call, Outcome};
use crate::arch::npt::Access;
use crate::domain::memory::PAGE;
use crate::domain::MAX_GRANT_FRAMES;

/// Sub-op bits above these carry extent-start continuation state.
const MEMOP_CMD_MASK: u64 = 0x3F;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, arg, ..] = call.args;
    let result = match cmd & MEMOP_CMD_MASK {
        XENMEM_ADD_TO_PHYSMAP => add_to_physmap(call, arg),
        XENMEM_MEMORY_MAP => memory_map(call, arg),
        XENMEM_CURRENT_RESERVATION | XENMEM_MAXIMUM_RESERVATION => reservation(call, arg),
        XENMEM_MACHINE_MEMORY_MAP => Err(errno::EPERM),
        _ => Err(errno::ENOSYS),
    };
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

fn add_to_physmap(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let req: XenAddToPhysmap = call.read(arg)?;
    call.check_self(req.domid)?;
    let gpa = req.gpfn.checked_mul(PAGE).ok_or(errno::EINVAL)?;
    let frame = match req.space {
        XENMAPSPACE_SHARED_INFO if req.idx == 0 => call.dom.shared_info_pa,
        XENMAPSPACE_SHARED_INFO => return Err(errno::EINVAL),
        XENMAPSPACE_GRANT_TABLE => grant_frame(call, req.idx)?,
        _ => return Err(errno::ENOSYS),
    };
    call.dom
        .memory
        .lock()
        .map(gpa, frame, Access::ReadWrite)
        .map_err(|_| errno::EINVAL)?;
    // Every vCPU of the domain must drop stale translations.
    call.dom.npt_generation.fetch_add(1, Ordering::SeqCst);
    if req.space == XENMAPSPACE_SHARED_INFO {
        init_shared_info(call);
    }
    Ok(0)
}

/// The first time shared_info appears: wall clock and every vCPU's clock.
fn init_shared_info(call: &mut Call) {
    let dom = call.dom;
    if dom.shared_info_mapped.swap(true, Ordering::SeqCst) {
        return;
    }
    super::time::write_wallclock(dom.shared_info_pa);
    for v in &dom.vcpus {
        let pa = dom.shared_info_pa + shared_info::vcpu_info(v.id).unwrap_or(0) as u64;
        super::time::write_pvclock(pa);
    }
}

/// Grant-table frame `idx` (allocated on first use, up to the maximum).
fn grant_frame(call: &mut Call, idx: u64) -> Result<u64, Errno> {
    if idx & XENMAPIDX_GRANT_TABLE_STATUS != 0 || idx >= u64::from(MAX_GRANT_FRAMES) {
        return Err(errno::EINVAL);
    }
    let mut frames = call.dom.grant_frames.lock();
    while frames.len() as u64 <= idx {
        let pa = call
            .dom
            .memory
            .lock()
            .alloc_frame()
            .map_err(|_| errno::ENOMEM)?;
        frames.push(pa);
    }
    Ok(frames[idx as usize])
}

/// Pages the domain named by the `domid_t` at `arg` has (only itself).
fn reservation(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let domid: u16 = call.read(arg)?;
    call.check_self(domid)?;
    Ok(call.dom.memory.lock().ram_bytes() / PAGE)
}

fn memory_map(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let mut map: XenMemoryMap = call.read(arg)?;
    let entries = &call.dom.e820;
    if (map.nr_entries as usize) < entries.len() {
        return Err(errno::EINVAL);
    }
    let mut bytes = alloc::vec::Vec::with_capacity(entries.len() * 20);
    for e in entries {
        bytes.extend_from_slice(&e.addr.to_le_bytes());
        bytes.extend_from_slice(&e.size.to_le_bytes());
        bytes.extend_from_slice(&e.kind.to_le_bytes());
    }
    call.write_bytes(map.buffer, &bytes)?;
    map.nr_entries = entries.len() as u32;
    call.write(arg, &map)?;
    Ok(0)
}
