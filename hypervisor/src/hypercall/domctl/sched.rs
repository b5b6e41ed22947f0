//! XEN_DOMCTL_scheduler_op: a domain's credit weight and cap (`xl
//! sched-credit -d`). rxen's pool runs the credit scheduler (id 5); asking
//! for another gets -EINVAL, as Xen answers a mismatch.

use alloc::sync::Arc;

use rxen_xen_abi::domctl::*;
use rxen_xen_abi::errno::{self, Errno};

use super::Op;
use crate::domain::Domain;

/// Largest weight (u16) and cap (per cent of one CPU, per vCPU) libxl sends.
const MAX_WEIGHT: u16 = u16::MAX;

pub fn scheduler_op(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let mut req: DomctlSchedulerOp = op.payload();
    if req.sched_id != XEN_SCHEDULER_CREDIT {
        return Err(errno::EINVAL);
    }
    let (weight, cap) = crate::sched::params(d.id).ok_or(errno::ESRCH)?;
    match req.cmd {
        XEN_DOMCTL_SCHEDOP_GETINFO => {
            req.set_credit(DomctlSchedCredit {
                weight: weight.min(u32::from(MAX_WEIGHT)) as u16,
                cap: cap.min(u32::from(u16::MAX)) as u16,
            });
            op.set_payload(&req);
            Ok(())
        }
        XEN_DOMCTL_SCHEDOP_PUTINFO => {
            let new = req.credit();
            // Xen's credit: weight 0 keeps the weight, cap 0xFFFF keeps the cap.
            let weight = if new.weight == 0 {
                weight
            } else {
                u32::from(new.weight)
            };
            let cap = if new.cap == u16::MAX {
                cap
            } else {
                u32::from(new.cap)
            };
            crate::sched::set_params(d.id, weight, cap).map_err(|()| errno::EINVAL)
        }
        _ => Err(errno::EINVAL),
    }
}
