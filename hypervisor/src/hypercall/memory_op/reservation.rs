//! A domain's reservation: populating its physmap with fresh RAM (the
//! toolstack building a guest, a balloon growing), giving pages back (a
//! balloon shrinking), claims and the PoD target the toolstack sets.

use alloc::sync::Arc;
use alloc::vec::Vec;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::memory::*;

use super::super::Call;
use crate::domain::memory::{MemoryError, PageKind};
use crate::domain::Domain;

/// Largest extent accepted (2 MiB); larger ones fail so the toolstack
/// retries with smaller ones, as it does on Xen without 1 GiB pages.
const MAX_ORDER: u32 = 9;
/// Largest populate-on-demand extent (1 GiB): marking costs no memory.
const MAX_POD_ORDER: u32 = 18;

/// A reservation request, read once for populate and decrease alike.
enum Extents {
    /// Nothing (more) to do: the count of extents to report.
    Done(u64),
    /// The request, its target and the gfns of extents `start..`.
    Todo(XenMemoryReservation, Arc<Domain>, Vec<u64>),
}

/// Reads the request at `arg` and the gfns still to do from `start` (a
/// continuation's restart point). Orders above 2 MiB (1 GiB for
/// populate-on-demand) are answered with the extents done so far: the
/// toolstack then asks again in smaller pieces.
fn extents(call: &mut Call, arg: u64, start: u64, populate: bool) -> Result<Extents, Errno> {
    let req: XenMemoryReservation = call.read(arg)?;
    let target = call.target(req.domid)?;
    let pod = populate && req.mem_flags & XENMEMF_POPULATE_ON_DEMAND != 0;
    let max_order = if pod { MAX_POD_ORDER } else { MAX_ORDER };
    if req.extent_order > max_order {
        return Ok(Extents::Done(start.min(req.nr_extents)));
    }
    if start >= req.nr_extents {
        return Ok(Extents::Done(req.nr_extents));
    }
    let count = usize::try_from(req.nr_extents - start).map_err(|_| errno::EINVAL)?;
    let gfns: Vec<u64> = call.read_array(req.extent_start + start * 8, count)?;
    Ok(Extents::Todo(req, target, gfns))
}

/// XENMEM_populate_physmap: extents of fresh, zeroed RAM at the gfns the
/// list names. Returns the extents done (all of them, or where it stopped).
pub fn populate(call: &mut Call, arg: u64, start: u64) -> Result<u64, Errno> {
    let (req, target, gfns) = match extents(call, arg, start, true)? {
        Extents::Done(n) => return Ok(n),
        Extents::Todo(req, target, gfns) => (req, target, gfns),
    };
    let pod = req.mem_flags & XENMEMF_POPULATE_ON_DEMAND != 0;
    let mut done = start;
    let mut memory = target.memory.lock();
    for gfn in gfns {
        let result = if pod {
            memory.mark_pod(gfn, req.extent_order)
        } else {
            memory.populate(gfn, req.extent_order)
        };
        if let Err(e) = result {
            log::debug!(
                "d{}: populate of gfn {gfn:#x} order {} stopped: {e:?} ({} of {} pages)",
                target.id,
                req.extent_order,
                memory.ram_pages(),
                memory.max_pages()
            );
            break;
        }
        done += 1;
    }
    drop(memory);
    if !pod {
        consume_claim(&target, (done - start) << req.extent_order);
    }
    Ok(done)
}

/// XENMEM_decrease_reservation: the guest (its balloon) gives RAM back, or
/// populate-on-demand entries it never touched. Frames another domain still
/// maps stay alive until it unmaps them.
pub fn decrease(call: &mut Call, arg: u64, start: u64) -> Result<u64, Errno> {
    let (req, target, gfns) = match extents(call, arg, start, false)? {
        Extents::Done(n) => return Ok(n),
        Extents::Todo(req, target, gfns) => (req, target, gfns),
    };
    let mut done = start;
    let mut removed = Vec::new();
    {
        let mut memory = target.memory.lock();
        'extents: for gfn in gfns {
            let pages = 1u64 << req.extent_order;
            if gfn % pages != 0 {
                break;
            }
            for g in gfn..gfn + pages {
                // Only the domain's own RAM (or what it is owed) can be
                // given back.
                let ram = memory.lookup(g).is_some_and(|p| p.kind == PageKind::Ram);
                if !ram && !memory.is_pod(g) {
                    break 'extents;
                }
            }
            for g in gfn..gfn + pages {
                match memory.remove(g) {
                    Ok(Some(page)) => {
                        removed.push(page);
                        memory.pod_page_returned();
                    }
                    // An entry, forgotten.
                    Ok(None) => {}
                    Err(_) => break 'extents,
                }
            }
            done += 1;
        }
        memory.pod_trim();
    }
    target.flush_tlbs();
    for page in removed {
        page.release();
    }
    Ok(done)
}

/// XENMEM_claim_pages: the toolstack reserves memory for a domain before
/// populating it (0 pages cancels the claim).
pub fn claim(call: &mut Call, arg: u64) -> Result<u64, Errno> {
    let req: XenMemoryReservation = call.read(arg)?;
    crate::policy::privileged(call.dom)?;
    let target = call.target(req.domid)?;
    if req.extent_order != 0 || req.mem_flags != 0 {
        return Err(errno::EINVAL);
    }
    let mut ts = target.toolstack.lock();
    if req.nr_extents == 0 {
        crate::mm::claims::release(ts.claimed_pages);
        ts.claimed_pages = 0;
        return Ok(0);
    }
    if ts.claimed_pages != 0 {
        return Err(errno::EINVAL);
    }
    let have = target.memory.lock().ram_pages();
    let wanted = req.nr_extents.saturating_sub(have);
    if !crate::mm::claims::take(wanted) {
        return Err(errno::ENOMEM);
    }
    ts.claimed_pages = wanted;
    Ok(0)
}

/// Populating used up part of a claim.
fn consume_claim(target: &crate::domain::Domain, pages: u64) {
    let mut ts = target.toolstack.lock();
    let used = pages.min(ts.claimed_pages);
    ts.claimed_pages -= used;
    crate::mm::claims::release(used);
}

/// XENMEM_set_pod_target / get_pod_target: the cache is grown or shrunk so
/// that the domain holds the target (a domain without populate-on-demand
/// entries keeps no cache: then it changes nothing); the answer is its
/// pages, its cache and its entries.
pub fn pod_target(call: &mut Call, arg: u64, set: bool) -> Result<u64, Errno> {
    let mut req: XenPodTarget = call.read(arg)?;
    crate::policy::privileged(call.dom)?;
    let target = call.target(req.domid)?;
    let mut memory = target.memory.lock();
    let grown = if set {
        memory.set_pod_target(req.target_pages)
    } else {
        Ok(0)
    };
    req.tot_pages = memory.ram_pages();
    req.pod_cache_pages = memory.pod_cache_pages();
    req.pod_entries = memory.pod_entries();
    drop(memory);
    // The cache is what the toolstack claimed memory for.
    consume_claim(&target, *grown.as_ref().unwrap_or(&0));
    call.write(arg, &req)?;
    match grown {
        Ok(_) => Ok(0),
        Err(_) => Err(errno::ENOMEM),
    }
}

/// XENMEM_current_reservation / maximum_reservation of the domain named by
/// the domid at `arg`.
pub fn size(call: &mut Call, arg: u64, cmd: u64) -> Result<u64, Errno> {
    let domid: u16 = call.read(arg)?;
    let target = call.target(domid)?;
    let memory = target.memory.lock();
    Ok(if cmd == XENMEM_CURRENT_RESERVATION {
        memory.ram_pages()
    } else {
        memory.max_pages()
    })
}

/// The errno for a failed map of one page.
pub fn memory_errno(e: MemoryError) -> Errno {
    match e {
        MemoryError::OutOfMemory => errno::ENOMEM,
        MemoryError::BadAddress => errno::EINVAL,
        MemoryError::Busy => errno::EBUSY,
        MemoryError::OverLimit => errno::ENOMEM,
    }
}
