//! Domains and the one CPU pool: the domain lists (`xl list`, xentop,
//! oxenstored), cpupool info (pool 0, all CPUs, the credit scheduler) and
//! the pool's scheduler parameters (`xl sched-credit -s`).

use alloc::vec::Vec;

use rxen_xen_abi::domctl::{DomctlGetDomainInfo, XEN_SCHEDULER_CREDIT};
use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::sysctl::*;

use super::Op;
use crate::sync::TicketLock;

/// Entries one list call may return (libxc asks for 1024).
const MAX_LIST: u32 = 4096;

/// The pool's credit parameters (Xen's defaults), as the toolstack set them.
static CREDIT: TicketLock<SysctlCreditSchedule> = TicketLock::new(SysctlCreditSchedule {
    tslice_ms: 30,
    ratelimit_us: 1000,
    vcpu_migr_delay_us: 0,
});

pub fn sched_id(op: &mut Op) -> Result<(), Errno> {
    op.set_payload(&SysctlSchedId {
        sched_id: XEN_SCHEDULER_CREDIT,
    });
    Ok(())
}

/// XEN_SYSCTL_getdomaininfolist: up to `max_domains` domains with ids at or
/// above `first_domain`; 0 of them ends a listing.
pub fn domain_list(op: &mut Op) -> Result<(), Errno> {
    let mut req: SysctlGetDomainInfoList = op.payload();
    let max = req.max_domains.min(MAX_LIST) as usize;
    let infos: Vec<DomctlGetDomainInfo> = crate::domain::all()
        .iter()
        .filter(|d| d.id >= req.first_domain)
        .take(max)
        .map(|d| crate::hypercall::domctl::domain_info(d))
        .collect();
    if !infos.is_empty() {
        op.call.write_array(req.buffer, &infos)?;
    }
    req.num_domains = infos.len() as u32;
    op.set_payload(&req);
    Ok(())
}

/// XEN_SYSCTL_cpupool_op: pool 0 holds every CPU and runs credit.
pub fn cpupool(op: &mut Op) -> Result<(), Errno> {
    let mut req: SysctlCpupoolOp = op.payload();
    match req.op {
        XEN_SYSCTL_CPUPOOL_OP_INFO => {
            // The first pool with an id at or above the one asked for.
            if req.cpupool_id != 0 && req.cpupool_id != XEN_SYSCTL_CPUPOOL_PAR_ANY {
                return Err(errno::ENOENT);
            }
            req.cpupool_id = 0;
            req.sched_id = XEN_SCHEDULER_CREDIT;
            req.n_dom = crate::domain::all().len() as u32;
            write_cpumap(op, &req.cpumap, crate::sched::online_cpus().bits())?;
        }
        XEN_SYSCTL_CPUPOOL_OP_FREEINFO => write_cpumap(op, &req.cpumap, 0)?,
        // One pool only: no pools to make, no CPUs to move.
        _ => return Err(errno::EOPNOTSUPP),
    }
    op.set_payload(&req);
    Ok(())
}

fn write_cpumap(
    op: &Op,
    map: &rxen_xen_abi::domctl::XenctlBitmap,
    bits: u128,
) -> Result<(), Errno> {
    if map.bitmap == 0 {
        return Ok(());
    }
    let bytes = map.nr_bits.div_ceil(8).min(4096) as usize;
    let le = bits.to_le_bytes();
    let buf: Vec<u8> = (0..bytes)
        .map(|i| le.get(i).copied().unwrap_or(0))
        .collect();
    op.call.write_bytes(map.bitmap, &buf)
}

/// XEN_SYSCTL_scheduler_op on pool 0: credit's time slice, rate limit and
/// migration delay, checked against Xen's limits.
pub fn scheduler(op: &mut Op) -> Result<(), Errno> {
    let mut req: SysctlSchedulerOp = op.payload();
    if req.cpupool_id != 0 {
        return Err(errno::ENOENT);
    }
    if req.sched_id != XEN_SCHEDULER_CREDIT {
        return Err(errno::EINVAL);
    }
    match req.cmd {
        XEN_SYSCTL_SCHEDOP_GETINFO => req.set_credit(*CREDIT.lock()),
        XEN_SYSCTL_SCHEDOP_PUTINFO => {
            let p = req.credit();
            let tslice_ok = (XEN_SYSCTL_CSCHED_TSLICE_MIN..=XEN_SYSCTL_CSCHED_TSLICE_MAX)
                .contains(&p.tslice_ms);
            let rate_ok = p.ratelimit_us == 0
                || (XEN_SYSCTL_SCHED_RATELIMIT_MIN..=XEN_SYSCTL_SCHED_RATELIMIT_MAX)
                    .contains(&p.ratelimit_us);
            if !tslice_ok || !rate_ok || p.vcpu_migr_delay_us > XEN_SYSCTL_CSCHED_MGR_DLY_MAX_US {
                return Err(errno::EINVAL);
            }
            *CREDIT.lock() = p;
        }
        _ => return Err(errno::EINVAL),
    }
    op.set_payload(&req);
    Ok(())
}
