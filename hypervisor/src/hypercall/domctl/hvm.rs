//! The x86 HVM sub-ops a toolstack builds (and later saves) a guest with:
//! its vCPUs' state as HVM context records, its TSC mode, its CPU policy
//! and the size of its paging pool.

use alloc::sync::Arc;
use alloc::vec::Vec;

use rxen_xen_abi::domctl::*;
use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::sysctl::{
    XenCpuidLeaf, XenMsrEntry, CPUID_MAX_SERIALISED_LEAVES, MSR_MAX_SERIALISED_ENTRIES,
};

use super::Op;
use crate::domain::{context, Domain};

/// Largest context blob accepted (a few records per vCPU).
const MAX_CONTEXT: u32 = 1 << 20;
/// How long a context read waits for the vCPUs to leave their CPUs.
const PAUSE_WAIT_NS: u64 = 50_000_000;

/// Runs `f` with the domain paused (its vCPUs off their CPUs).
fn paused<R>(d: &Domain, f: impl FnOnce() -> Result<R, Errno>) -> Result<R, Errno> {
    d.pause()?;
    let result = if d.wait_off_cpu(PAUSE_WAIT_NS) {
        f()
    } else {
        Err(errno::ERESTART)
    };
    let _ = d.unpause();
    result
}

/// XEN_DOMCTL_gethvmcontext: the size with a NULL buffer, else the records.
pub fn get_context(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    if d.id == op.call.dom.id {
        return Err(errno::EINVAL);
    }
    let mut req: DomctlHvmContext = op.payload();
    let blob = paused(d, || context::save(d))?;
    if req.buffer != 0 {
        if (req.size as usize) < blob.len() {
            return Err(errno::ENOSPC);
        }
        op.call.write_bytes(req.buffer, &blob)?;
    }
    req.size = blob.len() as u32;
    op.set_payload(&req);
    Ok(())
}

/// XEN_DOMCTL_sethvmcontext: loads records into the (paused) domain.
pub fn set_context(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    if d.id == op.call.dom.id {
        return Err(errno::EINVAL);
    }
    let req: DomctlHvmContext = op.payload();
    if req.size > MAX_CONTEXT {
        return Err(errno::EINVAL);
    }
    let blob: Vec<u8> = op.call.read_array(req.buffer, req.size as usize)?;
    paused(d, || context::load(d, &blob))
}

/// XEN_DOMCTL_gethvmcontext_partial: one record.
pub fn get_context_partial(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    if d.id == op.call.dom.id {
        return Err(errno::EINVAL);
    }
    let req: DomctlHvmContextPartial = op.payload();
    let blob = paused(d, || context::save(d))?;
    let reader = rxen_hvm_context::stream::Reader::new(&blob).map_err(|e| e.errno())?;
    for record in reader.flatten() {
        if u32::from(record.typecode) == req.kind && u32::from(record.instance) == req.instance {
            if (req.bufsz as usize) < record.body.len() {
                return Err(errno::ENOSPC);
            }
            return op.call.write_bytes(req.buffer, record.body);
        }
    }
    Err(errno::ENOENT)
}

pub fn set_tsc_info(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlTscInfo = op.payload();
    if req.tsc_mode > TSC_MODE_NEVER_EMULATE {
        return Err(errno::EINVAL);
    }
    let mut ts = d.toolstack.lock();
    ts.tsc_mode = req.tsc_mode;
    ts.gtsc_khz = req.gtsc_khz;
    Ok(())
}

pub fn get_tsc_info(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let ts = d.toolstack.lock();
    let info = DomctlTscInfo {
        tsc_mode: ts.tsc_mode,
        gtsc_khz: if ts.gtsc_khz != 0 {
            ts.gtsc_khz
        } else {
            (crate::arch::time::tsc_hz() / 1000) as u32
        },
        ..Default::default()
    };
    drop(ts);
    op.set_payload(&info);
    Ok(())
}

/// XEN_DOMCTL_set_cpu_policy: the leaves the toolstack computed for the
/// guest are kept (and handed back by get_cpu_policy); the guest's CPUID
/// answers stay rxen's own.
pub fn set_cpu_policy(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlCpuPolicy = op.payload();
    if req.nr_leaves > CPUID_MAX_SERIALISED_LEAVES || req.nr_msrs > MSR_MAX_SERIALISED_ENTRIES {
        return Err(errno::E2BIG);
    }
    let leaves: Vec<XenCpuidLeaf> = if req.leaves == 0 {
        Vec::new()
    } else {
        op.call.read_array(req.leaves, req.nr_leaves as usize)?
    };
    if req.msrs != 0 {
        let _: Vec<XenMsrEntry> = op.call.read_array(req.msrs, req.nr_msrs as usize)?;
    }
    if !leaves.is_empty() {
        d.toolstack.lock().cpu_policy = leaves
            .iter()
            .map(|l| [l.leaf, l.subleaf, l.a, l.b, l.c, l.d])
            .collect();
    }
    Ok(())
}

/// XEN_DOMCTL_get_cpu_policy: what was set, or the default PVH policy.
pub fn get_cpu_policy(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let mut req: DomctlCpuPolicy = op.payload();
    let stored = d.toolstack.lock().cpu_policy.clone();
    let leaves = if stored.is_empty() {
        crate::arch::emulate::cpuid::policy_leaves()
    } else {
        stored
    };
    super::super::cpu_policy::write_leaves(op.call, &mut req.nr_leaves, req.leaves, &leaves)?;
    req.nr_msrs = 0;
    op.set_payload(&req);
    Ok(())
}

pub fn set_paging_pool(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlPagingMempool = op.payload();
    if !req.size.is_multiple_of(4096) {
        return Err(errno::EINVAL);
    }
    // Nested page tables come from the hypervisor's memory as they are
    // needed; the pool size is recorded for the toolstack to read back.
    d.toolstack.lock().paging_pool_bytes = req.size;
    Ok(())
}

pub fn get_paging_pool(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let size = d.toolstack.lock().paging_pool_bytes;
    op.set_payload(&DomctlPagingMempool { size });
    Ok(())
}
