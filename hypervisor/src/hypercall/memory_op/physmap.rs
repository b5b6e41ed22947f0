//! A domain's physical address space: placing its shared_info and grant
//! frames (XENMEM_add_to_physmap), the toolstack's foreign maps of other
//! domains' pages (add_to_physmap_batch with gmfn_foreign, the path of
//! Linux's privcmd in a PVH dom0), removing entries, and acquiring another
//! domain's grant frames (XENMEM_acquire_resource).

use core::sync::atomic::Ordering;

use alloc::vec::Vec;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::memory::*;
use rxen_xen_abi::vcpu::shared_info;

use super::super::Call;
use super::reservation::memory_errno;
use crate::domain::memory::{Page, PageKind};
use crate::domain::Domain;

/// XENMEM_add_to_physmap (one frame; `gmfn_foreign` needs the batch form).
pub fn add_to_physmap(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let req: XenAddToPhysmap = call.read(arg)?;
    let target = call.target(req.domid)?;
    if req.space == XENMAPSPACE_GMFN_FOREIGN {
        return Err(errno::EINVAL);
    }
    map_one(&target, req.space, req.idx, req.gpfn)?;
    Ok(0)
}

/// Maps index `idx` of `space` at `gpfn` in `dom`'s physmap.
fn map_one(dom: &Domain, space: u32, idx: u64, gpfn: u64) -> Result<(), Errno> {
    match space {
        XENMAPSPACE_SHARED_INFO if idx == 0 => {
            place(dom, gpfn, dom.shared_info_pa, PageKind::Shared)?;
            init_shared_info(dom);
            Ok(())
        }
        XENMAPSPACE_GRANT_TABLE => {
            if idx & XENMAPIDX_GRANT_TABLE_STATUS != 0 {
                // Version 1 has no status frames.
                return Err(errno::EINVAL);
            }
            let idx = u32::try_from(idx).map_err(|_| errno::EINVAL)?;
            let frame = {
                let mut grants = dom.grants.lock();
                let mut memory = dom.memory.lock();
                grants.frame(idx, &mut memory).map_err(memory_errno)?
            };
            place(dom, gpfn, frame, PageKind::Shared)
        }
        XENMAPSPACE_GMFN => move_ram(dom, idx, gpfn),
        XENMAPSPACE_SHARED_INFO => Err(errno::EINVAL),
        _ => Err(errno::ENOSYS),
    }
}

/// Puts `pa` at `gpfn`; whatever was there goes once the domain's TLBs
/// have forgotten it.
fn place(dom: &Domain, gpfn: u64, pa: u64, kind: PageKind) -> Result<(), Errno> {
    let old = dom
        .memory
        .lock()
        .insert(gpfn, pa, kind, true)
        .map_err(memory_errno)?;
    finish_removal(dom, old.into_iter().collect());
    Ok(())
}

/// XENMAPSPACE_gmfn: the RAM page at `from` moves to `to`.
fn move_ram(dom: &Domain, from: u64, to: u64) -> Result<(), Errno> {
    let mut memory = dom.memory.lock();
    match memory.lookup(from) {
        Some(p) if p.kind == PageKind::Ram => {}
        _ => return Err(errno::EINVAL),
    }
    if !memory.is_hole(to, 1) {
        return Err(errno::EBUSY);
    }
    memory.relocate_ram(from, to).map_err(memory_errno)?;
    drop(memory);
    dom.flush_tlbs();
    Ok(())
}

/// The first time shared_info appears: wall clock and every vCPU's clock.
fn init_shared_info(dom: &Domain) {
    if dom.shared_info_mapped.swap(true, Ordering::SeqCst) {
        return;
    }
    super::super::time::write_wallclock(dom.shared_info_pa);
    for v in dom.vcpus() {
        let pa = dom.shared_info_pa + shared_info::vcpu_info(v.id).unwrap_or(0) as u64;
        super::super::time::write_pvclock(pa);
    }
}

/// XENMEM_add_to_physmap_batch: `size` frames at once, an error per frame.
pub fn add_to_physmap_batch(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let req: XenAddToPhysmapBatch = call.read(arg)?;
    let target = call.target(req.domid)?;
    let n = usize::from(req.size);
    let idxs: Vec<u64> = call.read_array(req.idxs, n)?;
    let gpfns: Vec<u64> = call.read_array(req.gpfns, n)?;
    let errs: Vec<i32> = if u32::from(req.space) == XENMAPSPACE_GMFN_FOREIGN {
        let foreign = crate::domain::get(req.foreign_domid).ok_or(errno::ESRCH)?;
        crate::policy::map_foreign(call.dom, &foreign)?;
        map_foreign(&target, &foreign, &idxs, &gpfns)
    } else {
        if req.foreign_domid != 0 {
            return Err(errno::EINVAL);
        }
        idxs.iter()
            .zip(&gpfns)
            .map(|(&idx, &gpfn)| errno_of(map_one(&target, u32::from(req.space), idx, gpfn)))
            .collect()
    };
    call.write_array(req.errs, &errs)?;
    Ok(0)
}

fn errno_of(result: Result<(), Errno>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => -i32::from(e.code()),
    }
}

/// Maps `foreign`'s frames `idxs` at `gpfns` of `mapper`, each entry
/// holding a reference on its frame.
fn map_foreign(mapper: &Domain, foreign: &Domain, idxs: &[u64], gpfns: &[u64]) -> Vec<i32> {
    let mut replaced = Vec::new();
    let errs = idxs
        .iter()
        .zip(gpfns)
        .map(|(&idx, &gpfn)| {
            let page = match foreign_page(foreign, idx) {
                Ok(p) => p,
                Err(e) => return -i32::from(e.code()),
            };
            match mapper
                .memory
                .lock()
                .insert(gpfn, page.pa, PageKind::Foreign, true)
            {
                Ok(old) => {
                    replaced.extend(old);
                    0
                }
                Err(e) => {
                    crate::domain::release_frame(page.pa);
                    -i32::from(memory_errno(e).code())
                }
            }
        })
        .collect();
    finish_removal(mapper, replaced);
    errs
}

/// A reference on `foreign`'s page at `gfn`, which must be its own (RAM or
/// one of its shared frames), not something it maps from elsewhere.
fn foreign_page(foreign: &Domain, gfn: u64) -> Result<Page, Errno> {
    if foreign.is_dying() {
        return Err(errno::ESRCH);
    }
    // A populate-on-demand entry gets its page now (the toolstack loading
    // the kernel into a guest built with maxmem above memory).
    let page = foreign
        .memory
        .lock()
        .lookup_populating(gfn)
        .ok_or(errno::EINVAL)?;
    if !matches!(page.kind, PageKind::Ram | PageKind::Shared) {
        return Err(errno::EINVAL);
    }
    let pa = page.pa & !0xFFF;
    if !crate::mm::pages::get(pa, foreign.id) {
        return Err(errno::EINVAL);
    }
    Ok(Page { pa, ..page })
}

/// Flushes `dom`'s TLBs, then lets go of the pages removed from its p2m.
fn finish_removal(dom: &Domain, removed: Vec<Page>) {
    if removed.is_empty() {
        return;
    }
    dom.flush_tlbs();
    for page in removed {
        page.release();
    }
}

/// XENMEM_remove_from_physmap: the entry at `gpfn` goes (a grant map must
/// be undone by unmapping the grant).
pub fn remove_from_physmap(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let req: XenRemoveFromPhysmap = call.read(arg)?;
    let target = call.target(req.domid)?;
    let removed = {
        let mut memory = target.memory.lock();
        if memory
            .lookup(req.gpfn)
            .is_some_and(|p| p.kind == PageKind::Grant)
        {
            return Err(errno::EINVAL);
        }
        memory.remove(req.gpfn).map_err(memory_errno)?
    };
    finish_removal(&target, removed.into_iter().collect());
    Ok(0)
}

/// XENMEM_acquire_resource: the toolstack maps a domain's grant frames
/// into its own physmap at the gfns it lists (to seed the console and
/// store grants of a guest it builds).
pub fn acquire_resource(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let mut req: XenMemAcquireResource = call.read(arg)?;
    if req.pad != 0 {
        return Err(errno::EINVAL);
    }
    let target = call.target(req.domid)?;
    crate::policy::privileged(call.dom)?;
    match (req.kind, req.id) {
        (XENMEM_RESOURCE_GRANT_TABLE, XENMEM_RESOURCE_GRANT_TABLE_ID_SHARED) => {}
        // Version 1 tables have no status frames.
        (XENMEM_RESOURCE_GRANT_TABLE, _) => return Err(errno::EINVAL),
        // No ioreq servers (no device models) and no trace buffers.
        _ => return Err(errno::EOPNOTSUPP),
    }
    let max = target.grants.lock().max_frames();
    if req.frame_list == 0 {
        if req.nr_frames != 0 {
            return Err(errno::EINVAL);
        }
        req.nr_frames = max;
        call.write(arg, &req)?;
        return Ok(0);
    }
    let first = u32::try_from(req.frame).map_err(|_| errno::EINVAL)?;
    if u64::from(first) + u64::from(req.nr_frames) > u64::from(max) {
        return Err(errno::EINVAL);
    }
    let gfns: Vec<u64> = call.read_array(req.frame_list, req.nr_frames as usize)?;
    let mut replaced = Vec::new();
    let mut result = Ok(0);
    for (i, gfn) in gfns.into_iter().enumerate() {
        let frame = {
            let mut grants = target.grants.lock();
            let mut memory = target.memory.lock();
            grants.frame(first + i as u32, &mut memory)
        };
        let pa = match frame {
            Ok(pa) if crate::mm::pages::get(pa, target.id) => pa,
            _ => {
                result = Err(errno::ENOMEM);
                break;
            }
        };
        match call
            .dom
            .memory
            .lock()
            .insert(gfn, pa, PageKind::Foreign, true)
        {
            Ok(old) => replaced.extend(old),
            Err(e) => {
                crate::domain::release_frame(pa);
                result = Err(memory_errno(e));
                break;
            }
        }
    }
    finish_removal(call.dom, replaced);
    result
}
