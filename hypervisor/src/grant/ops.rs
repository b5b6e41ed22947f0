//! The grant operations back-ends use: map a granted page into the
//! mapper's physmap, unmap it (and flush the mapper's TLBs before the page
//! can go), and copy between granted and local pages.

use rxen_grant_table::{GrantError, Mapping};
use rxen_xen_abi::grant::*;
use rxen_xen_abi::memory::DOMID_SELF;
use rxen_xen_abi::{DomId, GrantHandle, GrantRef};

use super::{pin, unpin, PinError, Pinned};
use crate::domain::memory::PageKind;
use crate::domain::Domain;

/// What a successful map returns.
pub struct Mapped {
    pub handle: GrantHandle,
    /// The machine address of the page (Xen reports it; Linux ignores it).
    pub dev_bus_addr: u64,
}

/// GNTTABOP_map_grant_ref into an auto-translated mapper: `flags` must be
/// exactly GNTMAP_host_map, optionally with GNTMAP_readonly, and
/// `host_addr` the guest-physical address to map at.
pub fn map(
    mapper: &Domain,
    granter_id: DomId,
    gref: GrantRef,
    flags: u32,
    host_addr: u64,
) -> Result<Mapped, i16> {
    if flags & (GNTMAP_HOST_MAP | GNTMAP_DEVICE_MAP) == 0 {
        return Err(GNTST_BAD_GNTREF);
    }
    if flags & !(GNTMAP_HOST_MAP | GNTMAP_READONLY) != 0 || host_addr & 0xFFF != 0 {
        return Err(GNTST_GENERAL_ERROR);
    }
    let readonly = flags & GNTMAP_READONLY != 0;
    let granter = lookup(mapper, granter_id).ok_or(GNTST_BAD_DOMAIN)?;
    let pinned = pin(&granter, gref, mapper.id, readonly).map_err(PinError::status)?;
    let gfn = host_addr >> 12;
    let inserted = mapper
        .memory
        .lock()
        .insert(gfn, pinned.pa, PageKind::Grant, !readonly);
    let old = match inserted {
        Ok(old) => old,
        Err(_) => {
            unpin(&granter, pinned);
            return Err(GNTST_GENERAL_ERROR);
        }
    };
    if let Some(old) = old {
        mapper.flush_tlbs();
        old.release();
    }
    let mapping = Mapping {
        granter: granter.id,
        gref,
        host_gfn: gfn,
        mfn: pinned.pa >> 12,
        readonly,
    };
    let handle = mapper.mapped_grants.lock().maptrack.insert(mapping);
    match handle {
        Ok(handle) => Ok(Mapped {
            handle,
            dev_bus_addr: pinned.pa,
        }),
        Err(e) => {
            undo_map(mapper, &granter, mapping, pinned);
            Err(e.status())
        }
    }
}

/// The domain a grant op names: DOMID_SELF is the caller.
fn lookup(caller: &Domain, id: DomId) -> Option<alloc::sync::Arc<Domain>> {
    let id = if id == DOMID_SELF { caller.id } else { id };
    crate::domain::get(id).filter(|d| !d.is_dying())
}

fn undo_map(mapper: &Domain, granter: &Domain, mapping: Mapping, pinned: Pinned) {
    let removed = mapper.memory.lock().remove(mapping.host_gfn);
    mapper.flush_tlbs();
    if let Ok(Some(page)) = removed {
        page.release();
    }
    unpin(granter, pinned);
}

/// GNTTABOP_unmap_grant_ref: the p2m entry goes (the gfn becomes a hole),
/// the mapper's TLBs are flushed, then the pin and the frame reference go.
pub fn unmap(
    mapper: &Domain,
    handle: GrantHandle,
    host_addr: u64,
    dev_bus_addr: u64,
) -> Result<(), i16> {
    let mapping = mapper
        .mapped_grants
        .lock()
        .maptrack
        .get(handle)
        .map_err(GrantError::status)?;
    if host_addr != 0 && host_addr >> 12 != mapping.host_gfn {
        return Err(GNTST_GENERAL_ERROR);
    }
    if dev_bus_addr != 0 && dev_bus_addr >> 12 != mapping.mfn {
        return Err(GNTST_BAD_DEV_ADDR);
    }
    let removed = {
        let mut memory = mapper.memory.lock();
        match memory.lookup(mapping.host_gfn) {
            Some(p) if p.kind == PageKind::Grant && p.pa >> 12 == mapping.mfn => {}
            _ => return Err(GNTST_GENERAL_ERROR),
        }
        memory.remove(mapping.host_gfn)
    };
    let _ = mapper.mapped_grants.lock().maptrack.remove(handle);
    mapper.flush_tlbs();
    if let Ok(Some(page)) = removed {
        // The p2m entry's reference.
        page.release();
    }
    if let Some(granter) = crate::domain::get(mapping.granter).filter(|d| !d.is_dying()) {
        let mut table = granter.grants.lock();
        if !mapping.readonly {
            // What the mapper wrote goes with a migration's next pass.
            if let Some(gfn) = table.active.pinned_gfn(mapping.gref) {
                granter.memory.lock().mark_dirty(gfn);
            }
        }
        let release = table.active.unpin(mapping.gref, mapping.readonly);
        if let Some(entry) = table.entry_pa(mapping.gref) {
            super::clear_flags(entry, release.mask());
        }
    }
    Ok(())
}

/// One side of a copy, resolved to a machine page the copy holds a
/// reference on.
struct Side {
    pa: u64,
    pinned: Option<(alloc::sync::Arc<Domain>, Pinned)>,
}

impl Side {
    fn release(self) {
        match self.pinned {
            Some((granter, pinned)) => unpin(&granter, pinned),
            None => crate::domain::release_frame(self.pa),
        }
    }
}

/// One side: a grant (`gref` set) made to `caller`, or the caller's own
/// page (domid must be DOMID_SELF literally).
fn resolve(caller: &Domain, ptr: &GnttabCopyPtr, gref: bool, write: bool) -> Result<Side, i16> {
    if gref {
        let granter = lookup(caller, ptr.domid).ok_or(GNTST_BAD_DOMAIN)?;
        let pinned =
            pin(&granter, ptr.u as GrantRef, caller.id, !write).map_err(PinError::status)?;
        return Ok(Side {
            pa: pinned.pa,
            pinned: Some((granter, pinned)),
        });
    }
    if ptr.domid != DOMID_SELF {
        return Err(GNTST_PERMISSION_DENIED);
    }
    let page = {
        let memory = caller.memory.lock();
        let page = memory.lookup(ptr.u).ok_or(GNTST_BAD_PAGE)?;
        let writable = page.writable || memory.log_dirty_on();
        if page.kind != PageKind::Ram || (write && !writable) {
            return Err(GNTST_BAD_PAGE);
        }
        if write {
            memory.mark_dirty(ptr.u);
        }
        page
    };
    let pa = page.pa & !0xFFF;
    if !crate::mm::pages::get(pa, caller.id) {
        return Err(GNTST_BAD_PAGE);
    }
    Ok(Side { pa, pinned: None })
}

/// GNTTABOP_copy of one element.
pub fn copy(caller: &Domain, op: &GnttabCopy) -> i16 {
    let len = u64::from(op.len);
    if len == 0 {
        return GNTST_OKAY;
    }
    if u64::from(op.source.offset) + len > 4096 || u64::from(op.dest.offset) + len > 4096 {
        return GNTST_BAD_COPY_ARG;
    }
    let src = match resolve(
        caller,
        &op.source,
        op.flags & GNTCOPY_SOURCE_GREF != 0,
        false,
    ) {
        Ok(s) => s,
        Err(status) => return status,
    };
    let dst = match resolve(caller, &op.dest, op.flags & GNTCOPY_DEST_GREF != 0, true) {
        Ok(d) => d,
        Err(status) => {
            src.release();
            return status;
        }
    };
    crate::mm::machine::copy(
        src.pa + u64::from(op.source.offset),
        dst.pa + u64::from(op.dest.offset),
        op.len as usize,
    );
    src.release();
    dst.release();
    GNTST_OKAY
}
