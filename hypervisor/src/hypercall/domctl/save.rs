//! The sub-ops `xl save` and `xl restore` use beyond a domain's HVM state
//! (`hvm`): the type of each guest frame (which to copy), log-dirty
//! (which frames were written since the last pass), and the resume of a
//! domain whose suspend was cancelled.

use alloc::sync::Arc;
use alloc::vec::Vec;

use rxen_xen_abi::domctl::*;
use rxen_xen_abi::errno::{self, Errno};

use super::Op;
use crate::domain::memory::PageKind;
use crate::domain::Domain;

/// XEN_DOMCTL_getpageframeinfo3: each gfn of the array is overwritten with
/// its type. Ordinary RAM is NOTAB (the toolstack copies it); holes and
/// the frames rxen owns and the guest only maps (shared_info, grant
/// frames, foreign and grant mappings) are XTAB: the guest maps fresh ones
/// when it resumes.
pub fn page_frame_info(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    if d.id == op.call.dom.id {
        return Err(errno::EINVAL);
    }
    let req: DomctlGetPageFrameInfo3 = op.payload();
    if req.num > XEN_DOMCTL_PFINFO_MAX_BATCH {
        return Err(errno::E2BIG);
    }
    let gfns: Vec<u64> = op.call.read_array(req.array, req.num as usize)?;
    let types: Vec<u64> = {
        let mut mem = d.memory.lock();
        gfns.iter()
            .map(|&gfn| match mem.lookup_populating(gfn) {
                Some(page) if page.kind == PageKind::Ram => u64::from(XEN_DOMCTL_PFINFO_NOTAB),
                _ => u64::from(XEN_DOMCTL_PFINFO_XTAB),
            })
            .collect()
    };
    op.call.write_array(req.array, &types)
}

/// XEN_DOMCTL_shadow_op: rxen's p2m is always the nested page table, so
/// only log-dirty is meaningful (live migration's pre-copy).
pub fn shadow_op(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    if d.id == op.call.dom.id {
        return Err(errno::EINVAL);
    }
    let mut req: DomctlShadowOp = op.payload();
    match req.op {
        // Every save's cleanup: succeeds whether or not it was on.
        XEN_DOMCTL_SHADOW_OP_OFF => {
            d.memory.lock().log_dirty_disable();
            d.flush_tlbs();
            Ok(())
        }
        XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY => enable_log_dirty(d),
        XEN_DOMCTL_SHADOW_OP_ENABLE if req.mode & XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY != 0 => {
            enable_log_dirty(d)
        }
        XEN_DOMCTL_SHADOW_OP_CLEAN | XEN_DOMCTL_SHADOW_OP_PEEK => {
            if req.mode & !XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL != 0 {
                return Err(errno::EINVAL);
            }
            let clean = req.op == XEN_DOMCTL_SHADOW_OP_CLEAN;
            let final_pass = req.mode & XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL != 0;
            req.stats = read_dirty_log(op, d, &req, clean, final_pass)?;
            op.set_payload(&req);
            Ok(())
        }
        _ => Err(errno::EINVAL),
    }
}

fn enable_log_dirty(d: &Domain) -> Result<(), Errno> {
    d.memory
        .lock()
        .log_dirty_enable()
        .map_err(|_| errno::EINVAL)?;
    d.flush_tlbs();
    log::info!("d{}: log-dirty on", d.id);
    Ok(())
}

/// Bitmap bytes at most (one bit per frame of a 64 GiB guest).
const MAX_BITMAP_BYTES: u64 = 2 << 20;

/// CLEAN or PEEK with the domain paused, as Xen does: the bitmap of
/// `req.pages` frames into the toolstack's buffer (when it gave one),
/// `pages` echoed, the counts.
fn read_dirty_log(
    op: &mut Op,
    d: &Arc<Domain>,
    req: &DomctlShadowOp,
    clean: bool,
    final_pass: bool,
) -> Result<XenDomctlShadowOpStats, Errno> {
    let bytes = req.pages.div_ceil(8);
    if bytes > MAX_BITMAP_BYTES {
        return Err(errno::EINVAL);
    }
    let mut bitmap = alloc::vec![0u8; bytes as usize];
    d.pause()?;
    let stats = d
        .memory
        .lock()
        .log_dirty_read(req.pages, clean, final_pass, &mut bitmap);
    if clean {
        d.flush_tlbs();
    }
    let _ = d.unpause();
    let stats = stats.ok_or(errno::EINVAL)?;
    if req.dirty_bitmap != 0 {
        op.call.write_bytes(req.dirty_bitmap, &bitmap)?;
    }
    Ok(XenDomctlShadowOpStats {
        fault_count: 0,
        dirty_count: stats.dirty_count,
    })
}

/// XEN_DOMCTL_resumedomain: a domain that suspended carries on (the
/// toolstack cancelled the suspend or the save failed).
pub fn resume(_op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    d.resume_from_suspend()
}
