//! The sub-ops `xl save` and `xl restore` use beyond a domain's HVM state
//! (`hvm`): the type of each guest frame (which to copy), log-dirty
//! control, and the resume of a domain whose suspend was cancelled.

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
/// only log-dirty is meaningful. Turning it off succeeds whether or not it
/// was on (every save's cleanup does it).
pub fn shadow_op(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlShadowOp = op.payload();
    match req.op {
        XEN_DOMCTL_SHADOW_OP_OFF => {
            log::debug!("d{}: log-dirty off", d.id);
            Ok(())
        }
        // Log-dirty for live migration is not there yet: the toolstack
        // reports it and the domain keeps running.
        _ => Err(errno::EOPNOTSUPP),
    }
}

/// XEN_DOMCTL_resumedomain: a domain that suspended carries on (the
/// toolstack cancelled the suspend or the save failed).
pub fn resume(_op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    d.resume_from_suspend()
}
