//! memory_op: a domain's reservation (populate, decrease, claims), its
//! physical address space (shared_info and grant frames placed, foreign
//! frames mapped by the toolstack, pages removed), its memory map, and the
//! resources the toolstack acquires (a new guest's grant frames).
//!
//! Operations on another domain go through the XSM decisions of
//! `crate::policy`, as Xen's do.

mod physmap;
mod reservation;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::memory::*;

use super::{err, ok, Call, Outcome};

/// Sub-op bits; the bits above carry the continuation's start extent.
const MEMOP_CMD_MASK: u64 = 0x3F;
const MEMOP_EXTENT_SHIFT: u32 = 6;
/// Most e820 entries a memory map holds (Xen's E820MAX).
const E820_MAX: usize = 128;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, arg, ..] = call.args;
    let start_extent = cmd >> MEMOP_EXTENT_SHIFT;
    let result = match cmd & MEMOP_CMD_MASK {
        XENMEM_POPULATE_PHYSMAP => reservation::populate(call, arg, start_extent),
        // Allocating frames without a place in the physmap means nothing to
        // a translated guest: nothing is done, as Xen does for HVM.
        XENMEM_INCREASE_RESERVATION => Ok(start_extent),
        XENMEM_DECREASE_RESERVATION => reservation::decrease(call, arg, start_extent),
        XENMEM_CLAIM_PAGES => reservation::claim(call, arg),
        XENMEM_SET_POD_TARGET => reservation::pod_target(call, arg, true),
        XENMEM_GET_POD_TARGET => reservation::pod_target(call, arg, false),
        XENMEM_CURRENT_RESERVATION | XENMEM_MAXIMUM_RESERVATION => {
            reservation::size(call, arg, cmd & MEMOP_CMD_MASK)
        }
        XENMEM_MAXIMUM_RAM_PAGE => Ok(crate::mm::frames::max_frame().saturating_sub(1)),
        XENMEM_MAXIMUM_GPFN => maximum_gpfn(call, arg),
        XENMEM_ADD_TO_PHYSMAP => physmap::add_to_physmap(call, arg),
        XENMEM_ADD_TO_PHYSMAP_BATCH => physmap::add_to_physmap_batch(call, arg),
        XENMEM_REMOVE_FROM_PHYSMAP => physmap::remove_from_physmap(call, arg),
        XENMEM_ACQUIRE_RESOURCE => physmap::acquire_resource(call, arg),
        XENMEM_MEMORY_MAP => memory_map(call, arg),
        XENMEM_SET_MEMORY_MAP => set_memory_map(call, arg),
        XENMEM_MACHINE_MEMORY_MAP => crate::policy::privileged(call.dom).and(Err(errno::ENOSYS)),
        // No page sharing: the toolstack reads -ENOSYS as 0 pages.
        // No virtual NUMA: Xen's answer, which `xl save` requires.
        XENMEM_GET_VNUMAINFO => Err(errno::EOPNOTSUPP),
        XENMEM_GET_SHARING_FREED_PAGES | XENMEM_GET_SHARING_SHARED_PAGES => Err(errno::ENOSYS),
        _ => Err(errno::ENOSYS),
    };
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

/// The highest guest frame of the domain named by the domid at `arg`.
fn maximum_gpfn(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let domid: u16 = call.read(arg)?;
    let target = call.target(domid)?;
    let max = target.memory.lock().max_gfn();
    Ok(max)
}

fn memory_map(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let mut map: XenMemoryMap = call.read(arg)?;
    let entries = call.dom.e820.lock().clone();
    if (map.nr_entries as usize) < entries.len() {
        return Err(errno::EINVAL);
    }
    call.write_array(map.buffer, &entries)?;
    map.nr_entries = entries.len() as u32;
    call.write(arg, &map)?;
    Ok(0)
}

/// XENMEM_set_memory_map: the toolstack gives a new domain its e820.
fn set_memory_map(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let req: XenForeignMemoryMap = call.read(arg)?;
    let target = call.target(req.domid)?;
    let n = req.map.nr_entries as usize;
    if n > E820_MAX {
        return Err(errno::EINVAL);
    }
    let entries: alloc::vec::Vec<E820Entry> = call.read_array(req.map.buffer, n)?;
    *target.e820.lock() = entries;
    Ok(0)
}
